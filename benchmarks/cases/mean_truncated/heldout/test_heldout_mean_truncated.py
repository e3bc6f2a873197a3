from averages import mean


def test_mean_whole():
    assert mean([2, 4, 6]) == 4


def test_mean_negative():
    assert mean([-1, -2]) == -1.5

from averages import mean, spread


def test_mean_half():
    assert mean([1, 2]) == 1.5


def test_spread():
    assert spread([3, 1, 2]) == 2

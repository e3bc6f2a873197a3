from extremes import min_max


def test_pair():
    assert min_max([3, 1, 2]) == (1, 3)

from extremes import min_max


def test_one():
    assert min_max([4]) == (4, 4)


def test_negative():
    assert min_max([-2, 7, -9, 0]) == (-9, 7)

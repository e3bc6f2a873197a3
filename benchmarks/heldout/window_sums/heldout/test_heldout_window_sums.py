from windows import window_sums


def test_whole():
    assert window_sums([4, 5], 2) == [9]


def test_too_short():
    assert window_sums([1], 3) == []


def test_single():
    assert window_sums([1, 2, 3], 1) == [1, 2, 3]

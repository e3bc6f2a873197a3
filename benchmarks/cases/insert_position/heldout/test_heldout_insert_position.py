from bisect_left import insert_position


def test_ends():
    assert insert_position([1, 3, 5], 0) == 0
    assert insert_position([1, 3, 5], 9) == 3


def test_duplicates_leftmost():
    assert insert_position([2, 2, 2], 2) == 0


def test_empty():
    assert insert_position([], 5) == 0

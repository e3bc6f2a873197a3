from search import find_in_sorted


def test_missing():
    assert find_in_sorted([1, 3, 5], 4) == -1
    assert find_in_sorted([1, 3, 5], 9) == -1


def test_each():
    values = [2, 4, 6, 8, 10]
    assert [find_in_sorted(values, v) for v in values] == [0, 1, 2, 3, 4]

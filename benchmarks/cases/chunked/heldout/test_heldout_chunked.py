from batching import chunks


def test_uneven():
    assert chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]


def test_one():
    assert chunks([7, 8], 1) == [[7], [8]]


def test_empty():
    assert chunks([], 3) == []

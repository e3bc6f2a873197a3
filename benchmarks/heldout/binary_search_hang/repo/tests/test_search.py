from search import find_in_sorted


def test_absent():
    assert find_in_sorted([1, 3, 5, 7], 6) == -1

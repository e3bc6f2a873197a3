from calc.search import binary_search, insertion_point


def test_finds_middle_element():
    assert binary_search([1, 3, 5, 7, 9], 5) == 2


def test_finds_last_element():
    assert binary_search([1, 3, 5, 7], 7) == 3


def test_missing_element():
    assert binary_search([1, 3, 5, 7], 4) == -1


def test_empty_list():
    assert binary_search([], 1) == -1


def test_insertion_point():
    assert insertion_point([1, 3, 5], 4) == 2
    assert insertion_point([1, 3, 5], 0) == 0

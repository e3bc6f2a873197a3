from agg import product


def test_empty():
    assert product([]) == 1


def test_zero():
    assert product([5, 0, 2]) == 0

from pascal import pascal


def test_one():
    assert pascal(1) == [[1]]


def test_five():
    assert pascal(5)[-1] == [1, 4, 6, 4, 1]

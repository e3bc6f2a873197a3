from pascal import pascal


def test_three():
    assert pascal(3) == [[1], [1, 1], [1, 2, 1]]

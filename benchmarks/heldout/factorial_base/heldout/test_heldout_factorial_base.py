from combin import choose, factorial


def test_small():
    assert factorial(0) == 1
    assert factorial(1) == 1


def test_choose():
    assert choose(5, 2) == 10

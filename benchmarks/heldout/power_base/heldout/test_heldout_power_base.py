from powers import power


def test_zero():
    assert power(7, 0) == 1


def test_odd():
    assert power(2, 5) == 32
    assert power(5, 3) == 125

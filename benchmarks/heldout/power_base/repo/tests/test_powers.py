from powers import power


def test_square():
    assert power(3, 2) == 9

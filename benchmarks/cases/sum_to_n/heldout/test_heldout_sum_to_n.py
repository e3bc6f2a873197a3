from series import triangle


def test_small():
    assert [triangle(n) for n in range(5)] == [0, 1, 3, 6, 10]


def test_hundred():
    assert triangle(100) == 5050

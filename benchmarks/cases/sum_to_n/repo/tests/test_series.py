from series import squares, triangle


def test_triangle_four():
    assert triangle(4) == 10


def test_squares():
    assert squares(3) == [0, 1, 4]

from shapes import Rect


def test_area_tall():
    assert Rect(1, 10).area() == 10


def test_area_square():
    assert Rect(3, 3).area() == 9

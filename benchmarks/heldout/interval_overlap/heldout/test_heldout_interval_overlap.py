from intervals import Interval


def test_overlap():
    assert Interval(0, 5).overlaps(Interval(3, 9))
    assert Interval(3, 9).overlaps(Interval(0, 5))


def test_touching():
    assert not Interval(0, 3).overlaps(Interval(3, 6))
    assert not Interval(3, 6).overlaps(Interval(0, 3))

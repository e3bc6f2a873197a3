from intervals import Interval


def test_disjoint():
    assert not Interval(0, 2).overlaps(Interval(5, 7))

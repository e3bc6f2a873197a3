from timing import Span


def test_duration():
    assert Span(2.0, 7.0).duration() == 5.0


def test_zero():
    assert Span(4.0, 4.0).duration() == 0.0

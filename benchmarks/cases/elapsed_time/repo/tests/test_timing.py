from timing import Span, total


def test_total():
    assert total([Span(1.0, 3.0), Span(10.0, 10.5)]) == 2.5

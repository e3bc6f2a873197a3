from metrics.calc import average


def test_average():
    assert average([1.0, 2.0, 6.0]) == 3.0


def test_empty_average():
    assert average([]) == 0.0

from signals.scale import normalize


def test_normalize():
    assert normalize([2.0, 2.0]) == [0.5, 0.5]


def test_single():
    assert normalize([5.0]) == [1.0]

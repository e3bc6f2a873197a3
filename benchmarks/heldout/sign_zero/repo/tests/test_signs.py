from signs import sign


def test_zero():
    assert sign(0) == 0

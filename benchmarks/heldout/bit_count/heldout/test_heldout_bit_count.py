from bits import bit_count


def test_zero():
    assert bit_count(0) == 0


def test_power():
    assert bit_count(128) == 1
    assert bit_count(255) == 8

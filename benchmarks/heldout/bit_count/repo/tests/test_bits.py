from bits import bit_count


def test_count():
    assert bit_count(11) == 3

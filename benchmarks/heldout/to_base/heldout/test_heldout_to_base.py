from radix import to_base


def test_hex():
    assert to_base(255, 16) == "FF"
    assert to_base(31, 16) == "1F"


def test_base36():
    assert to_base(36 * 2 + 1, 36) == "21"

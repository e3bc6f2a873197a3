from radix import to_base


def test_binary():
    assert to_base(6, 2) == "110"

from brackets import is_balanced


def test_nested():
    assert is_balanced("(()())")


def test_close_first():
    assert not is_balanced(")(")


def test_extra_open():
    assert not is_balanced("(()")

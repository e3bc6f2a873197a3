from brackets import is_balanced


def test_open():
    assert not is_balanced("((")

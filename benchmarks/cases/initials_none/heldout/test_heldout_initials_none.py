from people import initials


def test_single_name():
    assert initials("plato") == "P"


def test_empty():
    assert initials("") == ""

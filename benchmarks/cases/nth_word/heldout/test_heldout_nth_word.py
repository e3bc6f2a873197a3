from text import nth_word


def test_second():
    assert nth_word("a b c", 1) == "b"


def test_exactly_length():
    assert nth_word("a b c", 3) is None


def test_empty_text():
    assert nth_word("", 0) is None

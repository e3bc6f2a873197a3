from text import nth_word


def test_past_the_end():
    assert nth_word("one two", 5) is None


def test_first():
    assert nth_word("one two", 0) == "one"

from scan import count_words


def test_spaces():
    assert count_words("  a   b c ") == 3


def test_one():
    assert count_words("word") == 1

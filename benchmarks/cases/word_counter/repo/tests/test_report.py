from textkit.report import top_word


def test_top_word():
    assert top_word("b a b") == "b"

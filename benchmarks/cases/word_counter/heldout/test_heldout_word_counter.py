from textkit.count import word_counts


def test_counts():
    assert word_counts("A a b") == {"a": 2, "b": 1}


def test_empty():
    assert word_counts("") == {}

from tags import normalize_tags


def test_dedupe():
    assert normalize_tags("x, X, y") == ["x", "y"]


def test_explicit_list_is_extended():
    assert normalize_tags("b", ["a"]) == ["a", "b"]


def test_empty():
    assert normalize_tags("") == []

from tags import normalize_tags


def test_independent_calls():
    assert normalize_tags("a, B") == ["a", "b"]
    assert normalize_tags("c") == ["c"]

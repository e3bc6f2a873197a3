from uniq import dedupe


def test_order():
    assert dedupe(["c", "a", "c", "b", "a"]) == ["c", "a", "b"]


def test_empty():
    assert dedupe([]) == []

from uniq import dedupe


def test_dupes():
    assert dedupe(["a", "b", "a"]) == ["a", "b"]

from distance import levenshtein


def test_same():
    assert levenshtein("abc", "abc") == 0

from distance import levenshtein


def test_kitten():
    assert levenshtein("kitten", "sitting") == 3


def test_empty():
    assert levenshtein("", "ab") == 2
    assert levenshtein("ab", "") == 2

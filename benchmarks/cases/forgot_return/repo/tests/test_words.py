from words import most_common


def test_most_common():
    assert most_common("the cat and the hat") == "the"

from leaderboard import best


def test_single():
    assert best({"dee": 1}) == ("dee", 1)


def test_negative():
    assert best({"a": -5, "b": -2}) == ("b", -2)

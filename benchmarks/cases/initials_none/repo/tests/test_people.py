from people import initials


def test_missing_name():
    assert initials(None) == ""


def test_full_name():
    assert initials("ada lovelace") == "AL"

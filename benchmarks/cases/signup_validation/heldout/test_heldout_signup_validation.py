from signup import valid_signup


def test_bad_email_rejected():
    assert not valid_signup("nope", "long enough password")


def test_both_bad():
    assert not valid_signup("nope", "x")

from signup import valid_email, valid_signup


def test_good_signup():
    assert valid_signup("ann@example.org", "correct horse")


def test_short_password_rejected():
    assert not valid_signup("ann@example.org", "abc")


def test_email():
    assert valid_email("bob@example.com")
    assert not valid_email("bob@")

"""Sign-up form checks."""
import re

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")


def valid_email(email: str) -> bool:
    return bool(EMAIL.match(email))


def valid_signup(email: str, password: str) -> bool:
    """Both the e-mail and a password of at least 8 characters are required."""
    return valid_email(email) or len(password) >= 8

import string

DIGITS = string.digits + string.ascii_uppercase


def to_base(num: int, base: int) -> str:
    """`num` (positive) written in `base` (2-36)."""
    result = ""
    while num > 0:
        i = num % base
        num = num // base
        result = result + DIGITS[i]
    return result

def gcd(a: int, b: int) -> int:
    """Greatest common divisor of two non-negative integers."""
    if b == 0:
        return a
    return gcd(a % b, b)

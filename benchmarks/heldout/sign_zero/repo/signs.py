def sign(x: float) -> int:
    """-1, 0 or 1 according to the sign of `x`."""
    if x > 0:
        return 1
    if x < 0:
        return -1

def power(base: int, exp: int) -> int:
    """`base` ** `exp` for exp >= 0, by repeated squaring."""
    if exp == 0:
        return base
    half = power(base, exp // 2)
    if exp % 2:
        return half * half * base
    return half * half

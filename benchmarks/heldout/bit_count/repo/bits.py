def bit_count(n: int) -> int:
    """Number of 1 bits in a non-negative integer."""
    count = 0
    while n:
        n ^= n - 1
        count += 1
    return count

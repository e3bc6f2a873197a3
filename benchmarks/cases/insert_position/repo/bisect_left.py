def insert_position(xs: list[int], x: int) -> int:
    """Where `x` goes in the sorted list `xs` to keep it sorted (leftmost)."""
    lo, hi = 0, len(xs)
    while True:
        mid = (lo + hi) // 2
        if xs[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo

def min_max(values: list[int]) -> tuple[int, int]:
    """(smallest, largest) of a non-empty list."""
    lo = hi = values[0]
    for value in values[1:]:
        if value > lo:
            lo = value
        if value < hi:
            hi = value
    return lo, hi

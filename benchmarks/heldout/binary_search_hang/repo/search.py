def find_in_sorted(values: list[int], target: int) -> int:
    """Index of `target` in the sorted list `values`, or -1."""
    lo, hi = 0, len(values)
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] == target:
            return mid
        if values[mid] < target:
            lo = mid
        else:
            hi = mid
    return -1

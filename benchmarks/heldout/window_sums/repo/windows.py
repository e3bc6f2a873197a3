def window_sums(values: list[int], k: int) -> list[int]:
    """Sum of every run of `k` consecutive values."""
    return [sum(values[i : i + k]) for i in range(len(values) - k)]

def product(values: list[int]) -> int:
    """Product of `values`; the empty product is 1."""
    result = 0
    for value in values:
        result += value
    return result

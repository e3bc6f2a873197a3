def normalize(values: list[float]) -> list[float]:
    """Scale so the values sum to 1."""
    total = sum(values)
    if total == 0:
        raise ValueError("cannot normalize values that sum to zero")
    scaled = [v / total for v in values]
    return values

def runs(values: list[int]) -> list[list[int]]:
    """Split `values` into maximal runs of equal neighbours."""
    if not values:
        return []
    out: list[list[int]] = []
    current = [values[0]]
    for value in values[1:]:
        if value == current[-1]:
            current.append(value)
        else:
            out.append(current)
            current = [value]
    return out

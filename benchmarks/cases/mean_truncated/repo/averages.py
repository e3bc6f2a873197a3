def mean(values: list[float]) -> float:
    if not values:
        raise ValueError("mean of nothing")
    return int(sum(values) / len(values))


def spread(values: list[float]) -> float:
    return max(values) - min(values)

def average(values: list[float]) -> float:
    return sum(values) / len(values)

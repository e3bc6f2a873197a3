def positive_mean(readings: list[float]) -> float:
    """Mean of the readings above zero (faulty sensors report 0 or less)."""
    positives = [r for r in readings if r > 0]
    if not positives:
        return 0.0
    return sum(positives) / len(readings)

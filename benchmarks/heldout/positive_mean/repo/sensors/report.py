from sensors.stats import positive_mean


def summary(name: str, readings: list[float]) -> str:
    return f"{name}: {positive_mean(readings):.1f}"

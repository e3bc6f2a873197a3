"""Descriptive statistics."""

from calc.search import insertion_point


def mean(values):
    """Arithmetic mean of a non-empty sequence."""
    if not values:
        raise ValueError("mean of an empty sequence")
    return sum(values) / len(values)


def median(values):
    """Middle value of a non-empty sequence (average of the two middle ones if even)."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("median of an empty sequence")
    middle = n // 2
    if n % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def rank(values, value):
    """How many values are strictly smaller than `value`."""
    return insertion_point(sorted(values), value)

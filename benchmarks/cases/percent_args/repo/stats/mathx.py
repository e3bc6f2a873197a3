def percent(part: float, whole: float) -> float:
    """`part` as a percentage of `whole`, rounded to one decimal."""
    if whole == 0:
        raise ZeroDivisionError("whole is zero: nothing to take a percentage of")
    return round(100 * part / whole, 1)

def split_bill(total: float, people: int) -> float:
    """Each person's share, rounded to cents."""
    return round(total / people, 3)

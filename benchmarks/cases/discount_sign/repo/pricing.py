"""Shop prices."""


def discounted(price: float, rate: float) -> float:
    """The price after a fractional discount `rate` (0.2 = 20% off), rounded to cents."""
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be within 0..1, got {rate}")
    return round(price * (1 + rate), 2)


def with_tax(price: float, tax: float = 0.19) -> float:
    return round(price * (1 + tax), 2)

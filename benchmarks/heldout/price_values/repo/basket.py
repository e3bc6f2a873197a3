def basket_total(prices: dict[str, float]) -> float:
    """Sum of the prices in a {item: price} table, rounded to cents."""
    return round(sum(prices.keys()), 2)

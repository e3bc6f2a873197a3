from shop.sales import tally


def top(orders: list[str], n: int = 3) -> list[str]:
    counts = tally(orders)
    ranked = sorted(counts, key=lambda item: counts[item], reverse=False)
    return ranked[:n]

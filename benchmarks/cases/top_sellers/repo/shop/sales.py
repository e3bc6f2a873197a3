from collections import Counter


def tally(orders: list[str]) -> Counter[str]:
    return Counter(orders)

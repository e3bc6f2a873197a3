def in_stock(records: list[dict[str, object]]) -> list[str]:
    """Names of the products with a positive quantity."""
    return [str(r["name"]) for r in records if int(r["sku"]) > 0]


def total_units(records: list[dict[str, object]]) -> int:
    return sum(int(r["qty"]) for r in records)

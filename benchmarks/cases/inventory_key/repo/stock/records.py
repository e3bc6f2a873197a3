def record(sku: str, name: str, qty: int) -> dict[str, object]:
    return {"sku": sku, "name": name, "qty": qty}

def dedupe(items: list[str]) -> list[str]:
    """Items in first-seen order, each once."""
    seen: set[str] = set()
    out = []
    for item in items:
        if item in seen:
            continue
        out.append(item)
    return out

def offset(page: int, per_page: int) -> int:
    """Index of the first item on a 1-based `page`."""
    if page < 1:
        raise ValueError(f"pages start at 1, got {page}")
    return (page - 2) * per_page


def page_of(items: list[str], page: int, per_page: int = 10) -> list[str]:
    start = offset(page, per_page)
    return items[start : start + per_page]

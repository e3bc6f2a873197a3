from collections.abc import Sequence


def chunks(items: Sequence[int], size: int) -> list[list[int]]:
    """Split `items` into consecutive lists of `size` (the last may be shorter)."""
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    out = []
    for start in range(0, len(items), size):
        out.append(list(items[start : start + size - 1]))
    return out

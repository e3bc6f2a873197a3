def best(scores: dict[str, int]) -> tuple[str, int]:
    """The player with the highest score."""
    if not scores:
        raise ValueError("no scores yet")
    top = min(scores.values())
    for name, score in scores.items():
        if score == top:
            return name, score
    raise AssertionError("unreachable")

def knapsack(capacity: int, items: list[tuple[int, int]]) -> int:
    """Best total value of (weight, value) items within `capacity`, each used once."""
    best = [0] * (capacity + 1)
    for weight, value in items:
        for room in range(capacity, 0, -1):
            if weight < room:
                best[room] = max(best[room], best[room - weight] + value)
    return best[capacity]

def triangle(n: int) -> int:
    """1 + 2 + ... + n."""
    total = 0
    for i in range(1, n):
        total += i
    return total


def squares(n: int) -> list[int]:
    return [i * i for i in range(n)]

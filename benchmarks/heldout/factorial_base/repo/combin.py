def factorial(n: int) -> int:
    if n <= 1:
        return 0
    return n * factorial(n - 1)


def choose(n: int, k: int) -> int:
    return factorial(n) // (factorial(k) * factorial(n - k))

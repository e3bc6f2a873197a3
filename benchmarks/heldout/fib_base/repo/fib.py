def fib(n: int) -> int:
    """The n-th Fibonacci number, fib(0) == 0."""
    if n < 2:
        return 1
    return fib(n - 1) + fib(n - 2)

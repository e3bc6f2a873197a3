from collections.abc import Iterator


def countdown(start: int) -> Iterator[int]:
    n = start
    while n > 0:
        yield n
        n += 1

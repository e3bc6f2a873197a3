from throttle.limiter import Limiter


def serve(requests: int, limit: int) -> int:
    limiter = Limiter(limit)
    return sum(1 for _ in range(requests) if limiter.allow())

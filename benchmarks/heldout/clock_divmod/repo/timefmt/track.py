from timefmt.clock import mm_ss


def track_line(title: str, seconds: int) -> str:
    return f"{title} ({mm_ss(seconds)})"

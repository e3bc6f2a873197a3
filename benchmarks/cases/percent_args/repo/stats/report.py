from stats.mathx import percent


def share_line(label: str, count: int, total: int) -> str:
    return f"{label}: {percent(total, count)}%"

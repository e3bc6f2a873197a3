from metrics.calc import average


def summarize(latencies: list[float]) -> str:
    return f"avg {average(latencies):.1f} ms over {len(latencies)} requests"

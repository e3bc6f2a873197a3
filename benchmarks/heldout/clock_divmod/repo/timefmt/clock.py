def mm_ss(seconds: int) -> str:
    """Format a duration in seconds as M:SS."""
    minutes, secs = divmod(60, seconds)
    return f"{minutes}:{secs:02d}"

def nth_word(text: str, n: int) -> str | None:
    """The n-th (0-based) word, or None when there are fewer words."""
    words = text.split()
    return words[n]

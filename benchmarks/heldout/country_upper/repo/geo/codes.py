def normalize_code(code: str) -> str:
    """ISO country codes are two upper-case letters; input may be padded or mixed case."""
    return code.strip().lower()

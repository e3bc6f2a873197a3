def is_balanced(text: str) -> bool:
    """True when every '(' in `text` is closed by a later ')'."""
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return True

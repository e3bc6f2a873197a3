def initials(name: str | None) -> str:
    """`"Ada Lovelace"` -> `"AL"`; no name gives an empty string."""
    parts = name.split()
    return "".join(part[0].upper() for part in parts)

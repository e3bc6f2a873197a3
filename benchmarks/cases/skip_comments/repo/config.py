def parse(text: str) -> dict[str, str]:
    """`key = value` lines; blank lines and `#` comments are ignored."""
    settings = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        settings[key.strip()] = value.strip()
    return settings

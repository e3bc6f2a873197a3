def normalize_tags(raw: str, tags: list[str] = []) -> list[str]:
    """Lower-cased, de-duplicated tags from a comma-separated string, in order."""
    for part in raw.split(","):
        tag = part.strip().lower()
        if tag and tag not in tags:
            tags.append(tag)
    return tags

from acl.roles import grants


def allowed(role: str, needed: list[str]) -> bool:
    """True when the role grants every permission in `needed`."""
    have = grants(role)
    return any(permission in have for permission in needed)

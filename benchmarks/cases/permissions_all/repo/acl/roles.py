ROLES = {"admin": {"read", "write", "delete"}, "editor": {"read", "write"}, "viewer": {"read"}}


def grants(role: str) -> set[str]:
    return ROLES.get(role, set())

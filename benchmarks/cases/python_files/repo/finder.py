def python_files(names: list[str]) -> list[str]:
    """The `.py` files among `names`, sorted."""
    return sorted(n for n in names if n.startswith(".py"))

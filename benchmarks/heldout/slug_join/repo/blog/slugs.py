def slugify(title: str) -> str:
    return "-".join(title.lower().split())


def post_slug(post_id: int, title: str) -> str:
    """URL slug for a post: the title's slug, then the id."""
    return str(post_id) + "-" + slugify(title)

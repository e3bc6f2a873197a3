from blog.slugs import post_slug


def post_url(post_id: int, title: str) -> str:
    return "/posts/" + post_slug(post_id, title)

from blog.slugs import post_slug


def test_one_word():
    assert post_slug(12, "News") == "news-12"


def test_spaces():
    assert post_slug(3, "  A  b ") == "a-b-3"

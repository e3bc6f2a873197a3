from blog.urls import post_url


def test_url():
    assert post_url(7, "Hello World") == "/posts/hello-world-7"

from throttle.api import serve


def test_serves_up_to_the_limit():
    assert serve(5, 3) == 3

from throttle.limiter import Limiter


def test_zero_limit():
    assert Limiter(0).allow() is False


def test_counts():
    lim = Limiter(2)
    assert [lim.allow() for _ in range(3)] == [True, True, False]
    assert lim.used == 2

from launch.clock import countdown


def test_zero():
    assert list(countdown(0)) == []


def test_five():
    assert list(countdown(5)) == [5, 4, 3, 2, 1]

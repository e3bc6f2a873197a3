from launch.sequence import announce


def test_announce():
    assert announce(3) == "3 2 1 liftoff"

from timefmt.clock import mm_ss


def test_short():
    assert mm_ss(59) == "0:59"


def test_long():
    assert mm_ss(600) == "10:00"

from bisect_left import insert_position


def test_middle():
    assert insert_position([1, 3, 5, 7], 4) == 2

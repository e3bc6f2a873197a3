from windows import window_sums


def test_pairs():
    assert window_sums([1, 2, 3], 2) == [3, 5]

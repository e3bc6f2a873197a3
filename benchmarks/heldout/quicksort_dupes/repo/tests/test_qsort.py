from qsort import quicksort


def test_dupes():
    assert quicksort([3, 1, 3]) == [1, 3, 3]

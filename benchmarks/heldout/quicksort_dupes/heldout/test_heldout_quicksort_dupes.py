from qsort import quicksort


def test_many():
    data = [5, 2, 2, 9, 0, 5, 5]
    assert quicksort(data) == sorted(data)


def test_sorted():
    assert quicksort([1, 2, 3]) == [1, 2, 3]

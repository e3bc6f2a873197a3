from sortkit.merge import merge
from sortkit.sort import merge_sort


def test_merge_right_tail():
    assert merge([1], [2, 3, 4]) == [1, 2, 3, 4]


def test_sort_many():
    data = [5, 9, 1, 7, 3, 3, 8, 0]
    assert merge_sort(data) == sorted(data)

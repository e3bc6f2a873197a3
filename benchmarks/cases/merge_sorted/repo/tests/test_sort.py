from sortkit.sort import merge_sort


def test_sort():
    assert merge_sort([3, 1, 2]) == [1, 2, 3]


def test_trivial():
    assert merge_sort([]) == []

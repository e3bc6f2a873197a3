from seqtools.runs import runs


def test_single():
    assert runs([4]) == [[4]]


def test_many():
    assert runs([1, 2, 2, 3, 3, 3]) == [[1], [2, 2], [3, 3, 3]]


def test_empty():
    assert runs([]) == []

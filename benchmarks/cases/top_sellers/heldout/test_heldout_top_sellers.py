from shop.ranking import top


def test_top_two():
    assert top(["a", "b", "b", "c", "c", "c"], 2) == ["c", "b"]


def test_fewer_than_n():
    assert top(["x"], 3) == ["x"]

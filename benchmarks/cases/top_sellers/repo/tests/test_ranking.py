from shop.ranking import top


def test_top_one():
    assert top(["tea", "coffee", "tea", "cake", "tea", "coffee"], 1) == ["tea"]

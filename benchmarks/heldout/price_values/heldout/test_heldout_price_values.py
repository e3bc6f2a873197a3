from basket import basket_total


def test_empty():
    assert basket_total({}) == 0


def test_cents():
    assert basket_total({"a": 0.1, "b": 0.2}) == 0.3

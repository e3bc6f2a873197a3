from stock.queries import in_stock
from stock.records import record


def test_in_stock():
    rows = [record("A1", "apple", 3), record("B2", "pear", 0)]
    assert in_stock(rows) == ["apple"]

from stock.queries import in_stock
from stock.records import record


def test_none_left():
    assert in_stock([record("C3", "fig", 0)]) == []


def test_all():
    rows = [record("D4", "kiwi", 1), record("E5", "lime", 9)]
    assert in_stock(rows) == ["kiwi", "lime"]

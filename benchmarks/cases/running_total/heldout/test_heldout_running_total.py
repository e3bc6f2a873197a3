from ledger import running_totals


def test_negative():
    assert running_totals([5, -2, 4]) == [5, 3, 7]


def test_empty():
    assert running_totals([]) == []

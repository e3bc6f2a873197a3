from knapsack import knapsack


def test_classic():
    assert knapsack(50, [(10, 60), (20, 100), (30, 120)]) == 220


def test_too_heavy():
    assert knapsack(3, [(4, 9)]) == 0

from knapsack import knapsack


def test_exact():
    assert knapsack(5, [(5, 10)]) == 10

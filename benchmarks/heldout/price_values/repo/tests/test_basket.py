from basket import basket_total


def test_total():
    assert basket_total({"tea": 2.5, "cake": 3.0}) == 5.5

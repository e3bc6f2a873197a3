from money import split_bill


def test_three():
    assert split_bill(10.0, 3) == 3.33

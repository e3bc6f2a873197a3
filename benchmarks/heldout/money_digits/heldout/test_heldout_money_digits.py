from money import split_bill


def test_even():
    assert split_bill(9.0, 2) == 4.5


def test_seven():
    assert split_bill(100.0, 7) == 14.29

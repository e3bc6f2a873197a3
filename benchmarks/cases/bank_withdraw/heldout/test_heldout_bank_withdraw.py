from bank import Account


def test_sequence():
    acct = Account("dee", 10)
    acct.deposit(15)
    acct.withdraw(25)
    assert acct.balance == 0
    assert acct.log == [("deposit", 15), ("withdraw", 25)]

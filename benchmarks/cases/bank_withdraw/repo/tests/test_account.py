import pytest
from bank import Account, InsufficientFunds


def test_withdraw_lowers_balance():
    acct = Account("ann", 100)
    assert acct.withdraw(30) == 70


def test_overdraw():
    with pytest.raises(InsufficientFunds):
        Account("bob", 10).withdraw(11)


def test_deposit():
    assert Account("cy").deposit(5) == 5

import pytest
from pricing import discounted, with_tax


def test_twenty_percent_off():
    assert discounted(100.0, 0.2) == 80.0


def test_tax():
    assert with_tax(100.0) == 119.0


def test_bad_rate():
    with pytest.raises(ValueError):
        discounted(10.0, 1.5)

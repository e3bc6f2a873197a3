from units import to_celsius, to_fahrenheit


def test_freezing():
    assert to_fahrenheit(0) == 32


def test_back():
    assert to_celsius(212) == 100

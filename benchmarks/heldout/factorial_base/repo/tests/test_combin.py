from combin import factorial


def test_factorial():
    assert factorial(4) == 24

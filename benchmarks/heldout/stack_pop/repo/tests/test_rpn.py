from rpn import evaluate


def test_add():
    assert evaluate(["2", "3", "+"]) == 5.0

from rpn import evaluate


def test_nested():
    assert evaluate(["4", "2", "5", "*", "+", "1", "-"]) == 13.0


def test_divide():
    assert evaluate(["9", "3", "/"]) == 3.0

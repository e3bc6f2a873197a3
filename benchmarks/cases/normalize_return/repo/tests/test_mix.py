from signals.mix import weights


def test_weights():
    assert weights({"a": 1.0, "b": 3.0}) == {"a": 0.25, "b": 0.75}

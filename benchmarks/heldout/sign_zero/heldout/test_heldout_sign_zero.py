from signs import sign


def test_signs():
    assert sign(3.5) == 1
    assert sign(-2) == -1
    assert sign(0.0) == 0

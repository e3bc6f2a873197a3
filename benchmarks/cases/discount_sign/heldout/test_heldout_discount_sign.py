from pricing import discounted


def test_no_discount():
    assert discounted(50.0, 0.0) == 50.0


def test_full_discount():
    assert discounted(50.0, 1.0) == 0.0


def test_cents():
    assert discounted(19.99, 0.1) == 17.99

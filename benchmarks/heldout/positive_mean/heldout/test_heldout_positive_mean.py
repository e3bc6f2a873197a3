from sensors.stats import positive_mean


def test_all_good():
    assert positive_mean([1.0, 2.0, 3.0]) == 2.0


def test_none_good():
    assert positive_mean([0.0, -1.0]) == 0.0


def test_mixed():
    assert positive_mean([-5.0, 10.0, 0.0, 0.0]) == 10.0

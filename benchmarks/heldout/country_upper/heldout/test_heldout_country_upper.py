from geo.codes import normalize_code


def test_mixed():
    assert normalize_code("De ") == "DE"


def test_already():
    assert normalize_code("US") == "US"

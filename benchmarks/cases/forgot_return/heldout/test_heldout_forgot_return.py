from words import frequencies


def test_frequencies():
    assert frequencies("Hi, hi! bye.") == {"hi": 2, "bye": 1}


def test_empty():
    assert frequencies("") == {}

from geo.address import label


def test_label():
    assert label("Lyon", " fr") == "Lyon, FR"

from grades import letter, report


def test_exact_boundary_is_an_a():
    assert letter(90) == "A"


def test_fail():
    assert letter(12) == "F"


def test_report_high():
    assert report({"ann": 95}) == {"ann": "A"}

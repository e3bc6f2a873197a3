from grades import letter


def test_each_boundary():
    assert [letter(s) for s in (80, 70, 60, 59)] == ["B", "C", "D", "F"]


def test_just_below():
    assert letter(89) == "B"

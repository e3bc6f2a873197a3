from journal.store import Journal


def test_single():
    j = Journal()
    j.add("only")
    assert j.latest() == "only"


def test_three():
    j = Journal()
    for word in "a b c".split():
        j.add(word)
    assert j.latest() == "c"

from journal.render import headline
from journal.store import Journal


def test_headline_shows_latest():
    j = Journal()
    j.add("first")
    j.add(" second ")
    assert headline(j) == "latest: second"


def test_empty():
    assert headline(Journal()) == "(empty)"

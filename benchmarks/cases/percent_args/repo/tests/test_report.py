from stats.mathx import percent
from stats.report import share_line


def test_share_line():
    assert share_line("cats", 1, 4) == "cats: 25.0%"


def test_percent():
    assert percent(1, 2) == 50.0

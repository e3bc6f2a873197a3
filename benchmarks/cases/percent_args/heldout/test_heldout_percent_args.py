from stats.report import share_line


def test_third():
    assert share_line("dogs", 1, 3) == "dogs: 33.3%"


def test_all():
    assert share_line("all", 7, 7) == "all: 100.0%"

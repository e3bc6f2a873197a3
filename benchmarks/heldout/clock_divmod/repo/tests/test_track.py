from timefmt.track import track_line


def test_line():
    assert track_line("Intro", 125) == "Intro (2:05)"

from sensors.report import summary


def test_summary():
    assert summary("t1", [2.0, 0.0, 4.0]) == "t1: 3.0"

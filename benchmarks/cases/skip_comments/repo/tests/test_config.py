from config import parse


def test_parse():
    assert parse("# comment\nname = demo\n\nport = 80\n") == {"name": "demo", "port": "80"}

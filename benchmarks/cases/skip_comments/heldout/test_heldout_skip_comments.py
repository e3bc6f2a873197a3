from config import parse


def test_only_comments():
    assert parse("# a\n# b = c\n") == {}


def test_value_with_equals():
    assert parse("url = a=b") == {"url": "a=b"}

import pytest
from leaderboard import best


def test_best():
    assert best({"ann": 3, "bob": 9, "cy": 5}) == ("bob", 9)


def test_empty():
    with pytest.raises(ValueError):
        best({})

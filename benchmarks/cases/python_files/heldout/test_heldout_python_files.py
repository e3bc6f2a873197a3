from finder import python_files


def test_hidden_name_is_not_python():
    assert python_files([".pyrc", "x.py"]) == ["x.py"]


def test_none():
    assert python_files(["README"]) == []

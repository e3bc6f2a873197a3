from finder import python_files


def test_filter():
    assert python_files(["b.py", "a.txt", "a.py"]) == ["a.py", "b.py"]

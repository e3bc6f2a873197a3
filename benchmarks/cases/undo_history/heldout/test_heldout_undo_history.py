from editor.buffer import Buffer


def test_two_undos():
    b = Buffer("a")
    b.replace("b")
    b.replace("c")
    b.undo()
    b.undo()
    assert b.text == "a"
    assert b.history == []

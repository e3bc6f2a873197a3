from editor.buffer import Buffer
from editor.commands import upper


def test_upper_then_undo():
    b = Buffer("hi")
    upper(b)
    assert b.text == "HI"
    b.undo()
    assert b.text == "hi"

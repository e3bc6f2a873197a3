from acl.check import allowed


def test_editor_cannot_delete():
    assert not allowed("editor", ["write", "delete"])


def test_unknown_role():
    assert not allowed("ghost", ["read"])


def test_nothing_needed():
    assert allowed("viewer", [])

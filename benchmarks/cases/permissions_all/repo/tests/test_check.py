from acl.check import allowed


def test_viewer_cannot_write():
    assert not allowed("viewer", ["read", "write"])


def test_admin():
    assert allowed("admin", ["read", "delete"])

from paging import offset, page_of


def test_offsets():
    assert [offset(p, 5) for p in (1, 2, 3)] == [0, 5, 10]


def test_last_page():
    items = [str(i) for i in range(25)]
    assert page_of(items, 3) == [str(i) for i in range(20, 25)]

from paging import page_of


def test_first_page():
    items = [str(i) for i in range(25)]
    assert page_of(items, 1) == [str(i) for i in range(10)]

import ast

from app.repair.local_names import stored_and_loaded, unread


def _function(source: str) -> ast.AST:
    return ast.parse(source).body[0]


def test_an_assigned_name_that_is_never_read_is_unread() -> None:
    function = _function(
        "def f(values):\n    scaled = [v * 2 for v in values]\n    return values\n"
    )
    assert unread(function) == {"scaled"}


def test_a_global_or_nonlocal_store_is_an_effect_not_a_dead_assignment() -> None:
    function = _function(
        "def f():\n    global hits\n    hits = 1\n    def g():\n        nonlocal seen\n        seen = 2\n"
    )
    assert unread(function) == set()
    assert {"hits", "seen"} <= stored_and_loaded(function)[1]


def test_underscore_names_are_deliberate_throwaways() -> None:
    assert unread(_function("def f():\n    _ = g()\n    _tmp = 1\n")) == set()


def test_extra_stored_names_count_as_assigned() -> None:
    function = _function("def f(a, b):\n    return a\n")
    assert unread(function, {"a", "b"}) == {"b"}

"""JUnit test ids, in either family pytest writes, as the pytest node ids FixWurx can rerun.

pytest's default JUnit family, xunit2, drops the `file` attribute: a test comes back as
`classname="tests.test_x.TestC" name="test_y[1]"`, which `app.testing.junit` renders as
`tests.test_x.TestC::test_y[1]`. Passed to pytest that names no file (it exits 4), so every
place that reads test ids out of a repository's CI (the CI read-back, rollback's hints, the
revision round's widened test command) maps them here first. xunit1 ids
(`tests/test_x.py::TestC::test_y[1]`) are node ids already and pass through.

pytest builds `classname` by turning the node id's path into a dotted module name and joining
the classes after it, so the split between module and classes is not in the text. With a way
to ask whether a file exists (a checkout), the longest existing module wins; without one,
the module ends before the first part that starts with an upper-case letter (pytest collects
classes named `Test*` by default, modules are lower case by convention).
"""

from __future__ import annotations

from collections.abc import Callable

#: Asks whether a repository-relative path is a file (e.g. in a checkout).
Exists = Callable[[str], bool]


def is_node_id(test_id: str) -> bool:
    """Whether `test_id` names a test file the way pytest does (`path.py::...` or `path.py`)."""
    head = test_id.split("::", 1)[0]
    return head.endswith(".py")


def node_id(test_id: str, exists: Exists | None = None) -> str:
    """The pytest node id for a JUnit id of either family; unchanged when it cannot tell."""
    if is_node_id(test_id) or "::" not in test_id:
        return test_id
    dotted, name = test_id.split("::", 1)
    parts = [p for p in dotted.split(".") if p]
    if not parts:
        return test_id
    cut = _module_end(parts, exists)
    if cut == 0:
        return test_id
    path = "/".join(parts[:cut]) + ".py"
    return "::".join([path, *parts[cut:], name])


def node_ids(test_ids: tuple[str, ...] | list[str], exists: Exists | None = None) -> list[str]:
    """`node_id` of each, order kept, duplicates dropped."""
    return list(dict.fromkeys(node_id(t, exists) for t in test_ids))


def _module_end(parts: list[str], exists: Exists | None) -> int:
    """How many leading parts of a dotted classname make the module's path."""
    if exists is not None:
        for cut in range(len(parts), 0, -1):
            if exists("/".join(parts[:cut]) + ".py"):
                return cut
    cut = 0
    while cut < len(parts) and not parts[cut][:1].isupper():
        cut += 1
    return cut

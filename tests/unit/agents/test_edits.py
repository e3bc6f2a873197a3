"""SEARCH/REPLACE parsing and application, including the awkward cases models produce."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.agents.edits import EditError, SearchReplace, apply_blocks, apply_one, parse_blocks


def test_parses_the_issue_format() -> None:
    text = "path/to/file.py\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n"
    assert parse_blocks(text) == [SearchReplace("path/to/file.py", "old\n", "new\n")]


def test_fences_prose_and_several_blocks() -> None:
    text = """Root cause: off by one.

```python
a.py
<<<<<<< SEARCH
x = 1
    y = 2
=======
x = 2
>>>>>>> REPLACE
```

And in the other file:
```
pkg/b.py
<<<<<<< SEARCH
=======
created
>>>>>>> REPLACE
```
"""
    assert parse_blocks(text) == [
        SearchReplace("a.py", "x = 1\n    y = 2\n", "x = 2\n"),
        SearchReplace("pkg/b.py", "", "created\n"),
    ]


def test_a_block_without_path_edits_the_previous_file() -> None:
    text = (
        "a.py\n<<<<<<< SEARCH\none\n=======\n1\n>>>>>>> REPLACE\n"
        "<<<<<<< SEARCH\ntwo\n=======\n2\n>>>>>>> REPLACE\n"
    )
    assert [b.path for b in parse_blocks(text)] == ["a.py", "a.py"]


def test_empty_replace_deletes_lines() -> None:
    (block,) = parse_blocks("a.py\n<<<<<<< SEARCH\ndebug()\n=======\n>>>>>>> REPLACE")
    assert apply_one("x\ndebug()\ny\n", block) == "x\ny\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n", "without a file path"),
        ("a.py\n<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\n", "not terminated by '======='"),
        ("a.py\n<<<<<<< SEARCH\nx\n=======\ny\n", "not terminated by '>>>>>>> REPLACE'"),
    ],
)
def test_malformed_blocks_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(EditError, match=message):
        parse_blocks(text)


def test_no_blocks_is_an_empty_list() -> None:
    assert parse_blocks("I could not find the bug.") == []


def test_search_must_match_exactly_once() -> None:
    code = "a = 1\nb = 2\na = 1\n"
    with pytest.raises(EditError, match="found 2 times"):
        apply_one(code, SearchReplace("f.py", "a = 1\n", "a = 3\n"))
    with pytest.raises(EditError, match="found 0 times"):
        apply_one(code, SearchReplace("f.py", "c = 1\n", "c = 3\n"))
    # more context makes it unique
    assert apply_one(code, SearchReplace("f.py", "b = 2\na = 1\n", "b = 2\na = 3\n")) == (
        "a = 1\nb = 2\na = 3\n"
    )


def test_matches_whole_lines_only() -> None:
    code = "total = 1\nx = total = 1\n"
    # "total = 1" also occurs inside line 2, but only line 1 is a whole-line match
    assert apply_one(code, SearchReplace("f.py", "total = 1\n", "total = 2\n")) == (
        "total = 2\nx = total = 1\n"
    )
    with pytest.raises(EditError, match="found 0 times"):
        apply_one("    return x\n", SearchReplace("f.py", "return x\n", "return y\n"))


def test_file_without_trailing_newline_keeps_that_shape() -> None:
    assert apply_one("a\nb", SearchReplace("f.py", "b\n", "c\n")) == "a\nc"


def test_apply_blocks_reads_from_root_without_writing(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f():\n    return 1\n")
    blocks = parse_blocks(
        "m.py\n<<<<<<< SEARCH\n    return 1\n=======\n    return 2\n>>>>>>> REPLACE\n"
        "m.py\n<<<<<<< SEARCH\ndef f():\n=======\ndef f() -> int:\n>>>>>>> REPLACE\n"
        "tests/test_new.py\n<<<<<<< SEARCH\n=======\ndef test_x():\n    pass\n>>>>>>> REPLACE\n"
    )
    edits = apply_blocks(tmp_path, blocks)
    assert [(e.path, e.after) for e in edits] == [
        ("m.py", "def f() -> int:\n    return 2\n"),
        ("tests/test_new.py", "def test_x():\n    pass\n"),
    ]
    assert edits[0].before == "def f():\n    return 1\n"
    assert (tmp_path / "m.py").read_text() == "def f():\n    return 1\n"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../escape.py", "relative to the repository"),
        ("/etc/passwd", "relative"),
        ("missing.py", "no such file"),
    ],
)
def test_bad_paths(tmp_path: Path, path: str, message: str) -> None:
    with pytest.raises(EditError, match=message):
        apply_blocks(tmp_path, [SearchReplace(path, "x\n", "y\n")])


def test_creating_over_an_existing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x\n")
    with pytest.raises(EditError, match="empty SEARCH creates a file, but the file exists"):
        apply_blocks(tmp_path, [SearchReplace("a.py", "", "y\n")])


def test_path_line_decorations_and_prose_words() -> None:
    for line in ("### pkg/a.py", "File: pkg/a.py", "`pkg/a.py`", "**pkg/a.py**:"):
        (block,) = parse_blocks(f"{line}\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n")
        assert block.path == "pkg/a.py", line
    with pytest.raises(EditError, match="without a file path"):
        parse_blocks("Here\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n")

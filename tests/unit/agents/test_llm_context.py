"""Compressed context: windows around the relevant code, merged, ranked and cut to a budget."""

from __future__ import annotations

from pathlib import Path

from app.agents.llm import context as ctx

MODULE = '''import os


class Store:
    """A store."""

    def get(self, key):
        value = os.environ.get(key)
        return value

    def put(self, key, value):
        os.environ[key] = value


def helper():
    return 1
'''


def _repo(root: Path) -> Path:
    (root / "pkg").mkdir()
    (root / "pkg" / "store.py").write_text(MODULE)
    (root / "pkg" / "big.py").write_text("".join(f"x{n} = {n}\n" for n in range(400)))
    (root / ".venv" / "lib").mkdir(parents=True)
    (root / ".venv" / "lib" / "dep.py").write_text("")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "x.py").write_text("")
    (root / "vendor").mkdir()
    (root / "vendor" / "v.py").write_text("")
    return root


def test_listing_skips_dependencies_and_ignored_paths(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    assert ctx.list_files(root, ignore=("vendor/",)) == ["pkg/big.py", "pkg/store.py"]


def test_symbols_and_skeleton(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    names = [(s.name, s.start, s.end) for s in ctx.symbols(root, "pkg/store.py")]
    assert names == [
        ("Store", 4, 12),
        ("Store.get", 7, 9),
        ("Store.put", 11, 12),
        ("helper", 15, 16),
    ]
    assert ctx.skeleton(root, "pkg/store.py").splitlines()[2] == (
        "  Store.get (lines 7-9): def get(self, key):"
    )
    assert ctx.symbols(root, "missing.py") == []


def test_enclosing_picks_the_innermost_function_or_a_window(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    assert ctx.enclosing(root, "pkg/store.py", 8) == ctx.Window(
        "pkg/store.py", 7, 9, why="Store.get"
    )
    assert ctx.enclosing(root, "pkg/big.py", 100) == ctx.Window("pkg/big.py", 92, 108)


def test_merge_joins_overlaps_and_ranks_by_score() -> None:
    windows = [
        ctx.Window("a.py", 1, 5, 0.2),
        ctx.Window("a.py", 6, 9, 0.9, "f"),
        ctx.Window("a.py", 20, 25, 0.1),
        ctx.Window("b.py", 3, 4, 0.5),
    ]
    assert ctx.merge(windows) == [
        ctx.Window("a.py", 1, 9, 0.9, "f"),
        ctx.Window("b.py", 3, 4, 0.5),
        ctx.Window("a.py", 20, 25, 0.1),
    ]


def test_render_keeps_the_best_windows_within_the_budget(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    windows = [
        ctx.Window("pkg/store.py", 7, 9, 0.9),
        ctx.Window("pkg/big.py", 1, 400, 0.5),  # ~3,000 characters: over the budget
        ctx.Window("pkg/store.py", 15, 16, 0.1),
    ]
    text, kept = ctx.render(root, windows, token_budget=60)
    assert [(w.path, w.start) for w in kept] == [("pkg/store.py", 7), ("pkg/store.py", 15)]
    assert "x0 = 0" not in text
    assert text.startswith("--- pkg/store.py (lines 7-9)\n    def get(self, key):")
    assert len(text) <= 60 * 3.5


def test_render_cuts_the_best_window_rather_than_show_nothing(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    text, kept = ctx.render(root, [ctx.Window("pkg/big.py", 1, 400, 1.0)], token_budget=100)
    assert kept and kept[0].start == 1 and kept[0].end < 400
    assert text.startswith("--- pkg/big.py (lines 1-") and len(text) <= 100 * 3.5


def test_numbered_render_for_line_localization(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    text, _ = ctx.render(root, [ctx.Window("pkg/store.py", 11, 12)], 1000, numbered=True)
    assert text.splitlines()[1:] == [
        "   11|     def put(self, key, value):",
        "   12|         os.environ[key] = value",
    ]

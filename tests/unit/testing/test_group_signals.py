"""The target group is tied to the bug, not only to its size (issue 25): the issue's identifiers
first, then assertions over environment-like errors, then the largest group."""

from __future__ import annotations

from pathlib import Path

from app.chain.stages.context import StageContext
from app.chain.stages.reproduce import _environmental, reproduce
from app.chain.state import RunState
from app.testing.group_signals import environment_like, issue_identifiers, preference
from app.testing.groups import choose_target, group_failures
from app.testing.results import Frame, TestOutcome
from app.testing.testcmd import parse

HOME_TRACE = """    def test_cache(self):
>       assert load_cache() == {}

tests/test_store.py:20:
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _
pkg/store.py:31: in load_cache
    path = Path('~/.cache').expanduser()
/usr/lib/python3.11/pathlib.py:1486: in expanduser
    homedir = self._flavour.gethomedir(self._parts[0][1:])
E               PermissionError: [Errno 13] Permission denied: '/nonexistent/.cache'

/usr/lib/python3.11/pathlib.py:378: PermissionError"""

INSTALLED_TRACE = """pkg/client.py:40: in fetch
    return session.get(url)
/venv/lib/python3.11/site-packages/fakeweb/adapter.py:88: in send
    raise NoMockAddress(request)
E   fakeweb.exceptions.NoMockAddress: GET http://example/

/venv/lib/python3.11/site-packages/fakeweb/adapter.py:88: NoMockAddress"""

ASSERT_TRACE = """    def test_{name}():
>       assert {name}('2024-01-02') == 3
E       AssertionError: assert 2 == 3

tests/test_{file}.py:{line}: AssertionError"""

FRAME_TRACE = """tests/test_misc.py:9: in test_roundtrip
    assert check(1)
pkg/dates.py:12: in parse_date
    raise ValueError('bad month')
E   ValueError: bad month

pkg/dates.py:12: ValueError"""


def _home(n: int) -> TestOutcome:
    return TestOutcome(
        f"tests/test_store.py::test_cache_{n}",
        "failed",
        # Not a passwd-less uid (the stage sets those aside before grouping, as pre-existing):
        # a home directory the sandbox does not let the test write, which only this ranking sees.
        message="PermissionError: [Errno 13] Permission denied: '/nonexistent/.cache'",
        traceback=HOME_TRACE,
        frames=(Frame("tests/test_store.py", 20), Frame("pkg/store.py", 31)),
    )


def _installed(n: int) -> TestOutcome:
    return TestOutcome(
        f"tests/test_client.py::test_fetch_{n}",
        "failed",
        message="fakeweb.exceptions.NoMockAddress: GET http://example/",
        traceback=INSTALLED_TRACE,
        frames=(Frame("tests/test_client.py", 5), Frame("pkg/client.py", 40)),
    )


def _assertion(name: str, file: str = "dates", line: int = 7) -> TestOutcome:
    return TestOutcome(
        f"tests/test_{file}.py::test_{name}",
        "failed",
        message="AssertionError: assert 2 == 3",
        traceback=ASSERT_TRACE.format(name=name, file=file, line=line),
        frames=(Frame(f"tests/test_{file}.py", line),),
    )


def _choose(failing: list[TestOutcome], issue: str = "") -> tuple[str, ...]:
    groups = group_failures(failing, _environmental)
    target, _ = choose_target(groups, preference({o.test_id: o for o in failing}, issue))
    assert target is not None
    return target.test_ids


def test_the_bugs_lone_assertion_beats_three_home_directory_failures() -> None:
    """The real case: three fail for want of a home directory, the bug's own test alone."""
    failing = [_home(1), _home(2), _home(3), _assertion("parse_date")]
    assert _choose(failing) == ("tests/test_dates.py::test_parse_date",)
    groups = group_failures(failing, _environmental)
    target, _ = choose_target(groups)  # size alone: the old choice
    assert target is not None and len(target.test_ids) == 3


def test_an_assertion_beats_an_error_raised_inside_an_installed_package() -> None:
    failing = [_installed(1), _installed(2), _assertion("parse_date")]
    assert _choose(failing) == ("tests/test_dates.py::test_parse_date",)


def test_an_assertion_about_a_missing_file_is_still_an_assertion() -> None:
    said = TestOutcome(
        "tests/test_cli.py::test_message",
        "failed",
        message="AssertionError: assert 'No such file or directory' in ''",
        traceback="tests/test_cli.py:4: AssertionError",
        frames=(Frame("tests/test_cli.py", 4),),
    )
    assert not environment_like(said)
    assert _choose([_installed(1), _installed(2), said]) == ("tests/test_cli.py::test_message",)


def test_a_group_that_is_only_partly_environment_like_is_not_demoted() -> None:
    plain = TestOutcome(
        "tests/test_store.py::test_cache_4",
        "failed",
        message="PermissionError: [Errno 1] Operation not permitted: 'size'",
        traceback="pkg/store.py:31: PermissionError",
        frames=(Frame("tests/test_store.py", 20), Frame("pkg/store.py", 31)),
    )
    failing = [_home(1), _home(2), plain, _assertion("parse_date")]
    groups = group_failures(failing, _environmental)
    assert len(groups) == 2  # the home failures and the plain PermissionError share a place
    assert "test_cache_4" in _choose(failing)[-1]


def test_the_issue_names_the_lone_test_and_it_beats_a_larger_group() -> None:
    failing = [_assertion(f"format_{n}", "format", 10 + n) for n in range(3)]
    failing.append(_assertion("parse_date_with_tz"))
    issue = "Parsing fails with a timezone: `parse_date_with_tz` shows it."
    assert _choose(failing, issue) == ("tests/test_dates.py::test_parse_date_with_tz",)
    named_as_test = "tests/test_dates.py::test_parse_date_with_tz fails"
    assert _choose(failing, named_as_test) == ("tests/test_dates.py::test_parse_date_with_tz",)
    assert len(_choose(failing, "The function returns the wrong result.")) == 3  # plain words


def test_the_issue_names_a_function_in_the_traceback_frames() -> None:
    by_frame = TestOutcome(
        "tests/test_misc.py::test_roundtrip",
        "failed",
        message="ValueError: bad month",
        traceback=FRAME_TRACE,
        frames=(Frame("tests/test_misc.py", 9), Frame("pkg/dates.py", 12)),
    )
    failing = [*(_assertion(f"format_{n}", "format", 10 + n) for n in range(3)), by_frame]
    assert _choose(failing, "parse_date() rejects '2024-13-01'") == (by_frame.test_id,)
    assert _choose(failing, "see pkg/dates.py") == (by_frame.test_id,)


def test_the_issues_words_outrank_the_environment_signal() -> None:
    failing = [_home(1), _home(2), _assertion("parse_date"), _assertion("parse_time")]
    assert len(_choose(failing, "load_cache() crashes without a home directory")) == 2
    assert _choose(failing, "load_cache() crashes")[0].startswith("tests/test_store.py")


def test_identifiers_are_code_like_words_only() -> None:
    found = issue_identifiers(
        "The function `get_all` in utils/paths.py breaks on Windows; os.pathsep fixes it.\n"
        "Calling splitPath('a') and test_split_path both fail, as does readConfig. "
        + "x" * 100_000
        + " late_name"
    )
    assert {"get_all", "paths", "pathsep", "splitpath", "split_path", "readconfig"} <= found
    assert not {"function", "windows", "breaks", "late_name"} & found


BUG_MODULE = """import os


def user_cache():
    return os.path.join(os.path.expanduser("~nobody-here-xyz"), open("/nonexistent/cfg").read())


def parse_ratio(text):
    a, b = text.split(":")
    return int(a) / int(b) + 1
"""
BUG_TESTS = """from pkg import parse_ratio, user_cache


def test_cache_a():
    assert user_cache()


def test_cache_b():
    assert user_cache() != ""


def test_cache_c():
    assert user_cache() is not None


def test_parse_ratio():
    assert parse_ratio("1:2") == 0.5
"""


def test_the_reproduce_stage_targets_the_bugs_test_not_three_missing_file_errors(
    tmp_path: Path,
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pkg.py").write_text(BUG_MODULE)
    (tmp_path / "tests" / "test_pkg.py").write_text(BUG_TESTS)
    state = RunState(source=str(tmp_path), issue_text="")
    ctx = StageContext(root=tmp_path, command=parse("pytest -q"), suite_timeout=120)
    reproduce(state, ctx).apply(state)
    assert state.reproducing == ["tests/test_pkg.py::test_parse_ratio"]
    (left,) = state.left_failing
    assert len(left["tests"]) == 3 and "FileNotFoundError" in left["cause"]

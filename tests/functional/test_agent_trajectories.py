"""Whole agent trajectories: the real chain, the real sandbox, the real OpenAI and Anthropic SDKs.

Each test plays the model's side of a session from a local scripted server (tests/fakes/llm.py,
`Conversation`): the turns that matter read the observation the sandbox really printed (a line
number found by grep, a test result) and act on it, so a loop that garbles observations fails
here. The repository is a tiny git checkout whose `label()` formats with one decimal instead of
two, a bug the fix templates cannot repair (they try operators and arguments).
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from app.agents.agent import AgentSettings, AgentSource
from app.agents.budget import Budget, BudgetLimits
from app.agents.llm.chain import ProviderChain, RetryPolicy
from app.agents.llm.openai_provider import OpenAIProvider
from app.agents.llm.registry import build_agent_source
from app.agents.llm.replay import RecordingProvider, ReplayProvider
from app.chain.planner import RepairOptions, RepairOutcome, repair
from app.config import Settings
from app.flows import render
from tests.fakes.llm import Conversation, FakeLLMServer, Fault, Reply, bash, fake_llm

PRICES = '''"""Prices."""


def total(prices):
    """Sum of prices."""
    result = 0
    for price in prices:
        result += price
    return result


def label(amount):
    """A price tag."""
    return "EUR " + format(amount, ".1f")
'''

TESTS = """from shop.prices import label, total


def test_total():
    assert total([1, 2, 3]) == 6


def test_label():
    assert label(3) == "EUR 3.00"
"""

TEST_RUN = "python -m pytest -q -p no:cacheprovider tests"


def _repo(root: Path) -> Path:
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "prices.py").write_text(PRICES)
    (root / "tests").mkdir()
    (root / "tests" / "test_prices.py").write_text(TESTS)
    git = ["git", "-C", str(root), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "buggy"], check=True)
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return _repo(tmp_path / "repo")


def _settings(
    openai: FakeLLMServer | None = None, anthropic: FakeLLMServer | None = None
) -> Settings:
    values: dict[str, str] = {}
    if openai is not None:
        values.update(openai_api_key="sk-test", openai_base_url=openai.base_url)
    if anthropic is not None:
        values.update(anthropic_api_key="sk-ant-test", anthropic_base_url=anthropic.base_url)
    return Settings(**values)


def _agent(settings: Settings, budget: Budget | None = None, **knobs: object) -> AgentSource:
    source = build_agent_source(
        settings,
        budget=budget or Budget.unlimited(),
        agent=AgentSettings(**knobs) if knobs else None,  # type: ignore[arg-type]
        policy=RetryPolicy(attempts=1),
    )
    assert source is not None
    return source


def _repair(repo: Path, source: AgentSource) -> RepairOutcome:
    return repair(repo, RepairOptions(sources=[source], timeout=120))


def _grep_then_fix(observation: str) -> str:
    found = re.search(r"shop/prices\.py:(\d+):", observation)
    line = found.group(1) if found else "NOT-FOUND"
    return bash(
        f"sed -i '{line}s/\\.1f/.2f/' shop/prices.py", "Two decimals, on the line grep found."
    )


def _submit_if_green(observation: str) -> str:
    return (
        bash("submit", "The tests pass.") if "2 passed" in observation else "No block: tests red."
    )


# --- a bug found by grep, fixed by an edit, verified ----------------------------------------------


def test_agent_finds_the_bug_by_grep_fixes_it_and_the_verifier_accepts(repo: Path) -> None:
    conversation = Conversation(
        [
            bash("grep -rn 'format(' shop", "Find where the tag is formatted."),
            _grep_then_fix,
            bash(TEST_RUN, "Run the tests."),
            _submit_if_green,
        ]
    )
    with fake_llm("openai", conversation) as server:
        outcome = _repair(repo, _agent(_settings(server)))

    assert outcome.status == "fixed", outcome.reason
    assert outcome.bundle is not None
    assert '-    return "EUR " + format(amount, ".1f")' in outcome.bundle.diff
    assert '+    return "EUR " + format(amount, ".2f")' in outcome.bundle.diff
    assert outcome.bundle.source == "agent:openai/gpt-5.1"
    # the observation the second turn acted on was grep's real output, fenced as data
    assert (
        'shop/prices.py:14:    return "EUR " + format(amount, ".1f")'
        in conversation.observations[1]
    )
    assert '<data name="command-output"' in conversation.observations[1]
    assert "2 passed" in conversation.observations[3]
    # the trajectory is stored with the run: commands, observations, tokens, cost
    (record,) = outcome.state.trajectories
    assert record["ended"] == "submitted"
    assert [s["kind"] for s in record["steps"]] == ["command", "command", "command", "submit"]
    assert record["steps"][0]["command"] == "grep -rn 'format(' shop"
    assert record["steps"][0]["returncode"] == 0
    assert record["tokens"] == 4 * 150 and record["cost_usd"] > 0
    assert outcome.bundle.cost["tokens"] == 600
    # ... summarized in the pull request
    body = render.pr_body(outcome.bundle.to_json(), 7)
    assert "Agent trajectory" in body and "`grep -rn 'format(' shop` -> 0" in body
    # the user's checkout is untouched: the agent edited its own copy
    assert '".1f"' in (repo / "shop" / "prices.py").read_text()


# --- a command that hangs, one that floods the output ---------------------------------------------


def test_a_hanging_command_is_killed_at_its_timeout_and_the_loop_goes_on(repo: Path) -> None:
    conversation = Conversation(
        [
            bash("sleep 60", "Wait for something that never comes."),
            bash("sed -i 's/\\.1f/.2f/' shop/prices.py"),
            bash("submit"),
        ]
    )
    started = time.monotonic()
    with fake_llm("openai", conversation) as server:
        outcome = _repair(repo, _agent(_settings(server), command_timeout_s=2.0))
    elapsed = time.monotonic() - started

    assert outcome.status == "fixed", outcome.reason
    first = outcome.state.trajectories[0]["steps"][0]
    assert first["timed_out"] is True and first["returncode"] == 137
    assert "did not finish within 2 seconds and was killed" in conversation.observations[1]
    assert elapsed < 50, elapsed  # the 60 s sleep did not run to its end


def test_a_flood_of_output_reaches_the_model_cut_visibly(repo: Path) -> None:
    conversation = Conversation(
        [
            bash("seq 1 200000", "List everything."),
            bash("sed -i 's/\\.1f/.2f/' shop/prices.py"),
            bash("submit"),
        ]
    )
    with fake_llm("openai", conversation) as server:
        outcome = _repair(repo, _agent(_settings(server), observation_chars=2000))

    assert outcome.status == "fixed", outcome.reason
    seen = conversation.observations[1]
    assert len(seen) < 3500, len(seen)  # about 2000 characters of output, plus the frame
    assert "\n1\n2\n3\n" in seen and "199999\n200000" in seen  # head and tail kept
    assert re.search(r"\[\.\.\. \d+ characters cut here", seen)
    assert "The output was too long" in seen
    stored = outcome.state.trajectories[0]["steps"][0]["observation"]
    assert len(stored) < 1200 and "characters cut here" in stored  # the record is bounded too


def test_the_agent_shell_holds_no_key_of_fixwurx(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-agent-secret-0123456789")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_agentsecret0123456789")
    conversation = Conversation(
        [
            bash("env; cat /proc/1/environ 2>/dev/null | tr '\\0' '\\n'", "What can I see?"),
            bash("sed -i 's/\\.1f/.2f/' shop/prices.py"),
            bash("submit"),
        ]
    )
    with fake_llm("openai", conversation) as server:
        outcome = _repair(repo, _agent(_settings(server)))

    assert outcome.status == "fixed", outcome.reason
    seen = conversation.observations[1]
    assert "PATH=" in seen  # the command ran and printed its environment ...
    assert "agent-secret" not in seen and "agentsecret" not in seen  # ... without the keys
    assert "agent-secret" not in str(outcome.state.to_json())


# --- an attempt to reach the network ----------------------------------------------------------------


def test_a_command_cannot_reach_the_network_and_the_trajectory_shows_it(repo: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    fetch = (
        "python3 -c \"import socket; s = socket.create_connection(('127.0.0.1', "
        f"{port}), timeout=3); s.sendall(b'token please'); print('CONNECTED')\""
    )
    conversation = Conversation(
        [bash(fetch, "Phone home."), bash("sed -i 's/\\.1f/.2f/' shop/prices.py"), bash("submit")]
    )
    try:
        with fake_llm("openai", conversation) as server:
            outcome = _repair(repo, _agent(_settings(server)))
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing from the sandbox ever connected
    finally:
        listener.close()

    step = outcome.state.trajectories[0]["steps"][0]
    assert step["returncode"] != 0
    assert "CONNECTED" not in step["observation"]
    assert re.search(r"Connection refused|Network is unreachable", step["observation"])
    assert outcome.status == "fixed", outcome.reason


# --- a budget that runs out mid-loop; the turn cap ----------------------------------------------------


def test_a_budget_that_runs_out_mid_loop_stops_the_run_cleanly_saying_so(repo: Path) -> None:
    # Each answer reports 20k tokens: two calls fit under 41k, the third (1,500 tokens of reply
    # at least) cannot.
    heavy = [Reply(bash("ls"), 20_000, 50), Reply(bash("cat shop/prices.py"), 20_000, 50)]
    conversation = Conversation([*heavy, bash("submit")])
    limits = BudgetLimits(41_000, 100.0, 10**9, 10**9, 10**9, 10**9)
    with fake_llm("openai", conversation) as server:
        outcome = _repair(repo, _agent(_settings(server), Budget(limits)))

    assert outcome.status == "not_fixed"
    assert outcome.reason.startswith("budget exhausted: LLM budget exhausted: the per-run tokens")
    assert len(conversation.observations) == 2  # the third call was never made
    (record,) = outcome.state.trajectories
    assert record["ended"].startswith("budget exhausted")
    assert record["commands"] == 2
    assert outcome.state.candidates == []
    assert outcome.state.tokens == 2 * 20_050  # no candidate, but the run's cost says what it spent
    assert outcome.state.cost_usd == pytest.approx(record["cost_usd"]) and record["cost_usd"] > 0


def test_the_turn_cap_comes_from_the_budget(repo: Path) -> None:
    conversation = Conversation([bash("ls")] * 10)
    limits = BudgetLimits(10**9, 100.0, 10**9, 10**9, 10**9, 10**9, agent_steps=3)
    with fake_llm("openai", conversation) as server:
        outcome = _repair(repo, _agent(_settings(server), Budget(limits)))

    assert outcome.status == "not_fixed"
    assert len(conversation.observations) == 3
    record = outcome.state.trajectories[0]
    assert record["ended"].startswith("step limit: 3 turns")
    assert "1 turn(s) left" in conversation.observations[-1]


# --- a submission the verifier rejects, then the revision ---------------------------------------------


def _revise_after_feedback(observation: str) -> str:
    if "REJECTED" not in observation or "test_label" not in observation:
        return "No feedback seen."
    return bash("sed -i 's/\\.3f/.2f/' shop/prices.py", "Two decimals, not three.")


def test_a_rejected_submission_comes_back_once_with_the_verifier_output(repo: Path) -> None:
    conversation = Conversation(
        [
            bash("sed -i 's/\\.1f/.3f/' shop/prices.py", "More decimals."),
            bash("submit"),
            _revise_after_feedback,
            bash("submit"),
        ]
    )
    with fake_llm("openai", conversation) as server:
        outcome = _repair(repo, _agent(_settings(server)))

    assert outcome.status == "fixed", outcome.reason
    first, second = outcome.state.candidates
    assert not first.plausible and second.plausible
    assert second.parent == first.id
    assert '+    return "EUR " + format(amount, ".2f")' in (
        outcome.bundle.diff if outcome.bundle else ""
    )
    (record,) = outcome.state.trajectories
    assert record["submitted"] == [first.id, second.id]
    assert "feedback" in [s["kind"] for s in record["steps"]]


def test_a_second_rejection_is_not_revised_again(repo: Path) -> None:
    wrong = bash("sed -i 's/\\.1f/.3f/' shop/prices.py")
    wronger = bash("sed -i 's/\\.3f/.4f/' shop/prices.py")
    extra = [bash("sed -i 's/\\.4f/.2f/' shop/prices.py"), bash("submit")]
    conversation = Conversation([wrong, bash("submit"), wronger, bash("submit"), *extra])
    with fake_llm("openai", conversation) as server:
        outcome = _repair(repo, _agent(_settings(server)))

    assert outcome.status == "not_fixed"
    assert len(outcome.state.candidates) == 2
    assert len(conversation.observations) == 4  # no third round: the last turns were never asked
    assert conversation.turns == extra
    assert outcome.state.trajectories[0]["ended"].startswith("the verifier rejected the revised")


def test_a_submission_without_a_change_is_answered_in_the_loop(repo: Path) -> None:
    conversation = Conversation(
        [
            bash("submit", "Done already?"),
            bash("sed -i 's/\\.1f/.2f/' shop/prices.py"),
            bash("submit"),
        ]
    )
    with fake_llm("openai", conversation) as server:
        outcome = _repair(repo, _agent(_settings(server)))

    assert outcome.status == "fixed"
    assert "no change to any text file" in conversation.observations[1]
    assert len(outcome.state.candidates) == 1  # the empty submission never reached the verifier


def test_an_edit_to_ci_configuration_is_refused_before_verification(repo: Path) -> None:
    sneak = "mkdir -p .github/workflows && echo 'on: push' > .github/workflows/x.yml"
    conversation = Conversation(
        [
            bash(f"{sneak} && sed -i 's/\\.1f/.2f/' shop/prices.py"),
            bash("submit"),
            bash("rm -r .github"),
            bash("submit"),
        ]
    )
    with fake_llm("openai", conversation) as server:
        outcome = _repair(repo, _agent(_settings(server)))

    assert "refused edit to .github/workflows/x.yml" in conversation.observations[2]
    assert outcome.status == "fixed"
    assert outcome.bundle is not None and ".github" not in outcome.bundle.diff


def test_a_weakened_test_is_put_back_and_never_reaches_the_verifier(repo: Path) -> None:
    weaken = "sed -i 's/EUR 3.00/EUR 3.0/' tests/test_prices.py"
    conversation = Conversation(
        [
            bash(weaken, "Make the test agree with the code."),
            bash("submit"),
            bash("grep -c 'EUR 3.00' tests/test_prices.py", "Was it put back?"),
            bash("sed -i 's/\\.1f/.2f/' shop/prices.py"),
            bash("submit"),
        ]
    )
    with fake_llm("openai", conversation) as server:
        outcome = _repair(repo, _agent(_settings(server)))

    refusal = conversation.observations[2]
    assert "refused edit to tests/test_prices.py: an existing test, which judges the fix" in refusal
    assert "Exit code: 0" in conversation.observations[3]  # the original line is back
    assert outcome.status == "fixed", outcome.reason
    assert len(outcome.state.candidates) == 1
    assert outcome.bundle is not None and "tests/test_prices.py" not in outcome.bundle.diff


# --- provider fallback in the middle of a loop ----------------------------------------------------------


def test_openai_fails_mid_loop_and_anthropic_carries_the_session_on(repo: Path) -> None:
    shared = Conversation(
        [
            bash("grep -rn 'format(' shop"),
            Fault(500),  # OpenAI's second answer: the chain falls back to Anthropic
            _grep_then_fix,
            bash(TEST_RUN),
            _submit_if_green,
        ]
    )
    with fake_llm("openai", shared) as openai, fake_llm("anthropic", shared) as anthropic:
        outcome = _repair(repo, _agent(_settings(openai, anthropic)))
        openai_calls, anthropic_calls = len(openai.requests), len(anthropic.requests)

    assert outcome.status == "fixed", outcome.reason
    providers = [s["provider"] for s in outcome.state.trajectories[0]["steps"]]
    assert providers[0] == "openai/gpt-5.1"
    assert set(providers[1:]) == {"anthropic/claude-sonnet-4-6"}
    assert openai_calls == 2  # once fallen back, the session stays on the provider that answers
    assert anthropic_calls == 3
    assert (
        outcome.bundle is not None and outcome.bundle.source == "agent:anthropic/claude-sonnet-4-6"
    )


# --- a recorded session replays offline -----------------------------------------------------------


def test_a_recorded_session_replays_offline_to_the_same_fix(repo: Path, tmp_path: Path) -> None:
    recording = tmp_path / "session.jsonl"
    conversation = Conversation(
        [bash("grep -rn 'format(' shop"), _grep_then_fix, bash(TEST_RUN), _submit_if_green]
    )
    with fake_llm("openai", conversation) as server:
        live = OpenAIProvider("gpt-5.1", api_key="sk-test", base_url=server.base_url)
        chain = ProviderChain(
            [RecordingProvider(live, recording)], Budget.unlimited(), "analysis", RetryPolicy(1)
        )
        first = _repair(repo, AgentSource(chain))
    assert first.status == "fixed", first.reason

    replay = ProviderChain(
        [ReplayProvider.from_file(recording)], Budget.unlimited(), "analysis", RetryPolicy(1)
    )
    again = _repair(repo, AgentSource(replay))  # no server: the answers come from the file

    assert again.status == "fixed", again.reason
    assert again.bundle is not None and first.bundle is not None
    assert again.bundle.diff == first.bundle.diff
    commands = [[s["command"] for s in o.state.trajectories[0]["steps"]] for o in (first, again)]
    assert commands[0] == commands[1] and len(commands[0]) == 4

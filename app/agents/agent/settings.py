"""The agent loop's knobs. Steps, tokens and dollars are capped by the run's `Budget`."""

from __future__ import annotations

from dataclasses import dataclass

#: Seconds one shell command may run: long enough for a focused test run, short enough that a
#: hanging command costs the loop one step, not the run.
COMMAND_TIMEOUT_S = 60.0
#: Characters of one command's output the model reads (head and tail, the middle cut visibly).
#: Ten thousand characters is what SWE-agent and mini-swe-agent settle on; less keeps each
#: later call cheaper, since every step resends the conversation.
OBSERVATION_CHARS = 6000
#: Tokens one model reply may use: a command, or a heredoc that rewrites a function.
REPLY_MAX_TOKENS = 1500


@dataclass(frozen=True)
class AgentSettings:
    """How one agent session runs; `max_steps` comes from `BudgetLimits.agent_steps`."""

    max_steps: int = 30
    command_timeout_s: float = COMMAND_TIMEOUT_S
    observation_chars: int = OBSERVATION_CHARS
    reply_max_tokens: int = REPLY_MAX_TOKENS
    #: Verifier rejections a submission may be revised after (the issue asks for one).
    revisions: int = 1

    def __post_init__(self) -> None:
        if self.max_steps < 1:
            raise ValueError(f"AgentSettings.max_steps must be at least 1, got {self.max_steps}")
        if self.command_timeout_s <= 0:
            raise ValueError(
                f"AgentSettings.command_timeout_s must be positive, got {self.command_timeout_s}"
            )
        if self.observation_chars < 200:
            raise ValueError(
                f"AgentSettings.observation_chars must be at least 200, got "
                f"{self.observation_chars}"
            )

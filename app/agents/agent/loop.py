"""The conversation of one agent session and its stopping rules.

Each turn asks the model once, runs the one command its reply holds, and answers with the
observation. The session stops when the model submits (and the submission holds a change
FixWurx may keep), when the turns allowed by the run's budget are used up, or when a model call
cannot be made: `BudgetExhausted` (the run's tokens or dollars) and `ProviderError` (every
provider failed) propagate to the source, which records why the session ended.

Provider fallback is the chain's (retries, then the next provider). Once a call had to fall
back, the session keeps talking to the provider that answered: asking the failed one first at
every later turn would pay its retries again and again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from app.agents.agent.action import parse
from app.agents.agent.settings import AgentSettings
from app.agents.agent.shell import Shell
from app.agents.agent.trajectory import Step, Trajectory
from app.agents.llm.base import ChatRequest, ChatResponse, Message
from app.agents.llm.chain import ProviderChain
from app.agents.llm.prompts import render

#: Turns left at which the observation reminds the model to finish.
REMIND_AT = 3
#: Observations sent in full: the latest ones. Older ones shrink to a one-line stub, because
#: every turn resends the whole conversation and a long session would otherwise pay for each
#: old listing again at every later turn (SWE-agent keeps the last five the same way).
FULL_OBSERVATIONS = 5

#: Checks a submission; returns "" to accept it, else the problem to tell the model.
SubmissionCheck = Callable[[], str]


@dataclass
class Session:
    """One agent's conversation over one work copy."""

    chain: ProviderChain
    shell: Shell
    settings: AgentSettings
    system: str
    messages: list[Message]
    trajectory: Trajectory = field(default_factory=Trajectory)
    turns: int = 0
    last_reply: str = ""
    #: Indexes in `messages` of the command observations (what `elide_old` may shorten).
    observations: list[int] = field(default_factory=list)
    #: Told one line per command run (the CLI's progress, the App's status comment).
    progress: Callable[[str], None] | None = None

    def run(self, accept: SubmissionCheck) -> bool:
        """Turns until an accepted submission (True) or the last allowed turn (False)."""
        while self.turns < self.settings.max_steps:
            response = self._ask()
            self.turns += 1
            self.last_reply = response.text
            self.messages.append(Message("assistant", response.text))
            if self._turn(response, accept):
                return True
        self.trajectory.ended = (
            f"step limit: {self.settings.max_steps} turns without an accepted submission "
            "(BUDGET_AGENT_STEPS)"
        )
        return False

    def tell(self, text: str) -> None:
        """Add a user turn (the verifier's feedback) before the next `run`."""
        self.messages.append(Message("user", text))
        self.trajectory.steps.append(Step("feedback", observation=text))

    def _turn(self, response: ChatResponse, accept: SubmissionCheck) -> bool:
        spent = Step(
            "",
            tokens=response.usage.total,
            cost_usd=response.cost_usd,
            provider=f"{response.provider}/{response.model}",
        )
        action = parse(response.text)
        if action.error:
            self._answer(render("agent_format_error", error=action.error))
            self.trajectory.steps.append(
                replace(spent, kind="format_error", observation=action.error)
            )
            return False
        if action.submit:
            problem = accept()
            self.trajectory.steps.append(replace(spent, kind="submit", observation=problem))
            if not problem:
                self.trajectory.ended = "submitted"
                return True
            self._answer(render("agent_submission", problem=problem))
            return False
        out = self.shell.run(action.command)
        if self.progress is not None:
            first = (action.command.splitlines() or [""])[0][:100]
            ending = "timed out" if out.timed_out else f"exit {out.returncode}"
            self.progress(f"turn {self.turns}: {first} ({ending})")
        self._answer(out.render(self.settings.command_timeout_s), observation=True)
        self.trajectory.steps.append(
            replace(
                spent,
                kind="command",
                command=action.command,
                returncode=out.returncode,
                observation=out.output,
                timed_out=out.timed_out,
                seconds=out.seconds,
            )
        )
        return False

    def _answer(self, text: str, observation: bool = False) -> None:
        left = self.settings.max_steps - self.turns
        if left <= REMIND_AT:
            text += f"\n\n{left} turn(s) left: finish the fix and submit."
        if observation:
            self.observations.append(len(self.messages))
        self.messages.append(Message("user", text))

    def _ask(self) -> ChatResponse:
        request = ChatRequest(
            self.system,
            elide_old(self.messages, self.observations),
            self.settings.reply_max_tokens,
            0.0,
        )
        response = self.chain.complete(request)
        self._stick_to(response)
        return response

    def _stick_to(self, response: ChatResponse) -> None:
        """After a fallback, talk to the provider that answered from now on."""
        providers = self.chain.providers
        for index, provider in enumerate(providers):
            if (provider.name, provider.model) == (response.provider, response.model):
                if index > 0:
                    chain = self.chain
                    self.chain = ProviderChain(
                        providers[index:], chain.budget, chain.role, chain.policy
                    )
                return


def elide_old(
    messages: list[Message], observations: list[int], keep: int = FULL_OBSERVATIONS
) -> tuple[Message, ...]:
    """The conversation with all but the last `keep` observations (indexes into `messages`)
    replaced by a one-line stub; the task and the verifier's feedback are never shortened."""
    old = set(observations[:-keep] if keep else observations)
    return tuple(
        Message(m.role, f"(output of an earlier command, {len(m.content)} characters, elided)")
        if i in old
        else m
        for i, m in enumerate(messages)
    )

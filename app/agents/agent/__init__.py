"""The agent mode: a model that works on a candidate's copy one shell command at a time.

`AgentSource` is a `CandidateSource` like the templates and the single-pass analyst: what it
submits is the diff of its work copy against the pristine tree, and that diff passes the same
verifier as every other candidate. Modules, one concept each:

- `settings`: the loop's knobs (command timeout, observation size, steps);
- `observation`: a command's output cut visibly to size, and the text the model reads;
- `action`: the one command a model reply holds, or why the reply holds none;
- `shell`: one command in the sandbox, on the copy, in the repository's own environment;
- `trajectory`: what happened at each step, bounded, for the run state and the pull request;
- `workcopy`: the copy the agent edits, and its diff against the pristine tree;
- `loop`: the conversation and its stopping rules;
- `source`: the `CandidateSource` that ties them together.
"""

from app.agents.agent.settings import AgentSettings
from app.agents.agent.source import AgentSource

__all__ = ["AgentSettings", "AgentSource"]

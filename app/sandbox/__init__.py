"""The only place where code from a repository runs.

`run(argv, cwd, timeout)` executes a command with no network, a scrubbed environment, resource
limits and a wall-clock limit that kills the whole process tree. Bubblewrap is used where it
works; otherwise a plain subprocess with the same scrub and limits, and a warning that network
isolation is off.

Modules, one concept each:

- `api`: the contract (`run`, `Limits`, `SandboxResult`) and the command chain of each backend;
- `backends`: which backend runs (FIXWURX_SANDBOX, the one-off bubblewrap probe, the warning),
  and the App worker's refusal to start without bubblewrap;
- `bubblewrap`: namespaces and the read-only root built from binds;
- `egress`, `egress_policy`, `egress_upstream`, `egress_forwarder`: an install step's one way
  out of its network namespace, an allow-listing proxy that reaches only the configured package
  indexes (directly, or through the operator's own proxy);
- `identity`: a fresh unprivileged uid per run, so process limits bind and kills reach everything;
- `rlimits`: per-process memory, file size, CPU and process limits through prlimit(1);
- `cgroups`: one cgroup per run (v2 delegated, else v1, else none): the kernel's memory and
  process limits, the OOM-kill verdict, the group killed and removed at the end;
- `watchdog`: per-run limits (memory where no cgroup holds the run: proportional anonymous
  memory, shared memory objects once, the RAM-backed /tmp; CPU time; growth of every writable
  place), sampled from the select loop;
- `doctor`: which of these this host gives (`fixwurx doctor`, the worker's start-up log);
- `ownership`: the fallback lends the work copy to the run's capability-less uid;
- `environment`: the allow-listed environment and the refusal of secret-looking variables;
- `process`: spawning, the select loop, the deadline; `capture`: bounded head+tail output;
- `tools`: where the helper programs are; `constants`: the documented numbers.
"""

from __future__ import annotations

from app.sandbox.api import Limits, Mounts, SandboxResult, run

__all__ = ["Limits", "Mounts", "SandboxResult", "run"]

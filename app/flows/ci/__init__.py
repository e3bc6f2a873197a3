"""The repository's CI as second verifier: the check run, the canary, the watch and the verdict.

`start` opens the check, dispatches the canary and records the watch after a push; `feedback`
is the pure decision (wait, success, revise, cap, approval); `records` holds the watches and CI
results; `flow` is the `ci_result` run; `checks` is the `FixWurx verification` check run.
"""

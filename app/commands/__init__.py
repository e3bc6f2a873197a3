"""The `fixwurx` command's operator subcommands and what every subcommand shares.

`terminal` holds the exit codes, the one-line error and progress of the whole command;
`deliveries` is `fixwurx deliveries recover`; `workflow` is `fixwurx workflow canary`. They
register through the `fixwurx.commands` entry points (pyproject.toml), like `serve` and `worker`.
"""

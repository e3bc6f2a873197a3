"""Implementations behind the `fixwurx` subcommands (kept out of cli.py so it stays a map)."""

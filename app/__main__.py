"""`python -m app` is the `fixwurx` command."""

from app.cli import main

main()

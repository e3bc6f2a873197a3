"""`make test`'s first step: say what the suite needs from this machine, before it is needed.

The suite uses real parts (bubblewrap, git, Redis, PostgreSQL, npm for GitHub's published specs,
Chromium for the dashboard): a missing one used to surface as a wall of unrelated failures ten
minutes in. Standard library only: it runs before the virtualenv exists.
"""

from __future__ import annotations

import shutil
import socket
import sys

#: (command, Debian package, what needs it)
COMMANDS = (
    ("bwrap", "bubblewrap", "the sandbox every repository's code runs in"),
    ("git", "git", "work copies, bundles, the fake GitHub's repositories"),
    ("redis-server", "redis-server", "the private Redis the tests start"),
    ("npm", "npm", "GitHub's REST/GraphQL specs and webhook examples for the fakes"),
    ("chromium", "chromium", "the dashboard's browser tests"),
    ("promtool", "prometheus", "the alert rules' tests"),
)
#: (host, port, what listens there, how to start it)
SERVICES = (
    ("127.0.0.1", 5432, "PostgreSQL", "pg_ctlcluster <version> main start (trust, database test)"),
)


def missing_commands() -> list[str]:
    """One line per command the suite needs that is not on PATH."""
    return [
        f"  {name}: not found ({why}); install it with `apt-get install {package}`"
        for name, package, why in COMMANDS
        if shutil.which(name) is None
    ]


def missing_services() -> list[str]:
    """One line per service that does not accept a connection."""
    lines = []
    for host, port, what, start in SERVICES:
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError:
            lines.append(f"  {what} on {host}:{port}: not reachable; start it: {start}")
    return lines


def main() -> int:
    """Print what is missing and exit 1, or exit 0 silently."""
    problems = missing_commands() + missing_services()
    if not problems:
        return 0
    print("make test needs, and this machine lacks:", file=sys.stderr)
    print("\n".join(problems), file=sys.stderr)
    print("(.ci/run installs and starts all of them on a Debian machine)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

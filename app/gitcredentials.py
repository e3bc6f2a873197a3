"""Strip credentials from the .git of a work copy before any repository code can read it.

`fixwurx fix .` copies the checkout's .git, and a checkout keeps credentials there:
`actions/checkout` stores its token as `http.<url>.extraheader`, others configure a credential
helper, write `https://user:token@host` remote URLs (which also land in FETCH_HEAD and in the
reflog's "clone: from ..." lines), or pull in further files with include/includeIf. A test in
the repository could read any of them. Rather than hunting for bad keys, each config file is
rewritten from an allow-list of keys a work copy needs; URLs lose their user part; FETCH_HEAD and
the reflogs are removed (nothing in a repair reads them).
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

from app import workfiles
from app.gitcmd import run_git

#: Config keys a work copy keeps (`section.key` or `section.*.key`; matched case-insensitively).
#: Everything else goes: http.* (extraheader, cookies, proxies), credential.*, include*, url.*
#: (an insteadOf section name can hold a token), core.sshCommand/askPass/fsmonitor, aliases.
KEPT_KEYS = (
    "core.repositoryformatversion",
    "core.filemode",
    "core.bare",
    "core.logallrefupdates",
    "core.ignorecase",
    "core.precomposeunicode",
    "core.symlinks",
    "core.autocrlf",
    "core.eol",
    "core.safecrlf",
    "core.quotepath",
    "core.sparsecheckout",
    "core.sparsecheckoutcone",
    "core.splitindex",
    "core.untrackedcache",
    "core.abbrev",
    "extensions.*",
    "remote.*.url",
    "remote.*.pushurl",
    "remote.*.fetch",
    "remote.*.tagopt",
    "remote.*.promisor",
    "remote.*.partialclonefilter",
    "branch.*.remote",
    "branch.*.merge",
    "branch.*.rebase",
    "submodule.*.url",
    "submodule.*.path",
    "submodule.*.active",
    "submodule.*.branch",
    "lfs.repositoryformatversion",
    "index.version",
    "gc.auto",
    "pack.packsizelimit",
)
#: Keys whose value is a URL: kept without the user and password part.
URL_KEYS = re.compile(r"^(remote\.[^\n]+\.(url|pushurl)|submodule\.[^\n]+\.url)$", re.IGNORECASE)
#: Files and directories under a .git that may quote a remote URL with its credentials.
DROPPED_PATHS = ("FETCH_HEAD", "logs", "credentials", ".git-credentials")
_KEPT = [
    re.compile("^" + re.escape(key).replace(r"\*", ".+") + "$", re.IGNORECASE) for key in KEPT_KEYS
]


def scrub_git_dir(git_dir: Path) -> None:
    """Rewrite every config file of `git_dir` (and its submodules') from the allow-list."""
    if not git_dir.is_dir() or git_dir.is_symlink():
        return
    for name in DROPPED_PATHS:  # files, links and directories alike, never followed
        workfiles.rmtree(git_dir / name)
    for config in _config_files(git_dir):
        scrub_config(config)


def _config_files(git_dir: Path) -> list[Path]:
    found = [git_dir / "config", git_dir / "config.worktree"]
    modules = git_dir / "modules"
    if modules.is_dir() and not modules.is_symlink():
        found += [
            modules / rel
            for rel in workfiles.walk_files(modules)
            if rel.name in ("config", "config.worktree") and "logs" not in rel.parts
        ]
    return [p for p in found if workfiles.is_link(p.parent, p.name) or p.is_file()]


def scrub_config(config: Path) -> None:
    """Replace `config` by the allow-listed entries it holds (a link is replaced, not followed)."""
    linked = workfiles.is_link(config.parent, config.name)
    entries = _read_entries(config) if not linked else []
    kept = [
        (key, _without_userinfo(value) if URL_KEYS.match(key) else value) for key, value in entries
    ]
    text = render_config([(k, v) for k, v in kept if _kept(k)])
    workfiles.write_text(config.parent, config.name, text, replace_link=True)


def _read_entries(config: Path) -> list[tuple[str, str]]:
    # --no-includes: an include could name any host file; we drop the include keys anyway.
    listed = run_git(None, "config", "--file", str(config), "--no-includes", "--null", "--list")
    if listed.returncode != 0:
        return []  # unreadable config: the work copy gets an empty one
    entries = []
    for item in listed.stdout.split("\0"):
        if item:
            key, _, value = item.partition("\n")
            entries.append((key, value))
    return entries


def _kept(key: str) -> bool:
    return any(pattern.match(key) for pattern in _KEPT)


def _without_userinfo(url: str) -> str:
    """`https://user:token@host/x` -> `https://host/x`; scp-style `git@host:x` stays (no secret)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def render_config(entries: list[tuple[str, str]]) -> str:
    """Git config text for `(section[.subsection].key, value)` pairs, in order."""
    lines: list[str] = []
    current = None
    for key, value in entries:
        section, _, rest = key.partition(".")
        subsection, _, name = rest.rpartition(".")
        header = f'[{section} "{_quote(subsection)}"]' if subsection else f"[{section}]"
        if header != current:
            lines.append(header)
            current = header
        lines.append(f'\t{name} = "{_quote(value)}"')
    return "".join(line + "\n" for line in lines)


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")

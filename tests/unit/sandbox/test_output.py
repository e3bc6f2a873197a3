"""Captured output is cut visibly, and never held in memory beyond the limit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.sandbox import Limits, run
from app.sandbox.capture import BoundedBuffer

MARKER = "[... output truncated by fixwurx sandbox:"
REPO_ROOT = Path(__file__).resolve().parents[3]


def test_short_output_is_kept_whole() -> None:
    buf = BoundedBuffer(10)
    for piece in (b"abc", b"defg", b"hij"):
        buf.feed(piece)
    assert (buf.text(), buf.dropped, buf.total) == ("abcdefghij", 0, 10)


def test_long_output_keeps_head_and_tail_around_the_marker() -> None:
    buf = BoundedBuffer(10)
    for i in range(100):
        buf.feed(str(i % 10).encode() * 7)
    text = buf.text()
    assert buf.dropped == 700 - 10
    assert text == f"00000\n{MARKER} 690 bytes dropped ...]\n99999"


def test_zero_limit_keeps_only_the_marker() -> None:
    buf = BoundedBuffer(0)
    buf.feed(b"secret-ish")
    assert buf.text() == f"\n{MARKER} 10 bytes dropped ...]\n"


def test_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="-1"):
        BoundedBuffer(-1)


def test_truncated_stdout_shows_the_marker(backend: str, work: Path) -> None:
    lines = "import sys\nfor i in range(20000): print('line', i)\nprint('end', file=sys.stderr)"
    result = run([sys.executable, "-c", lines], work, 20, limits=Limits(output_bytes=4096))
    assert result.truncated and result.ok
    head, tail = result.stdout.split(MARKER)
    assert head.startswith("line 0\nline 1\n")
    assert tail.endswith("line 19999\n")
    assert len(result.stdout.encode()) <= 4096 + 100
    assert result.stderr == "end\n"


def test_endless_output_is_bounded_in_memory(backend: str, work: Path) -> None:
    """A fresh interpreter runs the flood, so its peak RSS before the call is its current size."""
    driver = """
import json, resource, sys
from pathlib import Path
from app.sandbox import Limits, run
flood = "import sys\\nwhile True: sys.stdout.buffer.write(b'x' * 65536)"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = run([sys.executable, "-c", flood], Path(sys.argv[1]), 2.5, limits=Limits(output_bytes=65536))
grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"grew_kib": grew, "stdout": result.stdout, "timed_out": result.timed_out}))
"""
    done = subprocess.run(
        [sys.executable, "-c", driver, str(work)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=REPO_ROOT,
    )
    report = json.loads(done.stdout)
    assert report["timed_out"]
    dropped = int(report["stdout"].split(MARKER)[1].split()[0])
    assert dropped > 32 * 1024 * 1024, "the flood was too small to prove anything"
    assert report["grew_kib"] < 16 * 1024, f"grew by {report['grew_kib']} KiB reading the flood"

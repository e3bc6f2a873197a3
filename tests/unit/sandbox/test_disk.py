"""Every place a run may write counts against its disk limit, not only the work copy."""

from __future__ import annotations

import sys
from pathlib import Path

from app.sandbox import Limits, Mounts, run

#: 64 MiB in files of 8 MiB (under the per-file limit) into the directory named by argv[1],
#: after the watchdog's first sample (the reference growth is measured from).
FILL = """
import sys, time
time.sleep(0.5)
for n in range(8):
    with open(f"{sys.argv[1]}/fill-{n}.bin", "wb") as out:
        out.write(b"x" * (8 * 1024 * 1024))
print("wrote 64 MiB", flush=True)
time.sleep(10)
"""


def test_a_writable_build_folder_counts_against_the_disk_limit(
    backend: str, work: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    limits = Limits(disk_mb=16)
    mounts = Mounts(writable_paths=(cache,))
    result = run([sys.executable, "-c", FILL, str(cache)], work, 30, limits=limits, mounts=mounts)
    seen = (result.returncode, result.duration, result.stdout, result.stderr[-400:])
    assert result.stopped == "disk", seen
    assert result.stop_reason is not None and "disk limit of 16 MiB" in result.stop_reason
    assert result.duration < 5  # stopped, not left to finish holding it


def test_the_private_tmp_and_dev_shm_count_against_the_disk_limit(bwrap: str, work: Path) -> None:
    for place in ("/tmp", "/dev/shm"):
        limits = Limits(disk_mb=16, memory_mb=2048)
        result = run([sys.executable, "-c", FILL, place], work, 30, limits=limits)
        assert result.stopped == "disk", (place, result)
        assert result.duration < 5

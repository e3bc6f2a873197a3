"""Documented constants of the sandbox. Each value says why it is what it is."""

from __future__ import annotations

#: Environment variable that forces a backend ("bubblewrap" or "subprocess"); unset or "auto"
#: picks bubblewrap when it works. Tests and operators use it; nothing else should.
BACKEND_ENV_VAR = "FIXWURX_SANDBOX"
#: Backend names, as reported in `SandboxResult.backend`.
BUBBLEWRAP = "bubblewrap"
SUBPROCESS = "subprocess"

#: Sandboxed processes run as a fresh unprivileged uid drawn from this range (when we are root).
#: RLIMIT_NPROC does not bind root, but binds any other uid, and it counts per uid: a uid that
#: nothing else uses makes the process limit exact and lets us kill every process of one run with
#: `kill(-1)` sent as that uid. The range sits far above distribution users (1000+) and the usual
#: subordinate-uid ranges (100000+), and below 2**31 so no tool sees it as negative.
SANDBOX_UID_BASE = 1_800_000_000
#: Size of the uid range; random draws from 16M uids make a clash between live runs negligible,
#: and an in-process set rules it out between threads.
SANDBOX_UID_SPAN = 1 << 24

#: Size of the private /tmp (and /dev/shm) inside bubblewrap, in MiB. They live in RAM: without a
#: cap, a test writing many files there could take half the machine's memory.
SANDBOX_TMP_MB = 1024

#: The one capability a sandboxed process keeps: it lets the unprivileged uid write the work copy
#: (owned by root) without chown-ing it, which would make git call the repository "dubious".
#: Read-only bind mounts stay read-only: mount flags are not permission bits.
KEPT_CAPABILITY = "dac_override"

#: Seconds between two samples of a run's memory, CPU time and disk use (watchdog.py): a run can
#: overshoot its limit by what it allocates in this time; sampling costs a few ms per tick.
WATCH_INTERVAL_S = 0.1
#: Share of one core the walk over the work copy may take: a tree that takes 20 ms to walk is
#: measured every 0.4 s rather than every tick.
DISK_WALK_SHARE = 0.05
#: Appended to stderr when the watchdog stops a run; `{reason}` names the limit.
LIMIT_MARKER = "\n[fixwurx sandbox: stopped: {reason}]\n"

#: After the command ends (or is killed), seconds to wait for its output pipes to close before
#: giving up on the rest of the output.
DRAIN_GRACE_S = 2.0
#: Bytes read from a pipe at once; the pipe buffer size, so one read empties a full pipe.
READ_CHUNK_BYTES = 64 * 1024
#: Poll interval, in seconds, when the kernel offers no pidfd to wait on.
POLL_INTERVAL_S = 0.05
#: Seconds allowed for the one-off check that bubblewrap works on this machine.
PROBE_TIMEOUT_S = 10.0

#: Shown where captured output was cut; `{dropped}` is the number of bytes left out.
TRUNCATION_MARKER = "\n[... output truncated by fixwurx sandbox: {dropped} bytes dropped ...]\n"

#: Where the helper programs (bwrap, prlimit, setpriv, sh) are looked up: the system's own
#: directories, never the caller's PATH, so a stray binary cannot pose as one of them.
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

#: Files under /etc that Python and common test tools read, copied into the sandbox's /etc (see
#: etc.py). Nothing here is secret; the rest of /etc (shadow, ssh keys, service configs) stays
#: invisible inside bubblewrap.
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/protocols",
    "/etc/services",
    "/etc/localtime",
    "/etc/mime.types",
    "/etc/os-release",
    "/etc/ssl",
    "/etc/ca-certificates",
)
#: Top-level system directories; on merged-/usr systems they are symlinks into /usr.
SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

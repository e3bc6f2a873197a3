"""Inside an install step's sandbox: relay 127.0.0.1:PORT to the egress proxy's unix socket.

Usage (run with `python -I -S`, standard library only, Python 3.7+):

    forward.py SOCKET PORT -- COMMAND [ARG...]

The sandbox has its own network namespace, so tools that only speak TCP to a proxy (uv, pip)
need a TCP door; this is it. It binds the port first (so the step never races it), forks a
relay that serves until the sandbox's pid namespace ends, and execs the step's command, which
keeps the command's pid, exit status and signals. It decides nothing: the proxy on the other
end of the socket checks every request, so a step that kills or bypasses this relay gains
nothing.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time

_CHUNK = 65536


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while True:
            data = source.recv(_CHUNK)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    for sock in (source, sink):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _handle(client: socket.socket, path: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(path)
    except OSError:
        client.close()
        upstream.close()
        return
    back = threading.Thread(target=_pipe, args=(upstream, client))
    back.daemon = True
    back.start()
    _pipe(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _serve(server: socket.socket, path: str) -> None:
    while True:
        try:
            client, _ = server.accept()
        except OSError:  # out of descriptors, say: wait rather than spin
            time.sleep(0.05)
            continue
        worker = threading.Thread(target=_handle, args=(client, path))
        worker.daemon = True
        worker.start()


def main(argv: list[str]) -> int:
    if len(argv) < 5 or argv[3] != "--":
        sys.stderr.write("usage: forward.py SOCKET PORT -- COMMAND [ARG...]\n")
        return 2
    path, port, command = argv[1], int(argv[2]), argv[4:]
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    if os.fork() == 0:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # the step's output pipes must close when the step ends
            os.dup2(devnull, fd)
        try:
            _serve(server, path)
        finally:
            os._exit(0)
    server.close()
    os.execvp(command[0], command)
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv))

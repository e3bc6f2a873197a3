"""A gunicorn worker that reads each request in full before it takes a thread.

gunicorn's `gthread` worker hands a connection to one of its threads as soon as the first bytes
arrive, and the thread then blocks until the rest of the header and body come. Two workers of
four threads are eight threads: 64 connections that send half a request header (measured on
`fixwurx serve` as shipped) held all of them, and `/healthz` and GitHub's deliveries got no
answer at all. Nothing ever timed them out.

`BufferingThreadWorker` keeps a connection in the worker's event loop (non-blocking reads, no
thread) until its header is complete and, when it announces a `Content-Length` up to the webhook
cap, until the whole body is in memory: a thread is only ever given a request it can serve
without waiting on the client. A header must arrive within `header_timeout_s` and the body
within `body_timeout_s` after it, or the connection is answered 408 and closed. What nginx or
another buffering proxy does in front of the app (deploy/), the app now does itself too, so a
`fixwurx serve` reached directly is not a door a slow client can hold shut.

Memory: the bytes held across a worker's unfinished requests are capped (`max_buffered_bytes`,
64 MiB, `fixwurx serve --max-buffered-mb`); the request that would pass the cap is answered 503
and closed, so a flood of large slow bodies cannot grow the process without bound. Each request
is also within gunicorn's header limits and the webhook body cap (25 MB).
"""

from __future__ import annotations

import contextlib
import errno
import re
import selectors
import socket
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gunicorn import http
from gunicorn.workers.gthread import TConn, ThreadWorker

from app import defaults

#: Seconds a client has to send its whole request header (GitHub sends it at once).
HEADER_TIMEOUT_S = 10.0
#: Seconds a client has, after its header, to send a body of the announced length.
BODY_TIMEOUT_S = 20.0
#: Bytes read per non-blocking `recv`.
READ_CHUNK = 64 * 1024
#: A header larger than this is handed over unfinished: gunicorn's own limits refuse it (400).
MAX_HEADER_BYTES = 64 * 1024
#: Bytes one worker holds across all requests still arriving (a 25 MB webhook fits twice).
MAX_BUFFERED_BYTES = 64 * 1024 * 1024
_END_OF_HEADER = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d{1,12})[ \t]*\r?$", re.I | re.M)
_TRANSFER_ENCODING = re.compile(rb"^transfer-encoding:", re.I | re.M)
_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_NO_LENGTH = b"HTTP/1.1 411 Length Required\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_FULL = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\n"
    b"Content-Length: 0\r\n\r\n"
)


@dataclass
class _Reading:
    """A connection whose request is still arriving."""

    conn: TConn
    deadline: float
    data: bytearray = field(default_factory=bytearray)
    #: Header plus announced body, once the header is complete.
    wanted: int | None = None


class BufferingThreadWorker(ThreadWorker):
    """gthread, with each request buffered in the event loop before a thread serves it."""

    header_timeout_s = HEADER_TIMEOUT_S
    body_timeout_s = BODY_TIMEOUT_S
    max_body_bytes = defaults.MAX_WEBHOOK_BYTES
    max_buffered_bytes = MAX_BUFFERED_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reading: dict[TConn, _Reading] = {}
        #: The bytes held in `reading` now.
        self.buffered = 0

    # --- where gthread would hand a connection to a thread ------------------------------------

    def accept(self, listener: socket.socket) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._start_reading(TConn(self.cfg, client_sock, client_addr, listener.getsockname()))

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """A kept-alive connection starts its next request: read it here, not in a thread."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._start_reading(conn)

    def on_pending_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        self.poller.unregister(client)
        self.pending_conns.remove(conn)
        self._start_reading(conn)

    def murder_pending(self) -> None:
        """Also close the connections whose header or body is overdue (once per loop turn)."""
        super().murder_pending()
        now = time.monotonic()
        for state in [s for s in self.reading.values() if s.deadline <= now]:
            self._drop(state, _TIMED_OUT)

    # --- the buffering itself -----------------------------------------------------------------

    def _start_reading(self, conn: TConn) -> None:
        conn.sock.setblocking(False)
        state = _Reading(conn, time.monotonic() + self.header_timeout_s)
        self.reading[conn] = state
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._readable, state))

    def _readable(self, state: _Reading, _sock: socket.socket) -> None:
        try:
            chunk = state.conn.sock.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(state)
            return
        if not chunk:  # the client went away before finishing its request
            self._drop(state)
            return
        if self.buffered + len(chunk) > self.max_buffered_bytes:
            self._drop(state, _FULL)
            return
        state.data += chunk
        self.buffered += len(chunk)
        if state.wanted is None:
            end = state.data.find(_END_OF_HEADER)
            if end < 0:
                if len(state.data) > MAX_HEADER_BYTES:
                    self._dispatch(state)
                return
            header = bytes(state.data[: end + len(_END_OF_HEADER)])
            if _TRANSFER_ENCODING.search(header):
                self._drop(state, _NO_LENGTH)
                return
            state.wanted = self._wanted(header)
            state.deadline = time.monotonic() + self.body_timeout_s
        if len(state.data) >= state.wanted:
            self._dispatch(state)

    def _wanted(self, header: bytes) -> int:
        """Bytes to buffer: the header, plus the body when its length is in bounds.

        A body over the cap is not read: the app answers 413 from the header, and gunicorn's
        drain after it is bounded. A chunked body (whose length only the body tells) was refused
        411 before this: GitHub and browsers send a Content-Length.
        """
        length = _CONTENT_LENGTH.search(header)
        if length is None:
            return len(header)
        size = int(length.group(1))
        return len(header) + (size if size <= self.max_body_bytes else 0)

    def _dispatch(self, state: _Reading) -> None:
        conn = state.conn
        self.poller.unregister(conn.sock)
        del self.reading[conn]
        self.buffered -= len(state.data)
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(state.data))
        conn.data_ready = True
        self.enqueue_req(conn)

    def _drop(self, state: _Reading, answer: bytes = b"") -> None:
        conn = state.conn
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        if self.reading.pop(conn, None) is not None:
            self.buffered -= len(state.data)
        if answer:
            with contextlib.suppress(OSError):
                conn.sock.send(answer)
        self.nr_conns -= 1
        conn.close()

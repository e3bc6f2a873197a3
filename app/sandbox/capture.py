"""Bounded capture of a stream: keep the head and the tail, count what falls in between.

A test that prints forever must not eat the worker's memory, so nothing here grows with the
output. The head shows how a run started, the tail holds pytest's summary; the middle is the
part worth dropping, and the marker says how much was dropped.
"""

from __future__ import annotations

from app.sandbox.constants import TRUNCATION_MARKER


class BoundedBuffer:
    """Keeps at most `limit` bytes of a stream: its first half and its last half."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError(f"output limit must be >= 0 bytes, got {limit}")
        self._tail_cap = limit // 2
        self._head_cap = limit - self._tail_cap
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        """Take the next piece of the stream."""
        self.total += len(chunk)
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk and self._tail_cap:
            self._tail += chunk
            # Trim only when twice the cap is reached: amortised O(1) per byte, memory <= 2x cap.
            if len(self._tail) > 2 * self._tail_cap:
                del self._tail[: len(self._tail) - self._tail_cap]

    @property
    def dropped(self) -> int:
        """Bytes of the stream that are not kept."""
        return self.total - len(self._head) - len(self._kept_tail())

    def _kept_tail(self) -> bytes:
        return bytes(self._tail[-self._tail_cap :]) if self._tail_cap else b""

    def text(self) -> str:
        """The kept bytes as text, with the truncation marker where bytes were dropped."""
        head = self._head.decode("utf-8", errors="replace")
        tail = self._kept_tail().decode("utf-8", errors="replace")
        if not self.dropped:
            return head + tail
        return head + TRUNCATION_MARKER.format(dropped=self.dropped) + tail

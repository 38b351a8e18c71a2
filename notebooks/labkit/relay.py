"""A network in user space: a relay on 127.0.0.1 that makes every byte cross a round trip.

On loopback a round trip takes microseconds, so a new connection looks free. `LabServer(rtt=)`
puts this relay between the client and the lab server: every byte reaches the other side half
a round trip (`rtt / 2`) after it was sent, in order, in each direction. The kernel completes
the TCP handshake on loopback at once, so the relay stands in for it: a new connection's first
bytes leave one round trip late, as if `connect()` had waited for the server's "hello!". Over
TLS the handshake's messages cross the relay like any others, so TLS costs its real round
trips (one for TLS 1.3, two for TLS 1.2). No root, no kernel tools: pure Python, so it runs
wherever the pack runs.

One thread serves every connection (a selector and a timetable of deliveries), and each client
connection gets one upstream connection of its own, so the server still tells them apart.
"""

from __future__ import annotations

import selectors
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field

__all__ = ["Relay"]

WINDOW = 4_000_000  # bytes in flight per direction before the relay stops reading (like TCP's)
# The selector wakes up this much early (its timeout has millisecond steps; on Windows, the
# scheduler's 15.6 ms ticks), and the relay then sleeps the rest: time.sleep is precise.
EARLY = 0.016 if sys.platform == "win32" else 0.002


@dataclass(eq=False)
class _Direction:
    """Bytes on their way from one socket to the other: a timetable, then an outbox."""

    source: socket.socket
    pending: deque[tuple[float, bytes]] = field(default_factory=deque)  # (when due, data)
    outbox: bytearray = field(default_factory=bytearray)  # due, not yet accepted by the kernel
    in_flight: int = 0  # bytes in pending and outbox
    eof_at: float | None = None  # when the sender's hang-up reaches the other side
    eof_sent: bool = False

    @property
    def reading(self) -> bool:
        return self.eof_at is None and self.in_flight < WINDOW


@dataclass(eq=False)
class _Link:
    """One client connection and its upstream connection to the server."""

    client: socket.socket
    accepted: float  # time.perf_counter() when the client's connect reached the relay
    established: float  # the simulated TCP handshake's end: the client's bytes leave from here
    upstream: socket.socket | None = None
    up: _Direction = field(init=False)  # client -> server
    down: _Direction = field(init=False)  # server -> client

    def __post_init__(self) -> None:
        self.up = _Direction(self.client)
        self.down = _Direction(self.client)  # its source becomes the upstream once connected


class Relay:
    """Relay TCP from a port of its own on 127.0.0.1 to `target`, `rtt` seconds per round trip.

    `start()` it, read `port`, `close()` it (idempotent): that closes every socket and joins its
    one thread.
    """

    def __init__(self, target: tuple[str, int], rtt: float) -> None:
        self.target = target
        self.rtt = rtt
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.listener.setblocking(False)
        self.port: int = self.listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._links: list[_Link] = []
        self._stopping = False
        self._thread = threading.Thread(
            target=self._run, name=f"LabServer relay :{self.port}", daemon=True
        )

    def start(self) -> None:
        self._selector.register(self.listener, selectors.EVENT_READ)
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self._thread.start()

    def close(self) -> None:
        """Stop relaying: every connection ends, every socket closes, the thread is joined."""
        if self._stopping:
            return
        self._stopping = True
        try:
            self._wake_writer.send(b"x")
        except OSError:
            pass
        if self._thread.is_alive():
            self._thread.join()
        else:  # never started: the sockets are still ours to close
            self._close_all()

    # The loop: wait for a socket or the next due delivery, then move what is due.
    def _run(self) -> None:
        try:
            while not self._stopping:
                timeout = self._next_due()
                if timeout is not None:
                    timeout = max(0.0, timeout - time.perf_counter() - EARLY)
                for key, events in self._selector.select(timeout):
                    self._ready(key.fileobj, events)  # type: ignore[arg-type]
                self._deliver_due()
        finally:
            self._close_all()

    def _next_due(self) -> float | None:
        times: list[float] = []
        for link in self._links:
            if link.upstream is None:
                times.append(link.established + self.rtt / 2)
            for direction in (link.up, link.down):
                if direction.pending:
                    times.append(direction.pending[0][0])
                elif direction.eof_at is not None and not direction.eof_sent:
                    if not direction.outbox:  # else it waits for the receiver, not the clock
                        times.append(direction.eof_at)
        return min(times, default=None)

    def _ready(self, sock: socket.socket, events: int) -> None:
        if sock is self._wake_reader:
            return
        if sock is self.listener:
            self._accept()
            return
        link = next((x for x in self._links if sock in (x.client, x.upstream)), None)
        if link is None:
            return
        if events & selectors.EVENT_WRITE:
            self._flush(link, link.down if sock is link.client else link.up)
        if events & selectors.EVENT_READ and link in self._links:
            self._receive(link, link.up if sock is link.client else link.down)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. the client gave up before we accepted it
                return
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            now = time.perf_counter()
            link = _Link(client, accepted=now, established=now + self.rtt)
            self._links.append(link)
            self._watch(link)

    def _receive(self, link: _Link, direction: _Direction) -> None:
        try:
            data = direction.source.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # reset by the sender: it hung up, abruptly
            data = b""
        now = time.perf_counter()
        if direction is link.up:
            now = max(now, link.established)  # nothing travels before the handshake ends
        due = now + self.rtt / 2
        if data:
            direction.pending.append((due, data))
            direction.in_flight += len(data)
        else:
            direction.eof_at = due
        self._watch(link)

    def _deliver_due(self) -> None:
        due = self._next_due()
        if due is not None:
            wait = due - time.perf_counter()
            if 0 < wait <= EARLY:
                time.sleep(wait)
        now = time.perf_counter()
        for link in list(self._links):
            if link.upstream is None and now >= link.established + self.rtt / 2:
                if not self._connect(link):
                    continue
            if link.upstream is None:
                continue
            for direction in (link.up, link.down):
                moved = False
                while direction.pending and direction.pending[0][0] <= now:
                    direction.outbox += direction.pending.popleft()[1]
                    moved = True
                hang_up = direction.eof_at is not None and not direction.eof_sent
                if moved or (hang_up and direction.eof_at <= now):  # type: ignore[operator]
                    self._flush(link, direction)
                if link not in self._links:
                    break

    def _connect(self, link: _Link) -> bool:
        """Open the upstream connection, when the simulated handshake would reach the server."""
        try:
            upstream = socket.create_connection(self.target)
        except OSError:  # the server is gone: the client sees its connection end
            self._drop(link)
            return False
        upstream.setblocking(False)
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link.upstream = upstream
        link.down.source = upstream
        self._watch(link)
        return True

    def _flush(self, link: _Link, direction: _Direction) -> None:
        """Hand what is due to the kernel; forward a hang-up once everything before it left."""
        target = link.upstream if direction is link.up else link.client
        if target is None:
            return
        while direction.outbox:
            try:
                sent = target.send(direction.outbox)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # the receiver hung up: nothing more can reach it
                self._drop(link)
                return
            del direction.outbox[:sent]
            direction.in_flight -= sent
        if (
            not direction.outbox
            and not direction.pending
            and direction.eof_at is not None
            and not direction.eof_sent
            and direction.eof_at <= time.perf_counter()
        ):
            direction.eof_sent = True
            try:
                target.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        if link.up.eof_sent and link.down.eof_sent:
            self._drop(link)  # both sides hung up and every byte was delivered
            return
        self._watch(link)

    def _watch(self, link: _Link) -> None:
        """Tell the selector what each of the link's sockets waits for now."""
        up_outbox = link.up.outbox if link.upstream is not None else b""
        for sock, reading, outbox in (
            (link.client, link.up.reading, link.down.outbox),
            (link.upstream, link.down.reading, up_outbox),
        ):
            if sock is None:
                continue
            events = (selectors.EVENT_READ if reading else 0) | (
                selectors.EVENT_WRITE if outbox else 0
            )
            try:
                if events:
                    try:
                        self._selector.modify(sock, events)
                    except KeyError:
                        self._selector.register(sock, events)
                else:
                    self._selector.unregister(sock)
            except (KeyError, ValueError):
                pass

    def _drop(self, link: _Link) -> None:
        if link in self._links:
            self._links.remove(link)
        for sock in (link.client, link.upstream):
            if sock is None:
                continue
            try:
                self._selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            sock.close()

    def _close_all(self) -> None:
        for link in list(self._links):
            self._drop(link)
        self._selector.close()
        for sock in (self.listener, self._wake_reader, self._wake_writer):
            sock.close()

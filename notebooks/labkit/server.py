"""The lab server: a real HTTP/1.1 keep-alive server on 127.0.0.1 that counts TCP connections.

Every lesson talks to this server instead of the internet, so it runs offline and, above all,
the server can *tell* us how many TCP connections a client opened and which request travelled
on which connection. That is the evidence the lessons are built on.
"""

from __future__ import annotations

import functools
import io
import socket
import socketserver
import ssl
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from .relay import Relay

__all__ = ["ConnectionRecord", "JoinedThreadsMixIn", "LabServer", "RequestRecord", "plain_trust"]

MAX_DELAY = 30.0
MAX_BYTES = 10_000_000
MAX_RTT = 1.0  # seconds: more than any path on Earth; keeps a lesson's cell short


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it. Times are `time.perf_counter()` values."""

    connection: int  # 1, 2, 3 ... one number per TCP connection, in the order they were accepted
    # The client's source port: one TCP connection = one port. Across a round trip (`rtt`),
    # the relay's port for that connection: one upstream connection per client connection.
    client_port: int
    path: str
    status: int
    started: float
    finished: float  # when the answer was ready and about to be sent


@dataclass(frozen=True)
class ConnectionRecord:
    """One TCP connection as the server saw it: when it opened, and when and why it closed.

    `closed_by` is "client" when the client hung up (closing a client closes its pool), or
    "server" when the server did: `reason` says why ("idle timeout", "staged race",
    "staged race, reset",
    "lab server closing", "request timeout").
    """

    id: int  # the same number as RequestRecord.connection
    client_port: int
    opened: float  # time.perf_counter() values
    closed: float | None = None  # None while the connection is open
    closed_by: Literal["client", "server"] | None = None
    reason: str = ""

    @property
    def is_open(self) -> bool:
        return self.closed is None


@dataclass
class _Connection:
    """The mutable state behind a ConnectionRecord, kept by the connection's own thread."""

    id: int
    client_port: int
    opened: float
    last_active: float  # when the last answer began to leave, or the connection opened
    answered: int = 0  # requests answered: the keep-alive timer runs only after the first
    closed: float | None = None
    closed_by: Literal["client", "server"] | None = None
    reason: str = ""

    def record(self) -> ConnectionRecord:
        return ConnectionRecord(
            self.id, self.client_port, self.opened, self.closed, self.closed_by, self.reason
        )


@functools.cache
def _lab_ca() -> Any:
    """One throwaway certificate authority per Python process (trustme: never `verify=False`)."""
    import trustme  # imported here: plain-HTTP lessons never pay for it

    return trustme.CA()


@functools.cache
def _lab_trust() -> ssl.SSLContext:
    """A client context that trusts the lab CA and nothing else; one per process.

    Built once because loading certificates costs tens of milliseconds, and one SSLContext
    can serve any number of clients at once.
    """
    return ssl.create_default_context(cadata=_lab_ca().cert_pem.bytes().decode("ascii"))


@functools.cache
def plain_trust() -> ssl.SSLContext:
    """The system's CA bundle as one client context, loaded once per process.

    A default `httpx.Client()` loads that bundle (tens of milliseconds) each time it is built,
    even when it only ever speaks plain HTTP. (Across a network a new connection costs more
    than that: about 23 ms over HTTP and 37 ms over HTTPS at a 10 ms round trip, 104 and 160 ms
    at 50 ms, measured by `python -m labkit.bench` through `LabServer(rtt=...)`.) Code that
    builds many clients passes `verify=plain_trust()` instead and pays for the bundle once.
    (`LabServer.client_kwargs()` stays `{}` over HTTP: the lessons show what a default client
    does.)
    """
    return ssl.create_default_context()


class JoinedThreadsMixIn(socketserver.ThreadingMixIn):
    """Serve each connection in a thread of its own, and keep track of them all.

    ThreadingMixIn forgets its daemon threads, and a thread waiting for the next request on an
    idle keep-alive connection would outlive the server: `hang_up_and_join()` shuts every
    connection still open (which wakes its thread) and joins every thread. The lab server and
    lesson 06's WSGI server both stop this way.
    """

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lock = threading.Lock()
        self.live: set[socket.socket] = set()
        self.threads: set[threading.Thread] = set()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection, args=(request, client_address), daemon=True
        )
        with self.lock:
            self.threads.add(thread)
            self.live.add(request)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self.lock:
                self.threads.discard(threading.current_thread())
                self.live.discard(request)

    def hang_up_and_join(self, timeout: float = 5.0) -> None:
        """After `shutdown()` and `server_close()`: end every connection and join its thread."""
        with self.lock:
            live, threads = set(self.live), set(self.threads)
        for sock in live:  # wakes each connection's thread from its blocking read
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(timeout=timeout)


class _Server(JoinedThreadsMixIn, HTTPServer):
    # A burst of new connections must never wait for a SYN retry (1 s on Linux): big backlog.
    request_queue_size = 128

    def __init__(
        self,
        tls: ssl.SSLContext | None,
        idle_timeout: float | None,
        staged_race: bool | Literal["reset"],
    ) -> None:
        self.tls = tls
        self.idle_timeout = idle_timeout
        self.staged_race = staged_race
        self.stopping = threading.Event()
        self.next_connection = 1
        self.connections: list[_Connection] = []  # since start or reset(), in accept order
        self.records: list[RequestRecord] = []
        self.flaky_seen: set[str] = set()  # /flaky/<status> paths answered once already
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        if self.tls is not None:
            # The handshake runs later, in the connection's own thread (see _Handler.setup), so
            # a client that connects and says nothing cannot block the accept loop.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-request or fails the TLS handshake is part of normal life
        # here; the default prints a traceback into the learner's notebook.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive: one TCP connection can carry many requests
    # http.server writes the headers and the body in two send() calls. With Nagle's algorithm
    # on, the second waits for the client's delayed ACK (~40 ms), so every keep-alive request
    # stalls and a shared client looks *slower* than a new client per request. Turn it off.
    disable_nagle_algorithm = True
    timeout = 60  # a connection that goes silent mid-request is dropped, never kept forever
    default_request_version = "HTTP/1.1"  # so even a garbled request gets a real status line
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "%(code)d %(message)s\n"

    def setup(self) -> None:
        super().setup()
        if self.server.stopping.is_set():
            raise ConnectionAbortedError("the lab server is closing")
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()
        now = time.perf_counter()
        with self.server.lock:
            self.state = _Connection(self.server.next_connection, self.client_address[1], now, now)
            self.connection_id = self.state.id
            self.server.next_connection += 1
            self.server.connections.append(self.state)

    def handle_one_request(self) -> None:
        """Serve one request, after waiting for it as a real server's keep-alive timer would."""
        if self._next_request_arrives():
            super().handle_one_request()
            self.state.answered += 1
        else:
            self.close_connection = True

    def send_response_only(self, code: int, message: str | None = None) -> None:
        """Start an answer, and mark the connection active as of now, *before* it leaves: the
        client can start its pause only once it has the answer, so the idle time the staged race
        measures is never shorter than that pause. Marked after, a server thread descheduled
        for 50 ms after answering (seen on a loaded 2-core machine) hid the race from notebook
        07's 0.15 s pause against a 0.1 s timer."""
        self.state.last_active = time.perf_counter()
        super().send_response_only(code, message)

    def _next_request_arrives(self) -> bool:
        """Wait for the next request's first byte; False when the connection is to close now.

        With `idle_timeout`, a connection silent that long is closed, as uvicorn (5 s) or nginx
        (75 s) do, so the client's pool finds it closed before reusing it. With `staged_race`,
        the server instead waits, and closes without answering when a request arrives on a
        connection idle at least `idle_timeout`: the moment a real server meets by chance, when
        its idle timer fires just as the client reuses the connection. Both apply to a
        connection kept alive after an answer, as a real server's keep-alive timer does: a new
        connection's first request is always awaited for the handler's own timeout (on a loaded
        machine it may come more than `idle_timeout` after the connect).

        `staged_race=True` reads the request, then closes (a FIN: httpx raises
        RemoteProtocolError). `staged_race="reset"` closes with the request unread, as a real
        server whose timer fires before it read the bytes that arrived: the kernel then
        answers with a reset (RST), and httpx raises ReadError (ECONNRESET), the face the
        race shows most often against uvicorn.
        """
        idle, staged = self.server.idle_timeout, self.server.staged_race
        if not self.state.answered:
            idle = None
        timer = idle if idle is not None and not staged else self.timeout
        self.connection.settimeout(timer)
        try:
            first = cast(io.BufferedReader, self.rfile).peek(1)  # waits, reads nothing
        except TimeoutError:
            self._closing("server", "idle timeout" if timer == idle else "request timeout")
            return False
        except OSError:
            first = b""
        if not first:  # end of stream: the client hung up, or close() shut the socket
            if self.server.stopping.is_set():
                self._closing("server", "lab server closing")
            self._closing("client", "")
            return False
        self.connection.settimeout(self.timeout)
        if staged and idle is not None and time.perf_counter() - self.state.last_active >= idle:
            if staged == "reset":  # linger 0: close() sends an RST, never a FIN
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.reset_on_close = True
                self._closing("server", "staged race, reset")
                return False
            self.raw_requestline = self.rfile.readline(65537)
            self.parse_request()  # reads the headers: the request arrived, and is dropped
            self._closing("server", "staged race")
            return False
        return True

    def _closing(self, by: Literal["client", "server"], reason: str) -> None:
        if self.state.closed_by is None:
            self.state.closed_by, self.state.reason = by, reason

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        if hasattr(self, "state"):  # the connection got past its TLS handshake
            if self.server.stopping.is_set():
                self._closing("server", "lab server closing")
            self._closing("client", "")
            # Closed here, not by socketserver just after: when the records say "closed", the
            # socket (and its file descriptor) is gone.
            if getattr(self, "reset_on_close", False):
                self.server.close_request(self.connection)  # no shutdown(): it sends a FIN
            else:
                self.server.shutdown_request(self.connection)
            self.state.closed = time.perf_counter()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a log line per request would flood the learner's notebook."""

    def do_GET(self) -> None:
        started = time.perf_counter()
        if not self._read_body():
            self.close_connection = True  # the client hung up before its body was all sent
            return
        status, body = self._route(urlsplit(self.path).path)
        # Recorded before the answer leaves, so a client that has its response can trust
        # that the server's records already include it.
        record = RequestRecord(
            connection=self.connection_id,
            client_port=self.client_address[1],
            path=self.path,
            status=status,
            started=started,
            finished=time.perf_counter(),
        )
        with self.server.lock:
            self.server.records.append(record)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> bool:
        """Read the request's body, if any, and drop it; False if the stream ended first.

        Left unread, a body would be read as the next request on the connection, and the
        client's pooled connection would break, which no real server does to it.
        """
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            length = self.headers.get("Content-Length", "0")
            size = int(length) if length.isdigit() else 0
            return len(self.rfile.read(size)) == size
        while True:  # chunks: a hex size line, that many bytes and a CRLF; size 0 ends them
            line = self.rfile.readline(65537)
            size = int(line.split(b";")[0] or b"0", 16) if line.strip() else -1
            if size <= 0:
                break
            if len(self.rfile.read(size + 2)) != size + 2:
                return False
        while line not in (b"", b"\r\n", b"\n"):  # trailers, up to the blank line
            line = self.rfile.readline(65537)
        return line != b""

    def _route(self, path: str) -> tuple[int, bytes]:
        parts = path.strip("/").split("/")
        if path in ("", "/"):
            return 200, b"Hello from the lab server.\n"
        if len(parts) != 2 or parts[0] not in ("delay", "status", "flaky", "bytes"):
            return (
                404,
                f"no such path: {path} (try /, /delay/0.1, /status/404, /bytes/10)\n".encode(),
            )
        kind, raw = parts
        if kind == "delay":
            try:
                seconds = float(raw)
            except ValueError:
                seconds = -1.0
            if not 0 <= seconds <= MAX_DELAY:
                return 400, f"bad delay {raw!r}: give seconds from 0 to {MAX_DELAY:g}\n".encode()
            # An Event, not time.sleep: close() wakes every waiting request and drops it.
            if self.server.stopping.wait(seconds):
                raise ConnectionAbortedError("the lab server is closing")
            return 200, f"waited {raw} s\n".encode()
        number = int(raw) if raw.isdigit() else -1
        if kind in ("status", "flaky"):
            if not 200 <= number <= 599 or number in (204, 304):
                return (
                    400,
                    f"bad status {raw!r}: give a code from 200 to 599 (not 204 or 304)\n".encode(),
                )
            if kind == "flaky":  # a hiccup: that status once (since start or reset), then 200
                with self.server.lock:
                    first = path not in self.server.flaky_seen
                    self.server.flaky_seen.add(path)
                number = number if first else 200
            return number, f"status {number}\n".encode()
        if not 0 <= number <= MAX_BYTES:
            return 400, f"bad size {raw!r}: give a byte count from 0 to {MAX_BYTES}\n".encode()
        return 200, b"x" * number


class LabServer:
    """A local HTTP (or HTTPS) server that counts the TCP connections its clients open.

    Use it as a context manager, or call `close()` when done:

        with LabServer() as server:
            with httpx.Client(**server.client_kwargs()) as client:
                client.get(server.url + "/delay/0.1")
            print(server.connections_opened)

    `rtt=0.05` puts the server 50 ms away: a relay on 127.0.0.1 (labkit/relay.py) delivers
    every byte half a round trip after it was sent, in each direction, and holds a new
    connection's first bytes one round trip more, standing in for the TCP handshake that the
    kernel completes at once on loopback. TLS handshakes cross the relay too, so they cost their
    real round trips. Then `url` is the relay's, and the server's records (`client_port`) show
    the relay's side of each connection, one upstream connection per client connection: count
    and compare them, but match a port with `client_port(response)` only when `rtt` is 0.
    """

    def __init__(
        self,
        tls: bool = False,
        *,
        rtt: float = 0.0,
        idle_timeout: float | None = None,
        staged_race: bool | Literal["reset"] = False,
    ) -> None:
        if not isinstance(tls, bool):
            raise ValueError(f"tls must be True or False, not {tls!r}")
        if idle_timeout is not None and (
            isinstance(idle_timeout, bool)
            or not isinstance(idle_timeout, int | float)
            or not 0 < idle_timeout <= MAX_DELAY
        ):
            raise ValueError(
                f"idle_timeout must be None or seconds above 0 and up to {MAX_DELAY:g}, "
                f"not {idle_timeout!r}"
            )
        if not (isinstance(staged_race, bool) or staged_race == "reset"):
            raise ValueError(f"staged_race must be True, False or 'reset', not {staged_race!r}")
        if staged_race and idle_timeout is None:
            raise ValueError(
                f"staged_race={staged_race!r} needs an idle_timeout: it stages that timer's race"
            )
        if (
            isinstance(rtt, bool)
            or not isinstance(rtt, int | float)
            or not 0 <= rtt <= MAX_RTT  # False for NaN too
        ):
            raise ValueError(
                f"rtt must be a round-trip time in seconds from 0 to {MAX_RTT:g}, not {rtt!r}"
            )
        self.rtt = float(rtt)
        self.tls = tls
        self.idle_timeout = idle_timeout
        self.staged_race = staged_race
        server_context = None
        if tls:
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            _lab_ca().issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
        self._server = _Server(server_context, idle_timeout, staged_race)
        host, port = self._server.socket.getsockname()[:2]  # str and int, as bound
        self._relay: Relay | None = None
        if self.rtt:
            self._relay = Relay((host, port), self.rtt)
            port = self._relay.port  # clients talk to the relay; the relay to the server
        self.url = f"{'https' if tls else 'http'}://{host}:{port}"
        self._closed = False
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"LabServer {self.url}",
            daemon=True,
        )
        self._thread.start()
        if self._relay is not None:
            self._relay.start()

    def client_kwargs(self) -> dict[str, Any]:
        """What an httpx client needs to talk to this server: trust in the lab CA over TLS."""
        return {"verify": _lab_trust()} if self.tls else {}

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted since start or the last `reset()`."""
        with self._server.lock:
            return len(self._server.connections)

    @property
    def connections(self) -> list[ConnectionRecord]:
        """Every TCP connection since start or `reset()`: when it opened, closed, and why."""
        with self._server.lock:
            return [c.record() for c in self._server.connections]

    @property
    def open_connections(self) -> int:
        """How many of `connections` are still open (not closed by either side yet)."""
        return sum(c.is_open for c in self.connections)

    def wait_until_closed(self, timeout: float = 2.0) -> bool:
        """Wait until every connection in `connections` is closed; False if some still aren't.

        A client that closes its pool sends its FIN at once, but the server's connection
        thread notices a moment later: wait for that before judging "the client closed".
        """
        if not (isinstance(timeout, int | float) and 0 <= timeout <= MAX_DELAY):
            raise ValueError(f"timeout must be seconds from 0 to {MAX_DELAY:g}, not {timeout!r}")
        deadline = time.monotonic() + timeout
        while self.open_connections:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    @property
    def requests(self) -> list[RequestRecord]:
        """What the server answered since start or `reset()`, in the order it finished them."""
        with self._server.lock:
            return list(self._server.records)

    def reset(self) -> None:
        """Start counting afresh (connections already open stay open, no longer listed), and
        let every /flaky/<status> answer its status once more."""
        with self._server.lock:
            self._server.connections = []
            self._server.records.clear()
            self._server.flaky_seen.clear()

    def close(self) -> None:
        """Stop serving and close every socket. Calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        self._server.stopping.set()
        if self._relay is not None:
            self._relay.close()  # no new connection reaches the server from here on
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()
        self._server.hang_up_and_join()

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "serving"
        network = f" across a {self.rtt * 1000:g} ms round trip" if self.rtt else ""
        return f"<LabServer {'HTTPS' if self.tls else 'HTTP'}{network} {state}>"

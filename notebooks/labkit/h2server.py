"""A lab HTTP/2 server: hypercorn over TLS on 127.0.0.1, counting connections and streams.

The LabServer speaks HTTP/1.1 only, where a connection carries one request at a time. HTTP/2
multiplexes: one TCP connection carries many requests (streams) at once. To *see* that, this
server records, for every request, which TCP connection carried it (the client's source port)
and how many requests were in flight on that connection when it arrived.

hypercorn needs its certificate and key as files, so they are written (from the lab's trustme
CA, the one `LabServer(tls=True)` uses) to a temporary folder, deleted on `close()`. It runs in
a thread of its own, with its own event loop, and its error log off: a notebook must stay quiet.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .server import MAX_DELAY, _lab_ca, _lab_trust

__all__ = ["H2LabServer", "H2Request", "stream_limits"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class H2Request:
    """One request as the server saw it."""

    client_port: int  # one TCP connection = one port
    http_version: str  # "2" or "1.1"
    path: str
    in_flight_on_connection: int  # requests in flight on this connection as this one arrived


class H2LabServer:
    """hypercorn on 127.0.0.1 over TLS, HTTP/2 and HTTP/1.1 (the client chooses, by ALPN).

        with H2LabServer() as server:
            async with httpx.AsyncClient(http2=True, **server.client_kwargs()) as client:
                await client.get(server.url + "/delay/0.1")
            server.connections_opened, server.peak_streams

    `max_concurrent_streams` is the limit the server advertises in its HTTP/2 SETTINGS frame:
    how many requests a client may have in flight on one connection.
    """

    def __init__(self, *, max_concurrent_streams: int = 100) -> None:
        if (
            isinstance(max_concurrent_streams, bool)
            or not isinstance(max_concurrent_streams, int)
            or not 1 <= max_concurrent_streams <= 1000
        ):
            raise ValueError(
                f"max_concurrent_streams must be a whole number from 1 to 1000, "
                f"not {max_concurrent_streams!r}"
            )
        from hypercorn.asyncio import serve  # imported here: only this server needs hypercorn
        from hypercorn.config import Config

        self.max_concurrent_streams = max_concurrent_streams
        self._lock = threading.Lock()
        self._records: list[H2Request] = []
        self._in_flight: Counter[int] = Counter()
        self._folder = tempfile.TemporaryDirectory(prefix="labkit-h2-")
        cert_file, key_file = (
            Path(self._folder.name, "cert.pem"),
            Path(self._folder.name, "key.pem"),
        )
        cert = _lab_ca().issue_cert("127.0.0.1", "localhost")
        cert.cert_chain_pems[0].write_to_path(str(cert_file))
        cert.private_key_pem.write_to_path(str(key_file))

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        port = sock.getsockname()[1]
        self.url = f"https://127.0.0.1:{port}"

        config = Config()
        config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns (and closes) the socket now
        config.certfile, config.keyfile = str(cert_file), str(key_file)
        config.alpn_protocols = ["h2", "http/1.1"]
        config.h2_max_concurrent_streams = max_concurrent_streams
        config.errorlog = None  # hypercorn logs to stderr by default: not in a notebook
        config.accesslog = None
        config.graceful_timeout = 0.5

        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        ready = threading.Event()

        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            # A client that drops a connection mid-handshake is normal life here; asyncio would
            # log it to stderr ("Error on transport creation"), into the learner's notebook.
            self._loop.set_exception_handler(lambda loop, context: None)
            ready.set()
            await serve(self._app, config, shutdown_trigger=self._stop.wait)  # type: ignore[arg-type]

        self._thread = threading.Thread(
            target=lambda: asyncio.run(main()), name=f"H2LabServer {self.url}", daemon=True
        )
        self._closed = False
        self._thread.start()
        ready.wait(timeout=10)

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI app: `/` and `/delay/<seconds>`, recording each request as it arrives."""
        if scope["type"] == "lifespan":
            while True:
                event = (await receive())["type"]  # "lifespan.startup", "lifespan.shutdown"
                await send({"type": f"{event}.complete"})
                if event == "lifespan.shutdown":
                    return
        port = scope["client"][1]
        with self._lock:
            self._in_flight[port] += 1
            self._records.append(
                H2Request(port, scope["http_version"], scope["path"], self._in_flight[port])
            )
        try:
            status, body = await self._route(scope["path"])
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            with self._lock:
                self._in_flight[port] -= 1

    async def _route(self, path: str) -> tuple[int, bytes]:
        if path == "/":
            return 200, b"Hello from the HTTP/2 lab server.\n"
        kind, _, raw = path.strip("/").partition("/")
        try:
            seconds = float(raw) if kind == "delay" else -1.0
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds <= MAX_DELAY:
            return 404, f"no such path: {path} (try / or /delay/0.1)\n".encode()
        await asyncio.sleep(seconds)
        return 200, f"waited {raw} s\n".encode()

    def client_kwargs(self) -> dict[str, Any]:
        """What an httpx client needs to talk to this server: trust in the lab CA."""
        return {"verify": _lab_trust()}

    @property
    def requests(self) -> list[H2Request]:
        """Every request since start or `reset()`, in arrival order."""
        with self._lock:
            return list(self._records)

    @property
    def connections_opened(self) -> int:
        """TCP connections that carried requests since start or `reset()` (distinct ports)."""
        return len({r.client_port for r in self.requests})

    @property
    def peak_streams(self) -> int:
        """The most requests in flight at once on any one connection."""
        return max((r.in_flight_on_connection for r in self.requests), default=0)

    def http_versions(self) -> set[str]:
        return {r.http_version for r in self.requests}

    def reset(self) -> None:
        with self._lock:
            self._records.clear()

    def close(self) -> None:
        """Stop hypercorn, join its thread, delete the certificate files. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
        self._folder.cleanup()

    def __enter__(self) -> H2LabServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<H2LabServer HTTPS h2 {'closed' if self._closed else 'serving'}>"


def stream_limits(client: httpx.AsyncClient | httpx.Client) -> list[int]:
    """The stream limit each HTTP/2 connection in a client's pool was given by its server.

    The server advertises it in its SETTINGS frame (SETTINGS_MAX_CONCURRENT_STREAMS): how many
    requests may be in flight at once on that connection. This reads private attributes of
    httpx and httpcore (and h2's state): fine for a lesson, not for production code.
    """
    pool: Any = client._transport._pool  # type: ignore[union-attr]
    limits = []
    for connection in pool.connections:
        h2_state = getattr(getattr(connection, "_connection", None), "_h2_state", None)
        if h2_state is not None:
            limits.append(int(h2_state.remote_settings.max_concurrent_streams))
    return limits

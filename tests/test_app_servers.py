"""labkit.apps' servers beyond FastAPI and Flask's happy path: what `stop()` and `start()` promise.

`WsgiServer.stop()` hangs up on connections still open: werkzeug answers `Connection: close`,
so a real client never leaves one idle; a raw socket that stopped mid-request (or never spoke)
is what keeps a connection's thread waiting. `AsgiServer` runs any ASGI app that speaks the
lifespan protocol: tested here with plain ASGI apps, no FastAPI.
"""

from __future__ import annotations

import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from labkit.apps import AsgiServer, StartupFailed, WsgiServer


def _hello_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def _hung_up(sock: socket.socket, within: float) -> bool:
    """True if the other end closed the connection within `within` seconds (end of stream)."""
    if not select.select([sock], [], [], within)[0]:
        return False
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_wsgi_stop_hangs_up_on_connections_left_open() -> None:
    before = set(threading.enumerate())
    web = WsgiServer(_hello_wsgi).start()
    with httpx.Client() as client:
        assert client.get(web.url + "/").text == "hello"
    # That connection's thread ends once it reads the client's hang-up: on a loaded machine,
    # maybe after the two below have connected (seen: 3 threads). Wait for it first.
    deadline = time.monotonic() + 5
    while web._server.threads and time.monotonic() < deadline:
        time.sleep(0.005)
    mid_request = socket.create_connection(("127.0.0.1", _port(web.url)), timeout=5)
    silent = socket.create_connection(("127.0.0.1", _port(web.url)), timeout=5)
    with mid_request, silent:
        mid_request.sendall(b"GET / HTTP/1.1\r\nHo")  # its thread now waits for the rest
        deadline = time.monotonic() + 5
        while len(web._server.threads) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(web._server.threads) == 2  # both connections are being served
        assert not _hung_up(mid_request, 0) and not _hung_up(silent, 0)
        web.stop()
        # 2 s for the FIN to arrive is margin for a loaded machine: without the hang-up, these
        # connections would stay open for good (werkzeug's handler has no timeout).
        assert _hung_up(mid_request, 2) and _hung_up(silent, 2)
    assert [t.name for t in set(threading.enumerate()) - before if t.is_alive()] == []


def _lifespan_app(events: list[str], *, fail_start_up: bool = False) -> Any:
    """A plain ASGI app (no framework) that speaks the lifespan protocol."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    events.append("start-up")
                    if fail_start_up:
                        raise RuntimeError("no database")
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    events.append("shutdown")
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"plain"})

    return app


def test_asgi_server_serves_a_plain_asgi_app_through_its_lifespan() -> None:
    events: list[str] = []
    with AsgiServer(_lifespan_app(events), quiet=True) as web:
        assert events == ["start-up"]
        with httpx.Client() as client:
            assert client.get(web.url + "/").text == "plain"
    assert events == ["start-up", "shutdown"] and web.errors == []


def test_a_plain_apps_failing_start_up_raises_startup_failed() -> None:
    """A start-up that raises (without the `lifespan.startup.failed` message a framework sends)
    must not be taken for "this app has no lifespan" and served anyway."""
    events: list[str] = []
    web = AsgiServer(_lifespan_app(events, fail_start_up=True), quiet=True)
    with pytest.raises(StartupFailed, match="RuntimeError: no database"):
        web.start()
    assert events == ["start-up"] and not web.running


def test_an_app_without_lifespan_support_is_refused_with_its_error() -> None:
    """What the docstring promises: an app must speak the lifespan protocol (start() waits for
    its start-up); one that does not is told so by the error it raised, not served blind."""

    async def http_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http", f"unsupported scope {scope['type']!r}"

    web = AsgiServer(http_only, quiet=True)
    with pytest.raises(StartupFailed, match="unsupported scope 'lifespan'"):
        web.start()
    assert [(e.where, e.kind) for e in web.errors] == [("lifespan", "AssertionError")]


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_app_servers_listen_on_loopback_only(kind: str) -> None:
    web = AsgiServer(_lifespan_app([]), quiet=True) if kind == "asgi" else WsgiServer(_hello_wsgi)
    with web:
        url = urlsplit(web.url)
        assert url.hostname == "127.0.0.1"
        with httpx.Client() as client:
            assert client.get(web.url + "/").status_code == 200
        if sys.platform.startswith("linux"):  # Linux routes all of 127.0.0.0/8 to loopback
            with pytest.raises(ConnectionRefusedError):  # a server on 0.0.0.0 would accept
                socket.create_connection(("127.0.0.2", url.port or 0), timeout=5).close()

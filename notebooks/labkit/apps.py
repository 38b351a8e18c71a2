"""Real web servers for lesson 06: an ASGI app under uvicorn, a WSGI app under werkzeug.

A lesson about "where does the one client live in my app" needs real apps served by real
servers, started and stopped by the notebook itself (never by hand), quietly (a log line on
stderr would break the notebook's stored outputs), and without leaving a thread or socket
behind. Both servers listen on 127.0.0.1, on a port the OS picks, from a thread of their own.

    with AsgiServer(app) as web:          # uvicorn: runs the app's lifespan start-up
        responses = await burst(web.url + "/status")
    # leaving the block ran the lifespan's shutdown

`burst()` plays the app's visitors: many requests, a few at a time, from a client of its own.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Self

import httpx
import uvicorn
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from .server import JoinedThreadsMixIn, plain_trust

__all__ = ["AppError", "AsgiServer", "StartupFailed", "WsgiServer", "burst"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

START_TIMEOUT = 10.0  # seconds: uvicorn starts in well under one, even on a busy machine


@dataclass(frozen=True)
class AppError:
    """Something the app raised: in its lifespan (start-up or shutdown) or in a request.

    Kept as words only: holding the exception would keep the app's frames (and the clients in
    them) alive after the server stopped.
    """

    where: str  # "lifespan" or "http"
    kind: str  # the exception's type name, e.g. "NotImplementedError"
    message: str  # "NotImplementedError: ..." (first line)


class StartupFailed(RuntimeError):
    """The app's lifespan start-up raised, so uvicorn never started serving."""

    def __init__(self, errors: list[AppError]) -> None:
        first = errors[0].message if errors else "uvicorn did not start"
        super().__init__(f"the app's start-up failed: {first}")
        self.errors = errors


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


class _Watched:
    """An ASGI wrapper that notes what the app raises (uvicorn only logs it)."""

    def __init__(self, app: AsgiApp, errors: list[AppError]) -> None:
        self.app = app
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            self.errors.append(AppError(scope["type"], type(exc).__name__, _first_line(exc)))
            raise


def _log_config(quiet: bool) -> dict[str, Any]:
    """uvicorn's loggers: warnings and errors on stderr, or (quiet) nowhere; no access log."""
    handler = (
        {"class": "logging.NullHandler"}
        if quiet
        else {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "plain"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "uvicorn %(levelname)s: %(message)s"}},
        "handlers": {"lab": handler},
        "loggers": {"uvicorn": {"handlers": ["lab"], "level": "WARNING", "propagate": False}},
    }


class _ServedFromAThread:
    """What both app servers share: a thread that serves, `with` that starts and stops it."""

    _thread: threading.Thread | None

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class AsgiServer(_ServedFromAThread):
    """uvicorn serving an ASGI app (FastAPI, Starlette) on 127.0.0.1, from a thread of its own.

    The app must speak ASGI's lifespan protocol (FastAPI and Starlette apps do): uvicorn runs
    with `lifespan="on"`, so a start-up that raises is a `StartupFailed`, never mistaken for
    "no lifespan here" and served anyway (what `"auto"` does); an app without lifespan support
    is refused the same way, with the error it raised.
    `start()` returns once the app's lifespan start-up has run (or raises `StartupFailed`);
    `stop()` asks uvicorn to exit, which runs the lifespan's shutdown, and joins the thread.
    The socket is bound before uvicorn starts, so `url` is known at once and no port is
    guessed. `errors` lists what the app raised. `quiet=True` keeps uvicorn's own log off
    stderr (the exercise checks use it: they judge `errors` instead).
    """

    def __init__(self, app: Any, *, quiet: bool = False) -> None:
        self.errors: list[AppError] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        host, port = self._socket.getsockname()
        self.url = f"http://{host}:{port}"
        config = uvicorn.Config(
            _Watched(app, self.errors),
            log_level="warning",
            log_config=_log_config(quiet),
            access_log=False,
            lifespan="on",
            interface="asgi3",
            loop="asyncio",
            # A request still in progress at stop() gets 1 s to finish (the lab apps answer in
            # milliseconds); a check judging a wrong answer that never answers waits no longer.
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Serve from a background thread; wait until the app's start-up has run."""
        if self._thread is not None:
            raise RuntimeError("this AsgiServer was already started")
        self._thread = threading.Thread(target=self._serve, name=f"uvicorn {self.url}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise StartupFailed([e for e in self.errors if e.where == "lifespan"])
            time.sleep(0.002)
        return self

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except SystemExit:  # uvicorn's way to say "start-up failed": errors has the reason
            pass

    def stop(self) -> None:
        """Ask uvicorn to exit (it runs the lifespan's shutdown) and wait for it. Idempotent."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=START_TIMEOUT)
        self._socket.close()

    def __repr__(self) -> str:
        return f"<AsgiServer uvicorn {'serving' if self.running else 'stopped'}>"


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's request handler without its line per request on stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _Threaded(JoinedThreadsMixIn, ThreadedWSGIServer):
    """werkzeug's threaded server, keeping its request threads so that `stop()` can join them."""

    def __init__(self, app: Any) -> None:
        super().__init__("127.0.0.1", 0, app, handler=_QuietHandler)


@dataclass
class WsgiServer(_ServedFromAThread):
    """A WSGI app (Flask) under werkzeug's threaded server on 127.0.0.1: a thread per connection.

    What `flask run` uses, minus its banner and its log line per request. `stop()` stops
    accepting, hangs up on connections still open (a client's idle keep-alive ones) and joins
    every thread.
    """

    app: Any
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self._server = _Threaded(self.app)
        self.url = f"http://127.0.0.1:{self._server.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("this WsgiServer was already started")
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"werkzeug {self.url}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every socket, join every thread. Idempotent."""
        if self._thread is None:
            self._server.server_close()
            return
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
        self._server.hang_up_and_join()

    def __repr__(self) -> str:
        return f"<WsgiServer werkzeug {'serving' if self.running else 'stopped'}>"


async def burst(
    url: str, *, requests: int = 30, at_once: int = 5, timeout: float = 10.0
) -> list[httpx.Response]:
    """GET `url` `requests` times, `at_once` at a time, from one client of its own: the visitors.

    More requests than are in flight at once, so that an app that shares one client needs only
    `at_once` downstream connections, while an app with a client per request needs one per
    request. The responses come back read and in order; their connections are closed.

    Each visitor comes on a TCP connection of its own, as visitors from many machines do. Kept
    alive, a connection could fail the next visitor: when an app raises after its answer began
    (FastAPI's error middleware sends a 500, then re-raises), uvicorn closes the connection a
    moment later, and a visitor who reused it meanwhile gets a ReadError, not an answer.
    The visitors' client trusts the process's one CA bundle (`plain_trust`): a check bursts
    several times, and a default client loads the bundle anew each time (tens of ms of CPU).
    """
    if requests < 1 or at_once < 1:
        raise ValueError(f"requests and at_once must be at least 1, not {requests}, {at_once}")
    gate = asyncio.Semaphore(at_once)
    limits = httpx.Limits(max_connections=at_once, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        timeout=timeout, limits=limits, trust_env=False, verify=plain_trust()
    ) as visitors:

        async def one() -> httpx.Response:
            async with gate:
                return await visitors.get(url)

        return list(await asyncio.gather(*(one() for _ in range(requests))))

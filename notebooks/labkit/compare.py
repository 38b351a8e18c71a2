"""httpx beside httpx2: the same experiment run on each library, counted on the lab server.

Lesson 09 passes a library module (`httpx` or `httpx2`, imported by name) to each function
here, so one experiment, unchanged, shows where the two lines agree and where they differ.
The differences come from their pools: httpx 0.x uses httpcore 1.0.9, httpx2 uses httpcore2.
`pool_summary` reads the pool's own repr (`_transport._pool`: private, fine for a lesson).
Clients here get a CA store loaded once (`plain_trust()`): a default client would load its own
every time it is built, and these experiments build dozens.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .server import LabServer, plain_trust

__all__ = [
    "QueuedRequest",
    "cancel_while_closing",
    "connections_for_requests",
    "keepalive_churn",
    "lifecycle_messages",
    "one_client_two_loops",
    "pool_summary",
    "queued_requests",
]


def _library(library: ModuleType) -> Any:
    """The module, checked: lesson 09 passes `httpx` or `httpx2` itself, not its name."""
    if not isinstance(library, ModuleType) or library.__name__ not in ("httpx", "httpx2"):
        raise ValueError(f"library must be the module httpx or httpx2, not {library!r}")
    return library


def _kwargs(server: LabServer) -> dict[str, Any]:
    """What a client needs for `server`, with a CA store loaded once (see the docstring)."""
    return server.client_kwargs() or {"verify": plain_trust()}


def _raised(action: Callable[[], object]) -> str:
    try:
        action()
    except RuntimeError as exc:
        return str(exc)
    return "(no error)"


def lifecycle_messages(library: ModuleType) -> list[str]:
    """The RuntimeError of each lifecycle mistake: nested `with`, reopen, send after close."""
    lib = _library(library)
    trust = plain_trust()

    def nested() -> None:
        with lib.Client(verify=trust) as client, client:
            pass

    def reopen() -> None:
        client = lib.Client(verify=trust)
        with client:
            pass
        with client:
            pass

    def send_after_close() -> None:
        client = lib.Client(verify=trust)
        client.close()
        client.get("http://127.0.0.1:9/")  # never sent: the closed client refuses first

    return [_raised(nested), _raised(reopen), _raised(send_after_close)]


def connections_for_requests(
    library: ModuleType, server: LabServer, *, shared: bool, requests: int = 5
) -> int:
    """TCP connections the server accepted for `requests` GETs: one client, or one per request."""
    lib = _library(library)
    server.reset()
    if shared:
        with lib.Client(**_kwargs(server)) as client:
            for _ in range(requests):
                client.get(server.url + "/")
    else:
        for _ in range(requests):
            with lib.Client(**_kwargs(server)) as client:
                client.get(server.url + "/")
    return server.connections_opened


def pool_summary(client: Any) -> str:
    """The pool's own summary: "Requests: 0 active, 0 queued | Connections: 0 active, 1 idle"."""
    return repr(client._transport._pool).split(" [", 1)[1].rstrip("]>")


def keepalive_churn(
    library: ModuleType,
    server: LabServer,
    *,
    max_connections: int = 4,
    max_keepalive_connections: int = 2,
    requests: int = 12,
    latency: float = 0.1,
) -> int:
    """TCP connections opened by `requests` GETs of /delay/<latency>, `max_connections` at once.

    A pool that keeps its connections opens `max_connections` at most; one that closes them
    as they come back (httpcore 1.0.9 counts busy connections against the keep-alive limit,
    encode/httpcore#1000) opens more.
    """
    lib = _library(library)
    limits = lib.Limits(
        max_connections=max_connections, max_keepalive_connections=max_keepalive_connections
    )
    server.reset()
    with (
        lib.Client(limits=limits, **_kwargs(server)) as client,
        ThreadPoolExecutor(max_connections) as workers,
    ):
        list(workers.map(lambda _: client.get(f"{server.url}/delay/{latency}"), range(requests)))
    return server.connections_opened


@dataclass(frozen=True)
class QueuedRequest:
    """One request that had to wait for the only connection."""

    answered: bool  # False: it ended in PoolTimeout
    waited: float  # seconds from sending to the server starting on it (or to the PoolTimeout)


def queued_requests(
    library: ModuleType,
    server: LabServer,
    *,
    requests: int = 5,
    latency: float = 0.2,
    pool_timeout: float = 0.5,
) -> list[QueuedRequest]:
    """`requests` threads send at once through a pool of ONE connection; who waits how long?"""
    lib = _library(library)
    server.reset()
    timeout = lib.Timeout(5.0, pool=pool_timeout)
    limits = lib.Limits(max_connections=1)
    start = threading.Barrier(requests)

    def one(number: int) -> QueuedRequest:
        path = f"/delay/{latency + number / 1000:g}"  # a path of its own, to find its record
        start.wait()
        sent = time.perf_counter()
        try:
            client.get(server.url + path)
        except lib.PoolTimeout:
            return QueuedRequest(False, time.perf_counter() - sent)
        started = next(r.started for r in server.requests if r.path == path)
        return QueuedRequest(True, started - sent)

    with (
        lib.Client(limits=limits, timeout=timeout, **_kwargs(server)) as client,
        ThreadPoolExecutor(requests) as workers,
    ):
        return list(workers.map(one, range(requests)))


async def cancel_while_closing(
    library: ModuleType, server: LabServer, *, tasks: int = 2, pool_timeout: float = 0.3
) -> tuple[str, str, str]:
    """Cancel `tasks` tasks, each while its response is being closed; then send one request.

    Staged, so that it happens every time: each task opens a streamed response and cancels
    itself, so the cancellation lands inside the response's close. Returns the pool's summary
    after the cancellations, what the next request got ("200" or "PoolTimeout"), and the
    pool's summary after that request.
    In real code the same happens when a timeout or a TaskGroup cancels at that moment.
    """
    lib = _library(library)
    limits = lib.Limits(max_connections=tasks)
    timeout = lib.Timeout(5.0, pool=pool_timeout)
    async with lib.AsyncClient(limits=limits, timeout=timeout, **_kwargs(server)) as client:

        async def cancelled_while_closing() -> None:
            async with client.stream("GET", server.url + "/bytes/100000"):
                task = asyncio.current_task()
                assert task is not None
                task.cancel()  # lands at the next await: inside the stream's close

        for _ in range(tasks):
            try:
                await asyncio.create_task(cancelled_while_closing())
            except asyncio.CancelledError:
                pass
        summary = pool_summary(client)
        try:
            outcome = str((await client.get(server.url + "/")).status_code)
        except lib.PoolTimeout:
            outcome = "PoolTimeout"
        after = pool_summary(client)
    return summary, outcome, after


def one_client_two_loops(library: ModuleType, server: LabServer) -> list[str]:
    """One AsyncClient used by two `asyncio.run()` calls, as lesson 05's script does.

    Run in a thread with no event loop of its own (a notebook's loop is already running).
    The unclosed transport that the second run leaves is collected here, its warning dropped.
    """
    lib = _library(library)
    client = lib.AsyncClient(**_kwargs(server))

    async def get_status() -> int:
        return int((await client.get(server.url + "/")).status_code)

    def script() -> list[str]:
        outcomes = []
        for _ in range(2):
            try:
                outcomes.append(f"status {asyncio.run(get_status())}")
            except RuntimeError as exc:
                outcomes.append(f"{type(exc).__name__}: {exc}")
        return outcomes

    with warnings.catch_warnings(record=True), ThreadPoolExecutor(max_workers=1) as worker:
        warnings.simplefilter("always")
        outcomes = worker.submit(script).result()
        gc.collect()
        # Its pool is empty by now: this only marks it closed.
        worker.submit(asyncio.run, client.aclose()).result()
    return outcomes

"""Seeing connection reuse from the client's side.

httpcore reports what it does through the `trace` request extension: a callback that gets an
event name for every step. A request that needs a new connection emits
`connection.connect_tcp.*` (and `connection.start_tls.*` over HTTPS) before its `http11.*`
events; a request that reuses a pooled connection emits only `http11.*` events.
(httpcore documents these names as subject to change; httpcore2, under httpx2, emits the same.)
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["ConnectionProbe", "RequestTrace", "client_port"]

NEW_TCP = "new TCP"
NEW_TCP_TLS = "new TCP + TLS"
REUSED = "reused"
CONNECT_FAILED = "connect failed"


@dataclass
class RequestTrace:
    """The trace events of one request, in order."""

    label: str
    events: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """`"new TCP"`, `"new TCP + TLS"`, `"reused"`, or `"connect failed"` (a new connection
        was tried and its connect raised: nothing was reused)."""
        if "connection.connect_tcp.started" not in self.events:
            return REUSED
        if "connection.connect_tcp.complete" not in self.events:
            return CONNECT_FAILED
        return NEW_TCP_TLS if "connection.start_tls.complete" in self.events else NEW_TCP


class ConnectionProbe:
    """Records, request by request, whether a client opened a new connection or reused one.

        probe = ConnectionProbe()
        client.get(url, extensions=probe.watch())               # httpx.Client
        await aclient.get(url, extensions=probe.watch_async())  # httpx.AsyncClient
        probe.verdicts  # ['new TCP', 'reused', ...]

    Safe to use from many threads or tasks at once: each `watch()` gets its own record.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.traces: list[RequestTrace] = []

    def _new_trace(self, label: str | None) -> RequestTrace:
        with self._lock:
            trace = RequestTrace(label if label is not None else f"request {len(self.traces) + 1}")
            self.traces.append(trace)
        return trace

    def watch(self, label: str | None = None) -> dict[str, Callable[[str, dict[str, Any]], None]]:
        """Request extensions for `httpx.Client`: pass as `extensions=probe.watch()`."""
        trace = self._new_trace(label)

        def callback(event_name: str, info: dict[str, Any]) -> None:
            trace.events.append(event_name)

        return {"trace": callback}

    def watch_async(
        self, label: str | None = None
    ) -> dict[str, Callable[[str, dict[str, Any]], Awaitable[None]]]:
        """Request extensions for `httpx.AsyncClient`: its trace callback must be `async def`."""
        trace = self._new_trace(label)

        async def callback(event_name: str, info: dict[str, Any]) -> None:
            trace.events.append(event_name)

        return {"trace": callback}

    @property
    def verdicts(self) -> list[str]:
        """One verdict per watched request, in the order `watch()` was called."""
        with self._lock:
            return [trace.verdict for trace in self.traces]

    def counts(self) -> dict[str, int]:
        """How many requests got each verdict, e.g. `{'new TCP': 2, 'reused': 18}`."""
        result: dict[str, int] = {}
        for verdict in self.verdicts:
            result[verdict] = result.get(verdict, 0) + 1
        return result

    def clear(self) -> None:
        with self._lock:
            self.traces.clear()

    def __repr__(self) -> str:
        return f"<ConnectionProbe {self.counts()}>"


def client_port(response: httpx.Response) -> int:
    """The client's source port for this response: one TCP connection, one port.

    Read it while the connection is still open (inside the client's `with` block).
    """
    if not isinstance(response, httpx.Response):
        raise ValueError(f"client_port needs an httpx.Response, not {response!r}")
    stream = response.extensions.get("network_stream")
    if stream is None:
        raise ValueError(
            f"{response!r} carries no network stream (was it sent over a real connection?)"
        )
    address = stream.get_extra_info("client_addr")
    if address is None:
        raise ValueError(
            f"the connection behind {response!r} is closed; "
            "read the port inside the client's with block"
        )
    return int(address[1])

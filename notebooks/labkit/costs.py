"""What a new connection costs, step by step, measured on this machine.

A client that reuses a pooled connection skips three things a fresh one pays for: building the
client (a default `httpx.Client()` loads the whole CA bundle, even for `http://` URLs), the TCP
connect and, over HTTPS, the TLS handshake. The TCP and TLS steps are timed from httpcore's own
trace events, so they measure exactly what httpx does, nothing around it.

Loopback has almost no network latency: these are floors. On a real network each step also
waits for round trips (notebook 02 works one example through).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx

from .bench import median_ms
from .server import LabServer, plain_trust

__all__ = ["BUILD", "TCP", "TLS", "WARM", "measure_connection_costs"]

BUILD = "new default httpx.Client()"
TCP = "TCP connect"
TLS = "TLS handshake"
WARM = "request on a warm connection"


def _traced_get(client: httpx.Client, url: str) -> dict[str, float]:
    """GET url and return when each trace event happened (`time.perf_counter()` values)."""
    marks: dict[str, float] = {}

    def trace(event_name: str, info: dict[str, Any]) -> None:
        marks[event_name] = time.perf_counter()

    client.get(url, extensions={"trace": trace})
    return marks


def _step_ms(marks: dict[str, float], step: str) -> float:
    """How long one traced step took, e.g. step="connect_tcp", in milliseconds."""
    return (marks[f"connection.{step}.complete"] - marks[f"connection.{step}.started"]) * 1000


def measure_connection_costs(
    server_http: LabServer, server_https: LabServer, repeat: int = 7
) -> dict[str, float]:
    """Median milliseconds of each step a new connection adds, and of a request on a warm one.

    Returns `{BUILD: ..., TCP: ..., TLS: ..., WARM: ...}`. Each step is measured `repeat` times
    after one unmeasured warm-up round; new connections and warm requests are measured in the
    same rounds, so a busy machine slows them alike and their order stays meaningful.
    """
    if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
        raise ValueError(f"repeat must be a whole number of at least 1, not {repeat!r}")
    if not isinstance(server_http, LabServer) or server_http.tls:
        raise ValueError(f"server_http must be a plain-HTTP LabServer(), not {server_http!r}")
    if not isinstance(server_https, LabServer) or not server_https.tls:
        raise ValueError(f"server_https must be a LabServer(tls=True), not {server_https!r}")

    build = median_ms(lambda: httpx.Client().close(), repeat, warmup=1)

    # Prebuilt SSL contexts: without them every client below would also pay for the CA bundle.
    http_kwargs: dict[str, Any] = {"verify": plain_trust()}
    https_kwargs = server_https.client_kwargs()
    tcp: list[float] = []
    tls: list[float] = []
    warm: list[float] = []
    for round_number in range(repeat + 1):
        with httpx.Client(**http_kwargs) as client:
            connect = _traced_get(client, server_http.url + "/")  # a new connection
            reused = median_ms(lambda: client.get(server_http.url + "/"), rounds=3, warmup=0)
        with httpx.Client(**https_kwargs) as client:
            handshake = _traced_get(client, server_https.url + "/")
        if round_number == 0:
            continue  # the warm-up round: first-use costs (imports, caches) are not the point
        tcp.append(_step_ms(connect, "connect_tcp"))
        tls.append(_step_ms(handshake, "start_tls"))
        warm.append(reused)
    return {
        BUILD: build,
        TCP: statistics.median(tcp),
        TLS: statistics.median(tls),
        WARM: statistics.median(warm),
    }

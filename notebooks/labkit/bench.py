"""`python -m labkit.bench`: the pooling figures the lessons quote, measured on this machine.

Medians over repeated runs against a LabServer on 127.0.0.1. Loopback has almost no network
latency, so these figures are a floor: on a real network a new connection costs more.
"""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Callable

import httpx

from .server import LabServer, plain_trust

ROUNDS = 300  # requests per pooled measurement
NEW_CLIENT_ROUNDS = 60  # a new default client costs ~20 ms, so fewer of those


def median_ms(action: Callable[[], object], rounds: int, warmup: int = 5) -> float:
    """Median wall time of `action` in milliseconds, after a few unmeasured warm-up calls."""
    if not isinstance(rounds, int) or isinstance(rounds, bool) or rounds < 1:
        raise ValueError(f"rounds must be a whole number of at least 1, not {rounds!r}")
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 0:
        raise ValueError(f"warmup must be a whole number of at least 0, not {warmup!r}")
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def shared_client_ms(server: LabServer, rounds: int = ROUNDS) -> float:
    """One request on a warm, pooled connection."""
    with httpx.Client(**server.client_kwargs()) as client:
        return median_ms(lambda: client.get(server.url + "/"), rounds)


def new_client_ms(server: LabServer, rounds: int, **client_kwargs: object) -> float:
    """A whole `with httpx.Client(...)` block around one request: build, connect, request, close."""

    def once() -> None:
        with httpx.Client(**client_kwargs) as client:  # type: ignore[arg-type]
            client.get(server.url + "/")

    return median_ms(once, rounds)


def raw_socket_ms(server: LabServer, rounds: int = ROUNDS) -> float:
    """The floor: a hand-written HTTP/1.1 keep-alive request on one plain socket, no httpx."""
    host, port = server.url.removeprefix("http://").split(":")
    request = f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    with socket.create_connection((host, int(port))) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("rb")

        def once() -> None:
            sock.sendall(request)
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            reader.read(length)

        try:
            return median_ms(once, rounds)
        finally:
            reader.close()


# A mid-size pool experiment: 40 requests of 0.1 s, 8 workers, 4 connections (ideal 1.0 s).
POOL_EXPERIMENT = {"max_connections": 4, "max_keepalive_connections": 4, "workers": 8,
                   "requests": 40, "latency": 0.1}


def pool_experiment_overhead(**settings: object) -> tuple[float, float]:
    """(elapsed, ideal) seconds of one `run_pool_experiment`: how close it gets to queueing theory."""
    from .pool import run_pool_experiment

    report = run_pool_experiment(**{**POOL_EXPERIMENT, **settings})  # type: ignore[arg-type]
    return report.elapsed, report.ideal_elapsed


def measure() -> list[tuple[str, float]]:
    """Every figure as (label, milliseconds)."""
    rows: list[tuple[str, float]] = []
    with LabServer() as http, LabServer(tls=True) as https:
        tls_context = https.client_kwargs()["verify"]
        plain_context = plain_trust()  # built once: these rows measure the client, not the CA bundle
        # Rounds passed explicitly: a default argument is fixed once, when the def runs.
        rows.append(("raw socket keep-alive round trip, HTTP (the floor)", raw_socket_ms(http, ROUNDS)))
        rows.append(("shared client, pooled request, HTTP", shared_client_ms(http, ROUNDS)))
        rows.append(("shared client, pooled request, HTTPS", shared_client_ms(https, ROUNDS)))
        rows.append(("new default httpx.Client() per request, HTTP", new_client_ms(http, NEW_CLIENT_ROUNDS)))
        rows.append(("new client, prebuilt SSLContext, per request, HTTP",
                     new_client_ms(http, ROUNDS // 2, verify=plain_context)))
        rows.append(("new client, prebuilt SSLContext, per request, HTTPS",
                     new_client_ms(https, ROUNDS // 2, verify=tls_context)))
    return rows


def main() -> None:
    started = time.perf_counter()
    rows = measure()
    ms = dict(rows)
    width = max(len(label) for label, _ in rows)
    print(f"{'median of repeated runs on 127.0.0.1':<{width}}  {'ms':>8}")
    for label, value in rows:
        print(f"{label:<{width}}  {value:8.3f}")
    shared_http = ms["shared client, pooled request, HTTP"]
    shared_https = ms["shared client, pooled request, HTTPS"]
    print()
    print("ratios (how many times slower than one shared client)")
    print(f"  new default client per request, HTTP:      {ms['new default httpx.Client() per request, HTTP'] / shared_http:6.1f}x  (target > 10x)")
    print(f"  new client, prebuilt SSLContext, HTTP:     {ms['new client, prebuilt SSLContext, per request, HTTP'] / shared_http:6.1f}x")
    print(f"  new client, prebuilt SSLContext, HTTPS:    {ms['new client, prebuilt SSLContext, per request, HTTPS'] / shared_https:6.1f}x")
    print(f"  shared client over the raw-socket floor:   {shared_http / ms['raw socket keep-alive round trip, HTTP (the floor)']:6.1f}x")
    verdict = "within" if shared_http < 1.0 else "OVER"
    print(f"\npooled HTTP round trip {shared_http:.3f} ms: {verdict} the target (well under 1 ms)")
    elapsed, ideal = pool_experiment_overhead()
    pool_verdict = "within" if elapsed <= ideal * 1.15 else "OVER"
    setup = POOL_EXPERIMENT
    print(f"pool experiment, {setup['requests']} requests of {setup['latency']:g} s, "
          f"{setup['workers']} workers, {setup['max_connections']} connections: {elapsed:.3f} s "
          f"vs ideal {ideal:.3f} s ({elapsed / ideal:.2f}x): {pool_verdict} the target (within 15%)")
    print(f"bench took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

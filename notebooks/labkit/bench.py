"""`python -m labkit.bench`: the pooling figures the lessons quote, measured on this machine.

Medians over repeated runs against a LabServer on 127.0.0.1. Loopback has almost no network
latency, so these figures are a floor: on a real network a new connection costs more. The last
rows measure that too, across a simulated network (`LabServer(rtt=...)`, 10 and 50 ms), each
beside its round-trip model.
"""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from .server import LabServer, plain_trust

ROUNDS = 300  # requests per pooled measurement
# A default client costs tens of ms to build (the "build and close" row measures how many on
# this machine), so fewer rounds of those.
NEW_CLIENT_ROUNDS = 60


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


def build_default_client_ms(rounds: int) -> float:
    """Build and close a default `httpx.Client()`, no request: what loading its CA bundle costs."""
    return median_ms(lambda: httpx.Client().close(), rounds)


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
POOL_EXPERIMENT = {
    "max_connections": 4,
    "max_keepalive_connections": 4,
    "workers": 8,
    "requests": 40,
    "latency": 0.1,
}


def pool_experiment_overhead(**settings: object) -> tuple[float, float]:
    """(elapsed, ideal) seconds of one `run_pool_experiment`: how close to queueing theory."""
    from .pool import run_pool_experiment

    report = run_pool_experiment(**{**POOL_EXPERIMENT, **settings})  # type: ignore[arg-type]
    return report.elapsed, report.ideal_elapsed


RAW = "raw socket keep-alive round trip, HTTP (the floor)"
SHARED_HTTP = "shared client, pooled request, HTTP"
SHARED_HTTPS = "shared client, pooled request, HTTPS"
BUILD = "build and close a default httpx.Client(), no request"
NEW_DEFAULT = "new default httpx.Client() per request, HTTP"
NEW_PREBUILT_HTTP = "new client, prebuilt SSLContext, per request, HTTP"
NEW_PREBUILT_HTTPS = "new client, prebuilt SSLContext, per request, HTTPS"

# The targets of pack-design.md's "Performance targets".
ROUND_TRIP_TARGET_MS = (
    1.0  # a pooled round trip well under 1 ms: the server is never the bottleneck
)
NEW_CLIENT_TARGET = 10.0  # a new default client per request is more than 10x a shared client
POOL_TARGET = 1.15  # a pool experiment within 15% of queueing theory


def measure() -> list[tuple[str, float]]:
    """Every figure as (label, milliseconds)."""
    rows: list[tuple[str, float]] = []
    with LabServer() as http, LabServer(tls=True) as https:
        tls_context = https.client_kwargs()["verify"]
        plain_context = (
            plain_trust()
        )  # built once: these rows measure the client, not the CA bundle
        # Rounds passed explicitly: a default argument is fixed once, when the def runs.
        rows.append((RAW, raw_socket_ms(http, ROUNDS)))
        rows.append((SHARED_HTTP, shared_client_ms(http, ROUNDS)))
        rows.append((SHARED_HTTPS, shared_client_ms(https, ROUNDS)))
        rows.append((BUILD, build_default_client_ms(NEW_CLIENT_ROUNDS)))
        rows.append((NEW_DEFAULT, new_client_ms(http, NEW_CLIENT_ROUNDS)))
        rows.append((NEW_PREBUILT_HTTP, new_client_ms(http, ROUNDS // 2, verify=plain_context)))
        rows.append((NEW_PREBUILT_HTTPS, new_client_ms(https, ROUNDS // 2, verify=tls_context)))
    return rows


# A simulated network (LabServer(rtt=...)): each row across 10 and 50 ms round trips.
NETWORK_RTTS = (0.01, 0.05)
NETWORK_ROUNDS = 20  # requests per row across a round trip (a new HTTPS connection: 3 of them)
NETWORK_TARGET = 0.10  # measured within 10% of the round-trip model at 10 and 50 ms
# What each row waits for, in round trips: the request, plus TCP's handshake on a new
# connection, plus TLS 1.3's.
NETWORK_ROWS = {
    "shared client, HTTP": (False, False, 1),
    "shared client, HTTPS": (True, False, 1),
    "new connection per request, HTTP": (False, True, 2),
    "new connection per request, HTTPS": (True, True, 3),
}


@dataclass(frozen=True)
class NetworkRow:
    """One row across a round trip: median ms there (`measured`) and at 0 ms (`loopback`)."""

    rtt: float  # seconds
    label: str
    loopback: float
    measured: float

    @property
    def model(self) -> float:
        """The round-trip model: the same request at 0 ms (its CPU), plus its round trips."""
        return self.loopback + NETWORK_ROWS[self.label][2] * self.rtt * 1000

    @property
    def off(self) -> float:
        """How far measured is from the model, as a fraction of the model (+ is slower)."""
        return self.measured / self.model - 1


def network_row(label: str, rtt: float, rounds: int = NETWORK_ROUNDS) -> NetworkRow:
    """Measure one of NETWORK_ROWS at `rtt` and at 0 ms, one request of each in turn.

    In turn, so that a busy machine slows both alike: the model's CPU share is measured in the
    same moments as the requests it predicts. "New connection per request" is a new client with
    a prebuilt SSLContext: it pays for the connection, not for loading a CA bundle.
    """
    tls, new, _ = NETWORK_ROWS[label]
    with LabServer(tls=tls) as near, LabServer(tls=tls, rtt=rtt) as far:
        verify = near.client_kwargs().get("verify", plain_trust())
        with httpx.Client(verify=verify) as near_client, httpx.Client(verify=verify) as far_client:

            def once(server: LabServer, client: httpx.Client) -> float:
                started = time.perf_counter()
                if new:
                    with httpx.Client(verify=verify) as own:
                        own.get(server.url + "/")
                else:
                    client.get(server.url + "/")
                return (time.perf_counter() - started) * 1000

            once(near, near_client), once(far, far_client)  # warm up: connect the shared ones
            pairs = [(once(near, near_client), once(far, far_client)) for _ in range(rounds)]
    return NetworkRow(
        rtt,
        label,
        statistics.median(a for a, _ in pairs),
        statistics.median(b for _, b in pairs),
    )


def measure_network(
    rtts: tuple[float, ...] = NETWORK_RTTS, rounds: int = NETWORK_ROUNDS
) -> list[NetworkRow]:
    """Every row of NETWORK_ROWS at every round-trip time in `rtts`."""
    return [network_row(label, rtt, rounds) for rtt in rtts for label in NETWORK_ROWS]


def print_network(rows: list[NetworkRow]) -> None:
    width = max(len(label) for label in NETWORK_ROWS)
    print("\nsimulated network, LabServer(rtt=...): median ms per request, measured vs model")
    print(
        "  model: the same request at 0 ms (measured in turn with it), plus rtt x its round "
        "trips (the request 1, TCP's handshake 1, TLS 1.3's 1)"
    )
    print(f"  {'rtt':>6}  {'':<{width}}  {'at 0 ms':>8}  {'measured':>9}  {'model':>7}  off by")
    for row in rows:
        print(
            f"  {row.rtt * 1000:3g} ms  {row.label:<{width}}  {row.loopback:8.1f}  "
            f"{row.measured:9.1f}  {row.model:7.1f}  {row.off:+6.1%}"
        )
    for rtt in sorted({row.rtt for row in rows}):
        ms = {row.label: row.measured for row in rows if row.rtt == rtt}
        if len(ms) == len(NETWORK_ROWS):
            http = ms["new connection per request, HTTP"] / ms["shared client, HTTP"]
            https = ms["new connection per request, HTTPS"] / ms["shared client, HTTPS"]
            print(
                f"  at {rtt * 1000:g} ms a new connection per request costs {http:.1f}x a "
                f"shared client's request over HTTP, {https:.1f}x over HTTPS"
            )
    if rows:
        worst = max(abs(row.off) for row in rows)
        print(
            f"  network rows within {NETWORK_TARGET:.0%} of the model: "
            f"{'holds' if worst <= NETWORK_TARGET else 'DOES NOT HOLD'} (furthest {worst:.1%})"
        )


def _verdict(ok: bool) -> str:
    return "within" if ok else "OVER"


def main() -> None:
    started = time.perf_counter()
    rows = measure()
    ms = dict(rows)
    width = max(len(label) for label, _ in rows)
    print(f"{'median of repeated runs on 127.0.0.1':<{width}}  {'ms':>8}")
    for label, value in rows:
        print(f"{label:<{width}}  {value:8.3f}")
    shared_http, shared_https = ms[SHARED_HTTP], ms[SHARED_HTTPS]
    new_default = ms[NEW_DEFAULT] / shared_http
    print()
    print("ratios (how many times slower than one shared client)")
    ratios = [
        ("new default client per request, HTTP", new_default),
        ("new client, prebuilt SSLContext, HTTP", ms[NEW_PREBUILT_HTTP] / shared_http),
        ("new client, prebuilt SSLContext, HTTPS", ms[NEW_PREBUILT_HTTPS] / shared_https),
        ("shared client over the raw-socket floor", shared_http / ms[RAW]),
    ]
    for label, ratio in ratios:
        print(f"  {label + ':':<42}{ratio:7.1f}x")
    print(
        f"building a default httpx.Client() costs {ms[BUILD]:.1f} ms (its CA bundle): "
        f"{ms[BUILD] / ms[NEW_DEFAULT]:.0%} of a new default client per request"
    )
    print("\ntargets")
    print(
        f"  pooled HTTP round trip {shared_http:.3f} ms: "
        f"{_verdict(shared_http < ROUND_TRIP_TARGET_MS)} the target "
        f"(well under {ROUND_TRIP_TARGET_MS:g} ms)"
    )
    print(
        f"  new default client per request, HTTP: {new_default:.1f}x a shared client: "
        f"{_verdict(new_default > NEW_CLIENT_TARGET)} the target (> {NEW_CLIENT_TARGET:g}x)"
    )
    elapsed, ideal = pool_experiment_overhead()
    setup = POOL_EXPERIMENT
    print(
        f"  pool experiment, {setup['requests']} requests of {setup['latency']:g} s, "
        f"{setup['workers']} workers, {setup['max_connections']} connections: {elapsed:.3f} s "
        f"vs ideal {ideal:.3f} s ({elapsed / ideal:.2f}x): "
        f"{_verdict(elapsed <= ideal * POOL_TARGET)} the target "
        f"(within {POOL_TARGET - 1:.0%})"
    )
    print_network(measure_network(NETWORK_RTTS, NETWORK_ROUNDS))
    print(f"bench took {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

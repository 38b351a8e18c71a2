"""`LabServer(rtt=...)`: the relay that puts the lab server a round trip away, and its fidelity.

The fidelity tests time real requests through the relay at rtt = 50 ms and compare them with
the protocol's own round-trip counts: a first request on a new HTTP connection takes 2 round
trips (TCP's handshake, then the request), HTTPS with TLS 1.3 takes 3, with TLS 1.2 forced 4,
and a request on a reused connection 1. httpcore's trace events say in which phase each round
trip was spent. The relay stands in for the kernel's TCP handshake by holding a connection's
first bytes one round trip, so that round trip shows in the first phase that sends bytes:
`start_tls` over HTTPS, the request itself over HTTP (`connect_tcp` stays as fast as loopback).

The margins. A relay never delivers a byte early (it sleeps until each byte is due), so the
lower bound is the model less the clocks' slack (1 ms). The upper bound is 15% plus 5 ms: each
round trip makes the relay thread, the server's handler thread and the client thread wake up
in turn, and on a loaded 2-core machine (the suite's other workers, other notebooks) each
wake-up can wait a few milliseconds for a CPU; 15% of a round trip is 7.5 ms per round trip,
more than the waits measured under the full suite, and 5 ms covers the loopback work itself
(HTTP parsing, a TLS handshake's CPU: about 2 ms). A planted bug moves a figure by half a round
trip or more (25 ms, 25% of the smallest model below), so it cannot hide inside the margin.
A loaded machine only ever adds time, so each figure is the fastest of 5 tries: the try that
waited least for a CPU, where the relay's own timing shows (medians of 3 went over the margin
while the suite's other workers and other notebooks ran beside them).
"""

from __future__ import annotations

import math
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from labkit import LabServer, client_port
from labkit.server import _lab_ca, plain_trust

RTT = 0.05
TRIES = 5  # at least...
MORE_TRIES = 15  # ...and at most, while a figure's fastest is still over its model
# The round trips in each figure's model, per protocol (the fidelity tests below assert them).
MODELS = {
    "HTTP": {"first": 2, "reused": 1, "request_end": 2},
    "TLS 1.3": {"first": 3, "reused": 1, "tls_end": 2, "request": 1},
    "TLS 1.2": {"first": 4, "reused": 1, "tls_end": 3, "request": 1},
}


def within_model(measured: float, round_trips: float, rtt: float = RTT) -> bool:
    model = round_trips * rtt
    return model - 0.001 <= measured <= model * 1.15 + 0.005


def tls12_context() -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=_lab_ca().cert_pem.bytes().decode("ascii"))
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def traced_get(client: httpx.Client, url: str) -> tuple[float, dict[str, float]]:
    """(seconds the request took, when each trace event came: seconds since the request began)."""
    marks: dict[str, float] = {}
    started = time.perf_counter()

    def trace(event_name: str, info: dict[str, Any]) -> None:
        marks[event_name] = time.perf_counter() - started

    client.get(url, extensions={"trace": trace})
    return time.perf_counter() - started, marks


def phase(marks: dict[str, float], start: str, end: str) -> float:
    return marks[end] - marks[start]


TCP = ("connection.connect_tcp.started", "connection.connect_tcp.complete")
TLS = ("connection.start_tls.started", "connection.start_tls.complete")
REQUEST = ("http11.send_request_headers.started", "http11.receive_response_headers.complete")


def measure(
    server: LabServer, models: dict[str, int], verify: ssl.SSLContext | None = None
) -> dict[str, float]:
    """The fastest, over TRIES new clients, of each phase of a first request and a reuse; up to
    MORE_TRIES while a figure's fastest is still over its model (`models`). Once seen in CI, with
    the browser tests beside it: TLS 1.3's handshake 28 ms over in the fastest of 5. More tries
    hide no bug: a relay that adds half a round trip is over in every try, and one that takes
    time away is under in the fastest."""
    # A new client each try, but one CA bundle (over HTTP too): loading it is tens of ms of CPU.
    kwargs: dict[str, Any] = {
        "verify": verify or server.client_kwargs().get("verify", plain_trust())
    }
    tries: list[dict[str, float]] = []
    for _ in range(MORE_TRIES):
        with httpx.Client(**kwargs) as client:
            first, marks = traced_get(client, server.url + "/")
            reused, _ = traced_get(client, server.url + "/")
        figures = {"first": first, "reused": reused, "tcp": phase(marks, *TCP)}
        figures["request"] = phase(marks, *REQUEST)
        # When a phase ended, counted from the connect: the relay's clock starts there, and the
        # client's own work between phases (a few ms on a loaded machine) is not the relay's.
        figures["request_end"] = phase(marks, TCP[0], REQUEST[1])
        if TLS[0] in marks:
            figures["tls"] = phase(marks, *TLS)
            figures["tls_end"] = phase(marks, TCP[0], TLS[1])
        tries.append(figures)
        fastest = {name: min(t[name] for t in tries) for name in tries[0]}
        if len(tries) >= TRIES and all(
            within_model(fastest[name], round_trips) for name, round_trips in models.items()
        ):
            break
    return fastest


@pytest.fixture(scope="class")
def fidelity() -> dict[str, dict[str, float]]:
    """The three protocols measured once for TestFidelity: its tests read the same figures."""
    figures = {}
    with LabServer(rtt=RTT) as http, LabServer(tls=True, rtt=RTT) as https:
        figures["HTTP"] = measure(http, MODELS["HTTP"])
        figures["TLS 1.3"] = measure(https, MODELS["TLS 1.3"])
        figures["TLS 1.2"] = measure(https, MODELS["TLS 1.2"], tls12_context())
    return figures


class TestFidelity:
    """The tests of the figures `fidelity` measured: one class, so one scope of the suite's
    scheduling (tests/scheduling.py), and so measured once, not once on each worker."""

    @pytest.mark.parametrize("protocol", MODELS)
    def test_a_first_request_takes_the_protocols_round_trips(
        self, fidelity: dict[str, dict[str, float]], protocol: str
    ) -> None:
        figures, model = fidelity[protocol], MODELS[protocol]  # the module's docstring: 2, 3, 4
        assert within_model(figures["first"], model["first"]), figures
        assert within_model(figures["reused"], model["reused"]), figures

    def test_httpcores_trace_puts_each_round_trip_in_its_phase(
        self, fidelity: dict[str, dict[str, float]]
    ) -> None:
        http, tls13, tls12 = fidelity["HTTP"], fidelity["TLS 1.3"], fidelity["TLS 1.2"]
        # The kernel completes the TCP handshake on loopback: connect() itself stays fast ...
        for figures in (http, tls13, tls12):
            assert figures["tcp"] < 0.2 * RTT, figures
        # ... and the relay holds the first bytes one round trip instead: over HTTP the
        # request's phase holds TCP's round trip and its own; over HTTPS start_tls holds TCP's
        # and TLS's. Each phase ends when the model says, counted from the connect, and holds
        # its round trips (less half of one: the client's work between phases, done while the
        # relay's clock ran).
        assert within_model(http["request_end"], 2) and http["request"] > 1.5 * RTT, http
        assert within_model(tls13["tls_end"], 1 + 1) and tls13["tls"] > 1.5 * RTT, tls13
        assert within_model(tls12["tls_end"], 1 + 2) and tls12["tls"] > 2.5 * RTT, tls12
        assert within_model(tls13["request"], 1), tls13
        assert within_model(tls12["request"], 1), tls12


def test_each_direction_takes_half_the_round_trip() -> None:
    # The lab server runs in this process: its records and the client's trace share one clock.
    # A relay that delayed one direction by a whole round trip and the other not at all would
    # pass every test above; here the request must reach the server half a round trip after it
    # left, and the answer reach the client half a round trip after the server finished it.
    up, down = [], []
    with LabServer(rtt=RTT) as server, httpx.Client() as client:
        client.get(server.url + "/")  # the connection is open: what follows is one-way times
        for _ in range(TRIES):
            sent = time.perf_counter()
            _, marks = traced_get(client, server.url + "/")
            record = server.requests[-1]
            up.append(record.started - (sent + marks[REQUEST[0]]))
            down.append(sent + marks[REQUEST[1]] - record.finished)
    assert within_model(min(up), 0.5), up
    assert within_model(min(down), 0.5), down


def test_each_client_connection_gets_its_own_upstream_connection() -> None:
    with LabServer(rtt=0.01) as server:
        client_ports = []
        for _ in range(3):
            with httpx.Client() as client:
                responses = [client.get(server.url + "/") for _ in range(2)]
                client_ports.append({client_port(r) for r in responses})
        assert [len(ports) for ports in client_ports] == [1, 1, 1]
        assert server.connections_opened == 3
        by_connection = [r.connection for r in server.requests]
        assert by_connection == [1, 1, 2, 2, 3, 3]
        # The server sees the relay's side of each connection, not the client's port.
        server_ports = {r.client_port for r in server.requests}
        assert len(server_ports) == 3
        assert server_ports.isdisjoint(set().union(*client_ports))


def test_bytes_arrive_whole_and_in_order_across_the_relay() -> None:
    with LabServer(rtt=0.01) as server, httpx.Client() as client:
        for _ in range(2):  # together more than the relay's window (4 MB in flight): each
            big = client.get(server.url + "/bytes/3000000")  # byte sent must free its room
            assert big.content == b"x" * 3_000_000
        bodies = [client.get(f"{server.url}/delay/0.00{i}").text for i in range(1, 4)]
        assert bodies == [f"waited 0.00{i} s\n" for i in range(1, 4)]


def test_a_half_closed_client_still_gets_its_answer() -> None:
    """A client may send its request, then shut its sending side (SHUT_WR): the relay carries
    that end of stream on, and the answer back, until both directions have ended."""
    with LabServer(rtt=0.05) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /delay/0.1 HTTP/1.1\r\nHost: lab\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"waited 0.1 s\n"), answer


def test_the_relay_sleeps_while_a_first_request_waits_for_its_handshake() -> None:
    """A new connection's first bytes wait a round trip for the simulated TCP handshake: the
    relay sleeps until they are due. The process's CPU time over a 1 s request is about 6 ms;
    a relay polling through the wait burns most of the 0.5 s (the bound has 15x slack)."""
    with LabServer(rtt=0.5) as server, httpx.Client() as client:
        cpu = time.process_time()
        assert client.get(server.url + "/").status_code == 200
        assert time.process_time() - cpu < 0.1


def test_other_traffic_does_not_open_a_relayed_connection_early() -> None:
    """The server sees a new connection when its first bytes arrive (a round trip and a half
    after they were sent), even when a warm connection's request wakes the relay in between.
    The gap between the connection's opening and its request is about 0 (bound: rtt/8, 125 ms);
    opened at the wake-up, it would be rtt/4 (250 ms)."""
    rtt = 1.0
    with LabServer(rtt=rtt) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as warm:
            warm.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
            warm.recv(65536)  # connection 1, established
            with socket.create_connection(("127.0.0.1", port), timeout=5) as new:
                sent = time.perf_counter()
                new.sendall(b"GET /?new HTTP/1.1\r\nHost: lab\r\n\r\n")
                time.sleep(max(0.0, sent + 1.25 * rtt - time.perf_counter()))  # in [rtt, 1.5 rtt)
                warm.sendall(b"GET /?wake HTTP/1.1\r\nHost: lab\r\n\r\n")
                new.recv(65536)
        second = server.connections[1]
        started = next(r.started for r in server.requests if r.path == "/?new")
    assert started - second.opened < rtt / 8, started - second.opened


def test_rtt_0_is_the_server_itself_with_no_relay() -> None:
    before = set(threading.enumerate())
    with LabServer() as server:
        started = [t.name for t in threading.enumerate() if t not in before]
        assert server.rtt == 0.0
        assert server.url.endswith(f":{server._server.socket.getsockname()[1]}")
        assert not any("relay" in name for name in started)
        assert repr(server) == "<LabServer HTTP serving>"
    with LabServer(tls=True, rtt=0.02) as relayed:
        assert not relayed.url.endswith(f":{relayed._server.socket.getsockname()[1]}")
        assert repr(relayed) == "<LabServer HTTPS across a 20 ms round trip serving>"
    assert repr(relayed) == "<LabServer HTTPS across a 20 ms round trip closed>"


@pytest.mark.parametrize("rtt", [-0.01, math.nan, math.inf, 1.5, True, "0.05", None])
def test_a_bad_rtt_is_refused_naming_it(rtt: object) -> None:
    with pytest.raises(ValueError) as raised:
        LabServer(rtt=rtt)  # type: ignore[arg-type]
    assert str(raised.value) == (
        f"rtt must be a round-trip time in seconds from 0 to 1, not {rtt!r}"
    )


def open_fds() -> int | None:
    try:
        import os

        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


@pytest.fixture
def relayed() -> Iterator[LabServer]:
    with LabServer(rtt=0.01) as server:
        yield server


def test_clients_that_hang_up_mid_stream_leave_the_relay_serving(relayed: LabServer) -> None:
    host, port = relayed.url.removeprefix("http://").split(":")
    address = (host, int(port))
    # Half a request, then gone.
    with socket.create_connection(address) as sock:
        sock.sendall(b"GET /delay/0.2 HTTP/1.1\r\nHo")
    # A whole request, gone before the answer comes.
    with socket.create_connection(address) as sock:
        sock.sendall(b"GET /delay/0.05 HTTP/1.1\r\nHost: x\r\n\r\n")
    # A reset (SO_LINGER 0) in the middle of a big answer.
    sock = socket.create_connection(address)
    linger = struct.pack("HH" if sys.platform == "win32" else "ii", 1, 0)  # on, 0 s: a reset
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    sock.sendall(b"GET /bytes/5000000 HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.recv(1000)
    sock.close()
    # Connected, never a byte.
    socket.create_connection(address).close()
    with httpx.Client() as client:
        assert client.get(relayed.url + "/").status_code == 200
    assert relayed.wait_until_closed(timeout=3.0), relayed.connections


def test_a_server_side_close_crosses_the_relay_and_the_pool_replaces_the_connection() -> None:
    with LabServer(rtt=0.02, idle_timeout=0.1) as server, httpx.Client() as client:
        assert client.get(server.url + "/").status_code == 200
        time.sleep(0.3)  # the server closes the idle connection; its FIN crosses the relay
        assert client.get(server.url + "/").status_code == 200
        assert server.connections_opened == 2
        assert server.connections[0].reason == "idle timeout"


def test_close_ends_open_connections_and_leaves_no_socket_or_thread() -> None:
    fds = open_fds()
    server = LabServer(tls=True, rtt=0.01)
    client = httpx.Client(**server.client_kwargs())
    client.get(server.url + "/")  # a pooled connection left open through the relay
    server.close()
    server.close()  # twice is harmless
    with pytest.raises(httpx.TransportError):
        client.get(server.url + "/")  # the pooled connection is gone, and nobody listens
    client.close()
    assert server.connections[0].reason == "lab server closing"
    if fds is not None:
        assert open_fds() == fds
    # no_leaked_threads (conftest) checks the relay's thread is gone.

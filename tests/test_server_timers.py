"""LabServer's timers, socket settings and limits, which every lesson's timings and races rest on.

The keep-alive timer (runs from the last answer), the handler's timeout (60 s, documented in
`_Handler`), Nagle's algorithm (off) and the listen backlog are each held here by what the
server's own sockets say, or by what a client sees, with margins that hold on a loaded 2-core
machine. Then the limits its docstrings name, at their edges.
"""

from __future__ import annotations

import select
import socket
import ssl
import time

import pytest

from labkit import LabServer

HANDLER_TIMEOUT = 60.0  # seconds: server.py's `_Handler.timeout`, what its comment promises


def _connect(lab: LabServer) -> socket.socket:
    """A raw client connection; over TLS, handshaken with the lab CA."""
    sock = socket.create_connection(("127.0.0.1", int(lab.url.rsplit(":", 1)[1])), timeout=5)
    if lab.tls:
        context: ssl.SSLContext = lab.client_kwargs()["verify"]
        return context.wrap_socket(sock, server_hostname="127.0.0.1")
    return sock


def _accepted(lab: LabServer) -> socket.socket:
    """The server's end of its one connection, once the handler has set it up (and recorded it)."""
    deadline = time.monotonic() + 5
    while True:
        with lab._server.lock:
            live = list(lab._server.live)
        if len(live) == 1 and lab.connections_opened == 1:
            return live[0]
        assert time.monotonic() < deadline, "the server never set the connection up"
        time.sleep(0.005)


def _wait_for_timeout(sock: socket.socket, expected: float) -> float | None:
    """The socket's timeout once it is `expected` (the handler sets it from its own thread)."""
    deadline = time.monotonic() + 5
    while sock.gettimeout() != expected and time.monotonic() < deadline:
        time.sleep(0.005)
    return sock.gettimeout()


def _answers(sock: socket.socket, expected: int) -> bytes:
    """Read until `expected` answers to `GET /` came, or the server hung up."""
    data = b""
    while data.count(b"Hello from the lab server.\n") < expected:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_nagles_algorithm_is_off_on_the_servers_sockets(tls: bool) -> None:
    """http.server sends headers and body in two writes; with Nagle on, the second waits for
    the client's delayed ACK (~40 ms), and every keep-alive timing in the pack is skewed. A
    timing test of that would need margins a loaded machine breaks: the socket itself says."""
    with LabServer(tls=tls) as lab, _connect(lab):
        accepted = _accepted(lab)
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_the_handler_waits_its_documented_60_s_for_a_request(tls: bool) -> None:
    """A connection that says nothing (or stops mid-request) is dropped after 60 s, never
    sooner (a slow client on a loaded machine) nor never. Sixty seconds cannot be waited out
    in a test: the timeout on the server's accepted socket is what it will wait."""
    with LabServer(tls=tls) as lab, _connect(lab) as sock:
        accepted = _accepted(lab)
        assert _wait_for_timeout(accepted, HANDLER_TIMEOUT) == HANDLER_TIMEOUT  # first request
        sock.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
        assert b"200 OK" in _answers(sock, 1)
        assert _wait_for_timeout(accepted, HANDLER_TIMEOUT) == HANDLER_TIMEOUT  # the next one


def test_the_keepalive_timer_is_the_idle_timeout_and_a_request_in_progress_gets_60_s() -> None:
    with LabServer(idle_timeout=5) as lab, _connect(lab) as sock:
        accepted = _accepted(lab)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
        assert b"200 OK" in _answers(sock, 1)
        assert _wait_for_timeout(accepted, 5) == 5  # kept alive: the idle timer runs
        sock.sendall(b"GET / HTTP/1.1\r\n")  # a request starts: the handler's timeout again
        assert _wait_for_timeout(accepted, HANDLER_TIMEOUT) == HANDLER_TIMEOUT


def test_a_request_that_arrives_slowly_on_a_kept_alive_connection_is_served() -> None:
    """The idle timer covers the wait *between* requests only: once a request has begun, its
    headers may take longer than `idle_timeout` (the margin is the handler's 60 s, so a loaded
    machine only makes it safer)."""
    with LabServer(idle_timeout=0.2) as lab, _connect(lab) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
        assert b"200 OK" in _answers(sock, 1)
        sock.sendall(b"GET /status/201 HTTP/1.1\r\n")
        time.sleep(0.4)  # twice the idle timeout, mid-request
        sock.sendall(b"Host: lab\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 201")
        assert [r.status for r in lab.requests] == [200, 201] and lab.connections_opened == 1


@pytest.mark.parametrize("staged_race", [False, True], ids=["idle timeout", "staged race"])
def test_a_connection_used_without_pause_for_longer_than_the_timer_is_kept(
    staged_race: bool,
) -> None:
    """The keep-alive timer runs from the last answer, not from the connect: six requests of
    0.1 s, sent at once (pipelined), keep one connection busy for 0.6 s against a 0.4 s timer.
    Pipelined, each request is already waiting when the previous answer leaves, so the idle
    time the server measures is its own few microseconds (its thread would have to stall 0.4 s
    between two lines to lose it): no client delay on a loaded machine can stretch it, and a
    timer counted from the connect drops the fifth request (or an earlier one)."""
    with LabServer(idle_timeout=0.4, staged_race=staged_race) as lab, _connect(lab) as sock:
        sock.sendall(b"GET /delay/0.1 HTTP/1.1\r\nHost: lab\r\n\r\n" * 6)
        data = b""
        while data.count(b"waited 0.1 s\n") < 6:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        assert data.count(b"HTTP/1.1 200 OK") == 6
        assert [r.connection for r in lab.requests] == [1] * 6
        assert lab.connections[0].closed is None


def test_a_burst_of_64_connects_waits_in_the_listen_queue_not_for_a_syn_retry() -> None:
    """With the accept loop stopped, connects complete only while the kernel's listen queue
    has room; past it, Linux drops the SYN and the client retries after 1 s. 64 connects within
    0.5 s each need a backlog of at least 64 (the kernel completes them without the server's
    thread, so a loaded machine cannot slow them that much)."""
    lab = LabServer()
    lab._server.shutdown()  # stops accepting; the listening socket stays open
    port = int(lab.url.rsplit(":", 1)[1])
    burst: list[socket.socket] = []
    try:
        for _ in range(64):
            burst.append(socket.create_connection(("127.0.0.1", port), timeout=0.5))
    finally:
        lab.close()
        for sock in burst:
            sock.close()
    assert len(burst) == 64


def test_a_delay_of_max_delay_is_waited_not_refused() -> None:
    """`/delay/30` is allowed ("seconds from 0 to 30"): no 400 comes back at once; closing the
    server ends the wait (and the test) early."""
    with LabServer() as lab, _connect(lab) as sock:
        sock.sendall(b"GET /delay/30 HTTP/1.1\r\nHost: lab\r\n\r\n")
        assert not select.select([sock], [], [], 0.3)[0]  # a refusal is sent at once
        started = time.perf_counter()
        lab.close()
        assert sock.recv(4096) == b"" and time.perf_counter() - started < 5
        assert lab.requests == []


@pytest.mark.parametrize(("code", "answer"), [(204, 400), (304, 400), (205, 205), (599, 599)])
def test_statuses_without_a_body_are_refused(code: int, answer: int) -> None:
    """204 and 304 may carry no body, and every answer of the lab server has one."""
    with LabServer() as lab, _connect(lab) as sock:
        sock.sendall(f"GET /status/{code} HTTP/1.1\r\nHost: lab\r\n\r\n".encode())
        assert sock.recv(4096).startswith(f"HTTP/1.1 {answer} ".encode())


def test_connections_are_numbered_1_2_3_in_the_order_they_came() -> None:
    """Each connection is served (and so numbered) before the next one connects: each
    connection's thread numbers it, so connections opened at the same moment may be numbered
    in the order their threads ran."""
    with LabServer() as lab:
        socks: list[socket.socket] = []
        try:
            for _ in range(3):
                socks.append(_connect(lab))
                socks[-1].sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
                assert b"200 OK" in _answers(socks[-1], 1)
            ports = [sock.getsockname()[1] for sock in socks]
        finally:
            for sock in socks:
                sock.close()
        assert [(r.connection, r.client_port) for r in lab.requests] == list(
            zip([1, 2, 3], ports, strict=True)
        )
        assert [c.id for c in lab.connections] == [1, 2, 3]


def test_wait_until_closed_takes_a_timeout_of_0_as_just_a_look() -> None:
    with LabServer() as lab:
        assert lab.wait_until_closed(0) is True  # nothing open: True at once
        with _connect(lab) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
            assert b"200 OK" in _answers(sock, 1)
            started = time.perf_counter()
            assert lab.wait_until_closed(0) is False  # one open: False, without waiting
            assert time.perf_counter() - started < 1

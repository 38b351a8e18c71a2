"""LabServer's connection records: which connections are open, who closed the others, and why.

Lessons 06 and 07 prove "the client closed its pool" and "the server dropped an idle
connection" from these records, so each is checked here against raw sockets and real clients.
"""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from labkit import LabServer


def _raw_get(sock: socket.socket, path: str = "/") -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: lab\r\n\r\n".encode())
    return sock.recv(4096)


def _connect(server: LabServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)))


def test_a_client_that_closes_is_recorded_as_the_closer(server: LabServer) -> None:
    with httpx.Client() as client:
        for _ in range(3):
            client.get(server.url)
        assert server.open_connections == 1
        [record] = server.connections
        assert record.is_open and record.closed is None and record.closed_by is None
    assert server.wait_until_closed(timeout=2.0)
    [record] = server.connections
    assert record.closed_by == "client" and record.reason == ""
    assert record.closed is not None and record.closed > record.opened
    assert record.id == server.requests[0].connection
    assert record.client_port == server.requests[0].client_port


def test_open_and_closed_connections_are_told_apart(server: LabServer) -> None:
    keep, drop = _connect(server), _connect(server)
    ports = keep.getsockname()[1], drop.getsockname()[1]
    with keep, drop:
        assert _raw_get(keep).startswith(b"HTTP/1.1 200")
        assert _raw_get(drop).startswith(b"HTTP/1.1 200")
        drop.close()
        assert not server.wait_until_closed(timeout=0.3)  # `keep` is still open
        states = {r.client_port: r.is_open for r in server.connections}
        assert states == {ports[0]: True, ports[1]: False}
        assert server.open_connections == 1


def test_closing_the_server_records_why() -> None:
    server = LabServer()
    sock = _connect(server)
    with sock:
        assert _raw_get(sock).startswith(b"HTTP/1.1 200")
        server.close()
        [record] = server.connections
        assert (record.closed_by, record.reason) == ("server", "lab server closing")


def test_idle_timeout_closes_a_silent_connection_and_the_pool_replaces_it() -> None:
    with LabServer(idle_timeout=0.2) as server, httpx.Client() as client:
        client.get(server.url)
        time.sleep(0.5)
        first = server.connections[0]
        assert (first.closed_by, first.reason) == ("server", "idle timeout")
        assert first.closed is not None and first.closed - first.opened >= 0.2
        assert client.get(server.url).status_code == 200  # no error: httpcore saw it closed
        assert server.connections_opened == 2 and server.open_connections == 1


def test_a_busy_connection_outlives_the_idle_timeout() -> None:
    with LabServer(idle_timeout=0.3) as server, httpx.Client() as client:
        for _ in range(6):  # 0.6 s in all, never idle 0.3 s at once
            client.get(server.url + "/delay/0.1")
        assert server.connections_opened == 1 and server.open_connections == 1


def test_the_staged_race_drops_a_request_on_a_connection_idle_too_long() -> None:
    with LabServer(idle_timeout=0.2, staged_race=True) as server, httpx.Client() as client:
        client.get(server.url)
        time.sleep(0.3)
        assert server.open_connections == 1  # staged: the server waits for the next request
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            client.get(server.url + "/delay/0.01")
        assert [r.path for r in server.requests] == ["/"]  # the second was never answered
        assert (server.connections[0].closed_by, server.connections[0].reason) == (
            "server",
            "staged race",
        )
        assert client.get(server.url).status_code == 200  # a new connection is served
        assert server.connections_opened == 2


def test_the_staged_race_counts_the_pause_from_the_answer_not_from_the_servers_next_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Planted: the server's thread stalls 0.08 s after each answer has left, as a descheduled
    thread does on a loaded machine. The client's 0.15 s pause against the 0.1 s timer (notebook
    07's) must still meet the race: the pause is idle time whatever the server's thread did."""
    from labkit import server as server_module

    answer = server_module._Handler.do_GET

    def answer_then_stall(handler: server_module._Handler) -> None:
        answer(handler)
        time.sleep(0.08)

    monkeypatch.setattr(server_module._Handler, "do_GET", answer_then_stall)
    with LabServer(idle_timeout=0.1, staged_race=True) as server, httpx.Client() as client:
        client.get(server.url)
        time.sleep(0.15)
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            client.get(server.url)
        assert server.connections[0].reason == "staged race"


@pytest.mark.parametrize("staged_race", [False, True], ids=["idle timeout", "staged race"])
def test_the_keepalive_timer_starts_after_the_first_answer(staged_race: bool) -> None:
    """A first request that comes later than the idle timeout after its connect (a loaded
    machine) is served: a real server's keep-alive timer, too, runs only between answers."""
    with LabServer(idle_timeout=0.1, staged_race=staged_race) as server, _connect(server) as sock:
        time.sleep(0.25)
        status_line = _raw_get(sock).split(b"\r\n")[0]
        assert status_line.endswith(b" 200 OK"), status_line
        assert [r.path for r in server.requests] == ["/"]
        assert server.connections[0].closed is None


def test_the_staged_race_serves_a_connection_used_recently() -> None:
    with LabServer(idle_timeout=0.4, staged_race=True) as server, httpx.Client() as client:
        for _ in range(4):
            client.get(server.url)
            time.sleep(0.05)
        assert server.connections_opened == 1 and len(server.requests) == 4


def test_keepalive_expiry_below_the_idle_timeout_cures_the_race() -> None:
    limits = httpx.Limits(keepalive_expiry=0.1)
    with (
        LabServer(idle_timeout=0.3, staged_race=True) as server,
        httpx.Client(limits=limits) as client,
    ):
        client.get(server.url)
        time.sleep(0.4)
        assert client.get(server.url).status_code == 200
        assert server.connections_opened == 2
        # The client closed the expired connection itself; the server notices a moment later.
        deadline = time.monotonic() + 2.0
        while server.connections[0].is_open and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.connections[0].closed_by == "client"


def test_the_staged_race_over_tls() -> None:
    with (
        LabServer(tls=True, idle_timeout=0.2, staged_race=True) as server,
        httpx.Client(**server.client_kwargs()) as client,
    ):
        client.get(server.url)
        time.sleep(0.3)
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(server.url)


def test_reset_forgets_closed_connections(server: LabServer) -> None:
    with httpx.Client() as client:
        client.get(server.url)
    assert server.wait_until_closed()
    server.reset()
    assert server.connections == [] and server.connections_opened == 0


@pytest.mark.parametrize("bad", [0, -1.0, "5", True, 31, float("nan")])
def test_bad_idle_timeouts_are_named(bad: object) -> None:
    with pytest.raises(ValueError, match="idle_timeout") as info:
        LabServer(idle_timeout=bad)  # type: ignore[arg-type]
    assert repr(bad) in str(info.value)


def test_a_staged_race_needs_an_idle_timeout() -> None:
    with pytest.raises(ValueError, match="idle_timeout"):
        LabServer(staged_race=True)
    with pytest.raises(ValueError, match="'yes'"):
        LabServer(idle_timeout=1, staged_race="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, "1", None])
def test_bad_wait_timeouts_are_named(server: LabServer, bad: object) -> None:
    with pytest.raises(ValueError, match="timeout"):
        server.wait_until_closed(bad)  # type: ignore[arg-type]

"""LabServer: counts connections right, speaks TLS, survives bad clients, closes cleanly."""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from labkit import LabServer
from labkit import server as server_module
from labkit.server import plain_trust


def test_shared_client_opens_one_connection_for_many_requests(any_server: LabServer) -> None:
    with httpx.Client(**any_server.client_kwargs()) as client:
        for _ in range(10):
            assert client.get(any_server.url + "/").status_code == 200
    assert any_server.connections_opened == 1
    assert {r.connection for r in any_server.requests} == {any_server.requests[0].connection}
    assert len(any_server.requests) == 10


def test_a_client_per_request_opens_a_connection_each(any_server: LabServer) -> None:
    for _ in range(5):
        with httpx.Client(**any_server.client_kwargs()) as client:
            client.get(any_server.url + "/")
    assert any_server.connections_opened == 5
    assert len({r.connection for r in any_server.requests}) == 5
    assert len({r.client_port for r in any_server.requests}) == 5


def test_records_name_path_status_and_times(server: LabServer) -> None:
    with httpx.Client() as client:
        before = time.perf_counter()
        client.get(server.url + "/delay/0.05?n=1")
        client.get(server.url + "/status/418")
        after = time.perf_counter()
    first, second = server.requests
    assert (first.path, first.status, second.path, second.status) == (
        "/delay/0.05?n=1",
        200,
        "/status/418",
        418,
    )
    assert before <= first.started < first.finished <= second.started < second.finished <= after
    assert first.finished - first.started >= 0.05


def test_a_client_that_has_its_answer_finds_the_record_already_there(
    any_server: LabServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every write to a client lingers after sending, so a record made after the answer left
    # would still be missing when the client reads the server's records.
    writer: Any = socketserver._SocketWriter  # type: ignore[attr-defined]  # private, untyped
    original_write = writer.write

    def lingering_write(self: Any, data: Any) -> int:
        sent = original_write(self, data)
        time.sleep(0.1)
        return sent

    monkeypatch.setattr(writer, "write", lingering_write)
    with httpx.Client(**any_server.client_kwargs()) as client:
        for count in (1, 2):
            client.get(any_server.url + f"/delay/0?n={count}")
            assert [r.path for r in any_server.requests][-1:] == [f"/delay/0?n={count}"]


def test_trust_is_loaded_once_per_process() -> None:
    assert plain_trust() is plain_trust()
    with LabServer(tls=True) as one, LabServer(tls=True) as two:
        assert one.client_kwargs()["verify"] is two.client_kwargs()["verify"]


def test_reset_clears_count_and_records(server: LabServer) -> None:
    with httpx.Client() as client:
        client.get(server.url)
        server.reset()
        assert (server.connections_opened, server.requests) == (0, [])
        client.get(server.url)  # the pooled connection survives a reset
    assert server.connections_opened == 0
    assert len(server.requests) == 1


def test_a_flaky_path_answers_its_status_once_then_200_until_reset(server: LabServer) -> None:
    with httpx.Client() as client:
        got = [client.get(server.url + path).status_code for path in ["/flaky/503"] * 3]
        assert got + [client.get(server.url + "/flaky/502").status_code] == [503, 200, 200, 502]
        server.reset()
        assert client.get(server.url + "/flaky/503").status_code == 503


def test_http_needs_no_client_settings(server: LabServer) -> None:
    assert server.client_kwargs() == {}
    assert server.url.startswith("http://127.0.0.1:")
    assert not server.url.endswith("/")


def test_tls_uses_the_lab_ca(any_server: LabServer) -> None:
    kwargs = any_server.client_kwargs()
    if any_server.tls:
        assert any_server.url.startswith("https://127.0.0.1:")
        assert isinstance(kwargs["verify"], ssl.SSLContext)
    with httpx.Client(**kwargs) as client:
        assert client.get(any_server.url + "/").text == "Hello from the lab server.\n"


def test_tls_is_refused_by_a_client_that_trusts_only_public_cas() -> None:
    with LabServer(tls=True) as lab, httpx.Client() as client:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            client.get(lab.url + "/")
        # the failed handshake did not hurt the server
        with httpx.Client(**lab.client_kwargs()) as trusting:
            assert trusting.get(lab.url + "/").status_code == 200


def test_parallel_delays_are_served_at_the_same_time(server: LabServer) -> None:
    # The eight leave together: a pool starts its threads one by one, and on a loaded machine
    # the last once started after the first's 0.2 s answer (seen beside the browser tests).
    # Even leaving together, eight connects and eight handler threads once took 0.21 s there:
    # each answer takes 1 s, so all must be in flight within a second.
    line = threading.Barrier(8)

    def get(i: int) -> httpx.Response:
        line.wait(timeout=30)
        return client.get(f"{server.url}/delay/1?i={i}")

    with httpx.Client() as client, ThreadPoolExecutor(8) as pool:
        list(pool.map(get, range(8)))
    records = server.requests
    assert len(records) == 8
    # every request was in flight at one moment: the server never serialised them
    assert max(r.started for r in records) < min(r.finished for r in records)
    assert server.connections_opened == 8


def test_delay_body_names_the_delay(server: LabServer) -> None:
    with httpx.Client() as client:
        assert client.get(server.url + "/delay/0.01").text == "waited 0.01 s\n"
        assert client.get(server.url + "/delay/0").text == "waited 0 s\n"
        assert client.get(server.url + "/bytes/5").content == b"xxxxx"
        assert client.get(server.url + "/bytes/0").content == b""


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        ("/delay/abc", 400, "bad delay 'abc'"),
        ("/delay/-1", 400, "bad delay '-1'"),
        ("/delay/31", 400, "bad delay '31'"),
        ("/bytes/-5", 400, "bad size '-5'"),
        ("/bytes/many", 400, "bad size 'many'"),
        ("/status/999", 400, "bad status '999'"),
        ("/status/abc", 400, "bad status 'abc'"),
        ("/flaky/600", 400, "bad status '600'"),
        ("/nope", 404, "no such path: /nope"),
        ("/delay/1/2", 404, "no such path"),
    ],
)
def test_bad_values_get_a_one_line_reason(
    server: LabServer, path: str, status: int, reason: str
) -> None:
    with httpx.Client(verify=plain_trust()) as client:
        response = client.get(server.url + path)
    assert response.status_code == status
    assert response.text.startswith(reason)
    assert response.text.count("\n") == 1


def _raw(server: LabServer, data: bytes) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _hang_up(server: LabServer, data: bytes) -> None:
    """Send part of an exchange, then reset the connection (RST) without reading the answer."""
    sock = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])))
    sock.sendall(data)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_garbage_gets_400_and_hang_ups_are_harmless(
    server: LabServer, capfd: pytest.CaptureFixture[str]
) -> None:
    assert _raw(server, b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400")
    for request in (b"GET /delay/0.1 HTTP/1.1\r\nHost: x\r\n\r\n", b"GET / HTTP/1.1\r\nHo"):
        _hang_up(server, request)
    assert _raw(server, b"\x16\x03\x01\x00\xff").startswith(b"HTTP/1.1 400")  # TLS to an HTTP port
    with httpx.Client() as client:
        assert client.get(server.url + "/").status_code == 200
    time.sleep(0.2)  # let the delayed answer hit the reset connection
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_a_raw_keep_alive_connection_carries_many_requests(server: LabServer) -> None:
    request = b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n"
    answer = _raw(server, request * 3)
    assert answer.count(b"HTTP/1.1 200 OK") == 3
    assert server.connections_opened == 1


BODIES = {
    "content-length": b"Content-Length: 14\r\n\r\npart 1, part 2",
    "chunked": b"Transfer-Encoding: chunked\r\n\r\n8\r\npart 1, \r\n6;x=y\r\npart 2\r\n0\r\n"
    b"Trailer-Field: 1\r\n\r\n",
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES)
def test_a_request_body_is_read_so_the_next_request_finds_the_connection_clean(
    server: LabServer, body: bytes
) -> None:
    answer = _raw(
        server,
        b"GET /status/503 HTTP/1.1\r\nHost: lab\r\n"
        + body
        + b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n",
    )
    assert answer.count(b"HTTP/1.1 ") == 2 and b"HTTP/1.1 200 OK" in answer, answer
    assert [(r.path, r.connection) for r in server.requests] == [("/status/503", 1), ("/", 1)]


def test_a_request_cut_off_in_its_body_is_not_answered(server: LabServer) -> None:
    """httpx.StreamConsumed on a retry: the headers go out, then the client gives up."""
    answer = _raw(
        server, b"GET / HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\n\r\n8\r\npart"
    )
    assert answer == b"" and server.requests == []
    assert server.wait_until_closed(timeout=5) and server.connections[0].closed_by == "client"


def _port(lab: LabServer) -> int:
    return int(lab.url.rsplit(":", 1)[1])


def _connect(lab: LabServer) -> socket.socket:
    """A raw client connection; over TLS, handshaken with the lab CA."""
    sock = socket.create_connection(("127.0.0.1", _port(lab)), timeout=5)
    if lab.tls:
        return lab.client_kwargs()["verify"].wrap_socket(sock, server_hostname="127.0.0.1")
    return sock


def _hello(sock: socket.socket) -> None:
    """One keep-alive request, its whole answer read: the connection stays open, idle."""
    sock.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
    answer = b""
    while not answer.endswith(b"Hello from the lab server.\n"):
        chunk = sock.recv(4096)
        assert chunk, answer
        answer += chunk


def _closed_by_peer(sock: socket.socket) -> bool:
    """True if the other end has closed: readable at once, and reading gives end of stream."""
    if not select.select([sock], [], [], 0)[0] and not (
        isinstance(sock, ssl.SSLSocket) and sock.pending()
    ):
        return False
    try:
        return sock.recv(4096) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_it_listens_on_loopback_exactly_where_its_url_says(tls: bool) -> None:
    with LabServer(tls=tls) as lab:
        url = urlsplit(lab.url)
        assert url.scheme == ("https" if tls else "http")
        bound = lab._server.socket.getsockname()  # the listening socket itself
        assert bound[:2] == ("127.0.0.1", url.port)
        assert url.hostname == "127.0.0.1"


@pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="only Linux routes all of 127.0.0.0/8 to the loopback interface",
)
def test_another_address_of_this_machine_is_refused(server: LabServer) -> None:
    with pytest.raises(ConnectionRefusedError):  # a server bound to 0.0.0.0 would accept it
        socket.create_connection(("127.0.0.2", _port(server)), timeout=5).close()


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_close_joins_every_connection_thread_and_closes_every_socket(
    monkeypatch: pytest.MonkeyPatch, tls: bool
) -> None:
    # Each connection's thread lingers on its way out, so a close() that did not wait for its
    # threads would return while they are still alive: the asserts below run right after close().
    original_finish = server_module._Handler.finish

    def lingering_finish(self: Any) -> None:
        time.sleep(0.2)
        original_finish(self)

    monkeypatch.setattr(server_module._Handler, "finish", lingering_finish)
    before = set(threading.enumerate())
    lab = LabServer(tls=tls)
    idle = [_connect(lab) for _ in range(3)]
    for sock in idle:
        _hello(sock)  # keep-alive: each connection's thread now waits for its next request
    waiting = [_connect(lab) for _ in range(2)]
    for sock in waiting:
        sock.sendall(b"GET /delay/20 HTTP/1.1\r\nHost: lab\r\n\r\n")  # mid-request
    silent = socket.create_connection(("127.0.0.1", _port(lab)), timeout=5)  # says nothing
    deadline = time.monotonic() + 5
    while lab.connections_opened < len(idle) + len(waiting) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # the delayed requests are read and waiting
    threads = [t for t in threading.enumerate() if t not in before]
    assert len(threads) >= 1 + len(idle) + len(waiting)  # serve_forever + one per connection
    started = time.perf_counter()
    lab.close()
    took = time.perf_counter() - started
    assert [t.name for t in threads if t.is_alive()] == []
    clients = [*idle, *waiting, silent]
    assert [_closed_by_peer(sock) for sock in clients] == [True] * len(clients)
    with pytest.raises(ConnectionRefusedError):  # the listening socket is closed too
        socket.create_connection(("127.0.0.1", _port(lab)), timeout=5).close()
    assert took < 5  # close() does not wait out the delays
    for sock in clients:
        sock.close()


def test_close_fails_requests_in_flight_and_is_idempotent() -> None:
    lab = LabServer(tls=True)
    client = httpx.Client(**lab.client_kwargs())
    client.get(lab.url + "/")  # a keep-alive connection stays open on both sides
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(client.get, lab.url + "/delay/20")
        time.sleep(0.2)
        started = time.perf_counter()
        lab.close()
        with pytest.raises(httpx.HTTPError):
            slow.result()
    assert time.perf_counter() - started < 5  # close() does not wait out the delay
    lab.close()
    assert "closed" in repr(lab)
    with pytest.raises(httpx.ConnectError):
        client.get(lab.url + "/")
    client.close()


@pytest.mark.parametrize(
    ("tls", "says"),
    [
        (False, b""),
        (False, b"GET / HTTP/1.1\r\nHo"),
        (True, None),
        (True, b""),
    ],
    ids=["http-silent", "http-mid-request", "https-no-handshake", "https-silent-after-handshake"],
)
def test_a_silent_connection_is_dropped_by_the_handlers_timeout(
    monkeypatch: pytest.MonkeyPatch, tls: bool, says: bytes | None
) -> None:
    default = server_module._Handler.timeout
    assert isinstance(default, (int, float)) and 0 < default <= 120  # never kept forever
    monkeypatch.setattr(server_module._Handler, "timeout", 0.3)
    with LabServer(tls=tls) as lab:
        if says is None:  # connects, never starts the TLS handshake
            sock = socket.create_connection(("127.0.0.1", _port(lab)), timeout=5)
        else:
            sock = _connect(lab)
            sock.sendall(says)
        with sock:
            started = time.perf_counter()
            try:
                end = sock.recv(4096)
            except (ConnectionResetError, ssl.SSLError):
                end = b""
            waited = time.perf_counter() - started
        assert end == b""  # the server closed it, without an answer
        assert 0.2 <= waited < 4, waited  # at its timeout (not at once, not at ours of 5 s)
        # and the server carries on (with its own timeout: 0.3 s is short on a loaded machine)
        monkeypatch.setattr(server_module._Handler, "timeout", default)
        with httpx.Client(**lab.client_kwargs()) as client:
            assert client.get(lab.url + "/").status_code == 200


def test_tls_must_be_a_bool() -> None:
    with pytest.raises(ValueError, match="'yes'"):
        LabServer(tls="yes")  # type: ignore[arg-type]


def test_a_connection_is_shut_before_its_record_says_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the records say a connection closed, its socket is already shut (finish() shuts it
    itself, not socketserver after it): for a connection the server closed and one the client
    closed, the first shut finds the record still open."""
    first_shut: dict[int, bool] = {}  # client port -> was its record closed already?
    original = server_module._Server.shutdown_request

    def spy(self: Any, request: Any) -> None:
        with contextlib.suppress(OSError):
            port = request.getpeername()[1]
            with self.lock:
                state = next(c for c in self.connections if c.client_port == port)
            first_shut.setdefault(port, state.closed is not None)
        original(self, request)

    monkeypatch.setattr(server_module._Server, "shutdown_request", spy)
    with LabServer(idle_timeout=0.05) as lab:
        with httpx.Client() as client:
            client.get(lab.url + "/")
            time.sleep(0.3)  # the server closes the idle connection
        with httpx.Client() as client:
            client.get(lab.url + "/")  # the client closes this one
        assert lab.wait_until_closed()
        assert [c.closed_by for c in lab.connections] == ["server", "client"]
    assert len(first_shut) == 2 and not any(first_shut.values()), first_shut

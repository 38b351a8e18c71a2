"""LabServer: counts connections right, speaks TLS, survives bad clients, closes cleanly."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from labkit import LabServer


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
        "/delay/0.05?n=1", 200, "/status/418", 418)
    assert before <= first.started < first.finished <= second.started < second.finished <= after
    assert first.finished - first.started >= 0.05


def test_reset_clears_count_and_records(server: LabServer) -> None:
    with httpx.Client() as client:
        client.get(server.url)
        server.reset()
        assert (server.connections_opened, server.requests) == (0, [])
        client.get(server.url)  # the pooled connection survives a reset
    assert server.connections_opened == 0
    assert len(server.requests) == 1


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
    with httpx.Client() as client, ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: client.get(f"{server.url}/delay/0.2?i={i}"), range(8)))
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
        ("/nope", 404, "no such path: /nope"),
        ("/delay/1/2", 404, "no such path"),
    ],
)
def test_bad_values_get_a_one_line_reason(server: LabServer, path: str, status: int, reason: str) -> None:
    with httpx.Client() as client:
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


def test_garbage_gets_400_and_hang_ups_are_harmless(server: LabServer, capfd: pytest.CaptureFixture[str]) -> None:
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


def test_close_stops_threads_and_sockets_and_is_idempotent() -> None:
    before = set(threading.enumerate())
    lab = LabServer(tls=True)
    client = httpx.Client(**lab.client_kwargs())
    client.get(lab.url + "/")  # a keep-alive connection stays open on both sides
    stalled = socket.create_connection(("127.0.0.1", int(lab.url.rsplit(":", 1)[1])))
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(client.get, lab.url + "/delay/20")
        time.sleep(0.2)
        started = time.perf_counter()
        lab.close()
        with pytest.raises(httpx.HTTPError):
            slow.result()
    assert time.perf_counter() - started < 5  # close() does not wait out the delay
    lab.close()
    assert [t for t in threading.enumerate() if t not in before] == []
    with pytest.raises(httpx.ConnectError):
        client.get(lab.url + "/")
    client.close()
    stalled.close()
    assert "closed" in repr(lab)


def test_tls_must_be_a_bool() -> None:
    with pytest.raises(ValueError, match="'yes'"):
        LabServer(tls="yes")  # type: ignore[arg-type]

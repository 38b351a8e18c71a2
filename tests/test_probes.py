"""The connection probes agree with the server's own count, on HTTP and HTTPS, sync and async."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from labkit import ConnectionProbe, LabServer, client_port


def test_sync_probe_sees_one_new_connection_then_reuse(any_server: LabServer) -> None:
    probe = ConnectionProbe()
    with httpx.Client(**any_server.client_kwargs()) as client:
        ports = {
            client_port(client.get(any_server.url, extensions=probe.watch())) for _ in range(4)
        }
    first = "new TCP + TLS" if any_server.tls else "new TCP"
    assert probe.verdicts == [first, "reused", "reused", "reused"]
    assert probe.counts() == {first: 1, "reused": 3}
    assert ports == {r.client_port for r in any_server.requests}
    assert len(ports) == any_server.connections_opened == 1


def test_sync_probe_sees_a_new_connection_per_client(any_server: LabServer) -> None:
    probe = ConnectionProbe()
    for _ in range(3):
        with httpx.Client(**any_server.client_kwargs()) as client:
            client.get(any_server.url, extensions=probe.watch())
    assert probe.counts() == {"new TCP + TLS" if any_server.tls else "new TCP": 3}
    assert any_server.connections_opened == 3


def test_async_probe(any_server: LabServer) -> None:
    probe = ConnectionProbe()

    async def main() -> set[int]:
        async with httpx.AsyncClient(**any_server.client_kwargs()) as client:
            first = await client.get(any_server.url, extensions=probe.watch_async("first"))
            rest = await asyncio.gather(
                *(client.get(any_server.url, extensions=probe.watch_async()) for _ in range(3))
            )
            return {client_port(r) for r in [first, *rest]}

    ports = asyncio.run(main())
    first = "new TCP + TLS" if any_server.tls else "new TCP"
    assert probe.traces[0].label == "first"
    assert probe.verdicts[0] == first
    # three at once: the first connection is busy or free, so 0 to 3 new ones, all counted by
    # the server
    assert probe.counts()[first] == any_server.connections_opened == len(ports)


def test_a_request_without_a_probe_is_not_recorded(server: LabServer) -> None:
    probe = ConnectionProbe()
    with httpx.Client() as client:
        client.get(server.url)
        client.get(server.url, extensions=probe.watch())
    assert probe.verdicts == ["reused"]
    probe.clear()
    assert probe.verdicts == []


def test_client_port_needs_a_real_connection() -> None:
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as client:
        response = client.get("http://example.invalid/")
    with pytest.raises(ValueError, match="no network stream"):
        client_port(response)


def test_client_port_needs_a_response() -> None:
    with pytest.raises(ValueError, match="client_port needs an httpx.Response, not None"):
        client_port(None)  # type: ignore[arg-type]


def test_traces_are_labelled_in_the_order_they_were_watched(server: LabServer) -> None:
    probe = ConnectionProbe()
    with httpx.Client() as client:
        client.get(server.url, extensions=probe.watch())
        client.get(server.url, extensions=probe.watch("mine"))
        client.get(server.url, extensions=probe.watch())
    assert [trace.label for trace in probe.traces] == ["request 1", "mine", "request 3"]
    assert probe.verdicts == ["new TCP", "reused", "reused"]
    assert repr(probe) == "<ConnectionProbe {'new TCP': 1, 'reused': 2}>"


def test_a_refused_connect_is_no_reuse() -> None:
    """A request whose new connection was refused reused nothing: the probe says so."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: a connect is refused
        port = sock.getsockname()[1]
        probe = ConnectionProbe()
        with httpx.Client() as client, pytest.raises(httpx.ConnectError):
            client.get(f"http://127.0.0.1:{port}/", extensions=probe.watch())
    assert probe.verdicts == ["connect failed"]

"""The HTTP/2 lab server: ALPN picks h2, many streams share one connection, limits are kept."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from labkit.h2server import H2LabServer, stream_limits


async def _concurrent(lab: H2LabServer, n: int, delay: float, **settings: object) -> list[str]:
    async with httpx.AsyncClient(**lab.client_kwargs(), **settings) as client:  # type: ignore[arg-type]
        responses = await asyncio.gather(
            *(client.get(f"{lab.url}/delay/{delay}") for _ in range(n))
        )
        assert all(r.status_code == 200 for r in responses)
        assert stream_limits(client) == (
            [lab.max_concurrent_streams] if "http2" in settings else []
        )
        return [r.http_version for r in responses]


def test_http2_carries_concurrent_requests_on_one_connection() -> None:
    with H2LabServer() as lab:
        versions = asyncio.run(_concurrent(lab, 10, 0.2, http2=True))
        assert set(versions) == {"HTTP/2"}
        assert lab.http_versions() == {"2"}
        assert lab.connections_opened == 1
        assert 1 < lab.peak_streams <= 10


def test_http11_needs_a_connection_per_request_in_flight() -> None:
    with H2LabServer() as lab:
        versions = asyncio.run(_concurrent(lab, 5, 0.3))
        assert set(versions) == {"HTTP/1.1"}
        assert lab.connections_opened == 5
        assert lab.peak_streams == 1


def test_the_advertised_stream_limit_is_kept_on_one_connection() -> None:
    with H2LabServer(max_concurrent_streams=3) as lab:
        asyncio.run(_concurrent(lab, 9, 0.05, http2=True))
        assert lab.connections_opened == 1
        assert lab.peak_streams <= 3


def test_routes_reset_and_a_sync_client() -> None:
    with H2LabServer() as lab, httpx.Client(**lab.client_kwargs()) as client:
        assert client.get(lab.url + "/").text == "Hello from the HTTP/2 lab server.\n"
        assert client.get(lab.url + "/delay/0.01").text == "waited 0.01 s\n"
        assert client.get(lab.url + "/nope").status_code == 404
        assert client.get(lab.url + "/delay/x").status_code == 404
        assert client.get(lab.url + "/delay/31", timeout=3).status_code == 404  # over MAX_DELAY
        assert [r.path for r in lab.requests] == [
            "/",
            "/delay/0.01",
            "/nope",
            "/delay/x",
            "/delay/31",
        ]
        lab.reset()
        assert lab.requests == [] and lab.connections_opened == 0 and lab.peak_streams == 0


def test_close_is_idempotent_and_removes_the_certificate_files() -> None:
    lab = H2LabServer()
    folder = Path(lab._folder.name)
    assert (folder / "cert.pem").exists() and (folder / "key.pem").exists()
    assert repr(lab) == "<H2LabServer HTTPS h2 serving>"
    lab.close()
    lab.close()
    assert not folder.exists()
    assert repr(lab) == "<H2LabServer HTTPS h2 closed>"
    with pytest.raises(httpx.ConnectError), httpx.Client(**lab.client_kwargs()) as client:
        client.get(lab.url + "/")


@pytest.mark.parametrize("bad", [0, 1001, True, 2.5, "5"])
def test_bad_stream_limits_are_refused_by_name(bad: object) -> None:
    with pytest.raises(ValueError, match=repr(bad).replace(".", r"\.")):
        H2LabServer(max_concurrent_streams=bad)  # type: ignore[arg-type]


def test_it_listens_on_loopback_exactly_where_its_url_says() -> None:
    """hypercorn is handed a socket bound here: the OS's own list of this process's listening
    sockets must show it on 127.0.0.1 only, at the URL's port (0.0.0.0 would expose the lab
    server, and its certificate's key, to the network)."""
    psutil = pytest.importorskip("psutil")
    with H2LabServer() as lab:
        url = urlsplit(lab.url)
        assert (url.scheme, url.hostname) == ("https", "127.0.0.1")
        listening = {
            (c.laddr.ip, c.laddr.port)
            for c in psutil.Process().net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN
        }
        assert [address for address in listening if address[1] == url.port] == [
            ("127.0.0.1", url.port)
        ]
        if sys.platform.startswith("linux"):  # Linux routes all of 127.0.0.0/8 to loopback
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.2", url.port or 0), timeout=5).close()

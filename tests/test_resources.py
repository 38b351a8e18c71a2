"""Resource probes: descriptors and memory from the OS, a pool's connections, running out."""

from __future__ import annotations

import socket

import httpx
import pytest

from labkit import LabServer
from labkit.resources import (
    can_limit_open_files,
    open_descriptors,
    open_sockets,
    pool_connections,
    rss_mb,
    run_out_of_files,
)
from labkit.server import plain_trust


def test_open_descriptors_counts_a_socket() -> None:
    before = open_descriptors()
    with socket.socket() as sock:
        assert open_descriptors() == before + 1
        assert sock.fileno() >= 0
    assert open_descriptors() == before


def test_rss_is_a_positive_number_of_megabytes() -> None:
    assert 1 < rss_mb() < 100_000


def test_rss_grows_by_the_megabytes_a_block_takes() -> None:
    """50 MB written (so the OS really gives the pages) add 50 to `rss_mb()`: in kB it would
    be 50,000, in MiB 47.7. malloc maps a block this big afresh (over its mmap threshold), so
    the growth is the block itself, give or take a few pages, however loaded the machine."""
    before = rss_mb()
    block = b"\x01" * 50_000_000
    grown = rss_mb() - before
    del block
    assert 49 <= grown <= 52, grown


def test_pool_connections_describes_the_pool(server: LabServer) -> None:
    with httpx.Client() as client:
        assert pool_connections(client) == []
        client.get(server.url + "/")
        client.get(server.url + "/")
        assert pool_connections(client) == ["HTTP/1.1 IDLE (2 requests)"]
        with client.stream("GET", server.url + "/") as response:
            assert pool_connections(client) == ["HTTP/1.1 ACTIVE (3 requests)"]
            response.read()
    assert pool_connections(client) == []


@pytest.mark.skipif(not can_limit_open_files(), reason="no `resource` module on this platform")
def test_the_leak_ends_in_errno_24_where_the_lesson_says(server: LabServer) -> None:
    default, prebuilt, asynchronous = run_out_of_files(server.url + "/", limit=12)
    assert (default.clients, default.where) == ("default", "httpx.Client()")
    assert default.error == "OSError: [Errno 24] Too many open files"
    assert (prebuilt.clients, prebuilt.where) == ("prebuilt SSLContext", "client.get()")
    assert prebuilt.error == "httpx.ConnectError: [Errno 24] Too many open files"
    assert default.cause == prebuilt.cause == ""  # the message names the errno itself
    # An AsyncClient's message names no errno: it is at the bottom of the __cause__ chain.
    assert (asynchronous.clients, asynchronous.where) == ("AsyncClient", "await client.get()")
    assert asynchronous.error == "httpx.ConnectError: All connection attempts failed"
    assert asynchronous.cause == "OSError: [Errno 24] Too many open files"
    assert default.made >= 6 and prebuilt.made >= 6 and asynchronous.made >= 5
    # "made" counts the clients that sent their request: exactly what the server answered
    # (the client whose connect failed never reached it).
    made = default.made + prebuilt.made + asynchronous.made
    assert len(server.requests) == server.connections_opened == made
    assert server.wait_until_closed()  # the subprocess's sockets closed when it exited


@pytest.mark.parametrize("bad", [7, 1025, True, "12"])
def test_bad_limits_are_refused_by_name(bad: object) -> None:
    with pytest.raises(ValueError, match=repr(bad)):
        run_out_of_files("http://127.0.0.1:1/", limit=bad)  # type: ignore[arg-type]


def test_a_shared_client_keeps_descriptors_flat(server: LabServer) -> None:
    before = open_descriptors()
    with httpx.Client(verify=plain_trust()) as client:
        for _ in range(20):
            client.get(server.url + "/")
        assert open_descriptors() - before == 2  # the client's socket and the server's end
    assert server.wait_until_closed()
    assert open_descriptors() == before


def test_open_sockets_counts_sockets_and_nothing_else(server: LabServer) -> None:
    """08's counts: TCP sockets, a connection's two ends; never a file the kernel opens
    meanwhile (IPython's history journal, in JupyterLab), nor a UDP socket."""
    before = open_sockets()
    with httpx.Client(verify=plain_trust()) as client:
        client.get(server.url + "/")
        with open(__file__, encoding="utf-8"), socket.socket(type=socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))  # neither the file nor this socket is a TCP connection
            assert open_sockets() - before == 2  # the client's socket and the server's end
    assert server.wait_until_closed()
    assert open_sockets() == before

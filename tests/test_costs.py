"""measure_connection_costs measures what it says, on real connections.

Speed itself is never asserted: each figure is told apart by delays planted in the server.
"""

from __future__ import annotations

import select
import ssl
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from labkit import LabServer, costs
from labkit import server as server_module
from labkit.costs import BUILD, TCP, TLS, WARM, measure_connection_costs


@pytest.fixture
def servers() -> Iterator[tuple[LabServer, LabServer]]:
    with LabServer() as http, LabServer(tls=True) as https:
        yield http, https


def test_every_step_is_measured_in_milliseconds(servers: tuple[LabServer, LabServer]) -> None:
    costs = measure_connection_costs(*servers, repeat=2)
    assert list(costs) == [BUILD, TCP, TLS, WARM]
    assert all(isinstance(ms, float) and 0 < ms < 5000 for ms in costs.values()), costs


def test_each_round_opens_one_new_connection_per_server(
    servers: tuple[LabServer, LabServer],
) -> None:
    http, https = servers
    measure_connection_costs(http, https, repeat=3)
    # one warm-up round + 3 measured: a new connection each, over HTTP and over HTTPS
    assert http.connections_opened == https.connections_opened == 4
    # over HTTP, each connection also carried the 3 timed warm requests
    assert len(http.requests) == 4 * 4 and len(https.requests) == 4
    assert {r.connection for r in http.requests[:4]} == {1}


@pytest.mark.parametrize("repeat", [0, -1, 1.5, "3", True])
def test_a_bad_repeat_is_named(servers: tuple[LabServer, LabServer], repeat: object) -> None:
    with pytest.raises(ValueError, match=f"repeat must be .* not {repeat!r}"):
        measure_connection_costs(*servers, repeat=repeat)  # type: ignore[arg-type]


def test_servers_given_the_wrong_way_round_are_named(servers: tuple[LabServer, LabServer]) -> None:
    http, https = servers
    with pytest.raises(ValueError, match="server_http must be a plain-HTTP LabServer"):
        measure_connection_costs(https, https)
    with pytest.raises(ValueError, match="server_https must be a LabServer\\(tls=True\\)"):
        measure_connection_costs(http, http)
    assert http.connections_opened == https.connections_opened == 0


# Delays planted in the server (and in a default client's construction), each a different size,
# so each figure can only fall in its band if it timed the step its key names.
# Each band is wider than what a loaded machine added to its step, with the suite on 8 workers
# beside the browser tests: a loopback connect took 64 ms (band: under 100), a warm request 11 ms
# over its delay (band: 150 ms wide), a TLS handshake 187 ms over (band: 550 ms wide).
GET_DELAY = 0.1  # every answer: what a warm request costs, and no connection step
HANDSHAKE_DELAY = 0.25  # the server's side of every TLS handshake, once the ClientHello is in
BUILD_DELAY = 0.8  # building a client without settings (the default, which loads the CA bundle)


def test_each_figure_times_the_step_its_key_names(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = server_module._Handler
    original_setup, original_get = handler.setup, handler.do_GET

    def slow_setup(self: Any) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            # Wait for the ClientHello first: the client sends it after its start_tls.started
            # event, so the whole delay falls inside the step it times. (Sleeping from the
            # accept instead overlaps the client's own work between connect and handshake,
            # and a loaded machine measured 148.7 ms for a 150 ms delay.)
            select.select([self.request], [], [], 10)
            time.sleep(HANDSHAKE_DELAY)
        original_setup(self)

    def slow_get(self: Any) -> None:
        time.sleep(GET_DELAY)
        original_get(self)

    class SlowDefaultClient(httpx.Client):
        def __init__(self, **kwargs: Any) -> None:
            if not kwargs:
                time.sleep(BUILD_DELAY)
            super().__init__(**kwargs)

    monkeypatch.setattr(handler, "setup", slow_setup)
    monkeypatch.setattr(handler, "do_GET", slow_get)
    monkeypatch.setattr(costs, "httpx", SimpleNamespace(Client=SlowDefaultClient))
    with LabServer() as http, LabServer(tls=True) as https:
        ms = measure_connection_costs(http, https, repeat=2)
    # Lower bounds are firm (a step cannot beat its planted delay); upper bounds are generous,
    # yet below the next band: TCP < GET_DELAY <= WARM < HANDSHAKE_DELAY <= TLS < BUILD_DELAY
    # <= BUILD (the real cost of building a default client comes on top of its delay).
    assert ms[TCP] < GET_DELAY * 1000, ms  # a loopback connect waits for none of the delays
    assert GET_DELAY * 1000 <= ms[WARM] < HANDSHAKE_DELAY * 1000, ms
    assert HANDSHAKE_DELAY * 1000 <= ms[TLS] < BUILD_DELAY * 1000, ms
    assert BUILD_DELAY * 1000 <= ms[BUILD], ms


FIRST_HANDSHAKE_DELAY = 0.4  # half of it in a median of two
FIRST_BUILD_DELAY = 0.8  # more than a real build on a loaded machine (~0.2 s)


def test_the_warm_up_round_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """With one measured round, a slow first round would show: the warm-up must not count."""
    handler = server_module._Handler
    original_setup = handler.setup
    first: dict[str, bool] = {"handshake": True, "build": True}

    def slow_first(kind: str) -> None:
        if first[kind]:
            first[kind] = False
            time.sleep(FIRST_HANDSHAKE_DELAY if kind == "handshake" else FIRST_BUILD_DELAY)

    def slow_first_handshake(self: Any) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            slow_first("handshake")
        original_setup(self)

    class SlowFirstDefaultClient(httpx.Client):
        def __init__(self, **kwargs: Any) -> None:
            if not kwargs:
                slow_first("build")
            super().__init__(**kwargs)

    monkeypatch.setattr(handler, "setup", slow_first_handshake)
    monkeypatch.setattr(costs, "httpx", SimpleNamespace(Client=SlowFirstDefaultClient))
    with LabServer() as http, LabServer(tls=True) as https:
        ms = measure_connection_costs(http, https, repeat=1)
    assert first == {"handshake": False, "build": False}  # both slow first times happened
    # Counted, the slow first handshake would be half a median of two (the warm-up round and
    # the measured one), and the slow first build the whole of a median of one.
    assert ms[TLS] < FIRST_HANDSHAKE_DELAY * 1000 / 2, ms
    assert ms[BUILD] < FIRST_BUILD_DELAY * 1000, ms

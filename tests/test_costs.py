"""measure_connection_costs measures what it says, on real connections (speed itself is not asserted)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from labkit import LabServer
from labkit.costs import BUILD, TCP, TLS, WARM, measure_connection_costs


@pytest.fixture
def servers() -> Iterator[tuple[LabServer, LabServer]]:
    with LabServer() as http, LabServer(tls=True) as https:
        yield http, https


def test_every_step_is_measured_in_milliseconds(servers: tuple[LabServer, LabServer]) -> None:
    costs = measure_connection_costs(*servers, repeat=2)
    assert list(costs) == [BUILD, TCP, TLS, WARM]
    assert all(isinstance(ms, float) and 0 < ms < 5000 for ms in costs.values()), costs


def test_each_round_opens_one_new_connection_per_server(servers: tuple[LabServer, LabServer]) -> None:
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

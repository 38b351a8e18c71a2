"""LabServer(staged_race="reset"): the keep-alive race's more common face, a reset.

Lesson 07 shows both faces of the race: the staged close that reads the request (a FIN:
httpx.RemoteProtocolError) and the close with the request unread (an RST: httpx.ReadError,
what real uvicorn gives most often). The lesson prints only the exception's type and the
operating system's error at the bottom of its chain; these tests hold the server to it.
"""

from __future__ import annotations

import time

import httpx
import pytest

from labkit import LabServer


def _bottom(exc: BaseException) -> BaseException:
    while (below := exc.__cause__ or exc.__context__) is not None:
        exc = below
    return exc


def test_the_reset_race_gives_a_read_error_from_a_connection_reset() -> None:
    with (
        LabServer(idle_timeout=0.2, staged_race="reset") as server,
        httpx.Client() as client,
    ):
        client.get(server.url)
        time.sleep(0.3)
        with pytest.raises(httpx.ReadError) as info:
            client.get(server.url + "/delay/0.01")
        assert isinstance(_bottom(info.value), ConnectionResetError)
        assert [r.path for r in server.requests] == ["/"]  # the second was never answered
        assert server.wait_until_closed()
        [record] = server.connections
        assert (record.closed_by, record.reason) == ("server", "staged race, reset")
        assert client.get(server.url).status_code == 200  # a new connection is served
        assert server.connections_opened == 2


def test_the_reset_race_serves_a_connection_used_recently() -> None:
    with (
        LabServer(idle_timeout=0.4, staged_race="reset") as server,
        httpx.Client() as client,
    ):
        for _ in range(3):
            client.get(server.url)
        assert server.connections_opened == 1 and len(server.requests) == 3


@pytest.mark.parametrize("bad", ["yes", "RESET", 1])
def test_other_staged_races_are_refused_by_name(bad: object) -> None:
    with pytest.raises(ValueError, match="'reset'") as info:
        LabServer(idle_timeout=1, staged_race=bad)  # type: ignore[arg-type]
    assert repr(bad) in str(info.value)


def test_a_reset_race_needs_an_idle_timeout() -> None:
    with pytest.raises(ValueError, match="staged_race='reset' needs an idle_timeout"):
        LabServer(staged_race="reset")

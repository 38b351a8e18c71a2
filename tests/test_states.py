"""client_state names a client's state through its whole life, for Client and AsyncClient."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from labkit import LabServer, client_state


def test_a_client_through_with(server: LabServer) -> None:
    client = httpx.Client()
    assert client_state(client) == "unopened"
    with client:
        assert client_state(client) == "opened"
        client.get(server.url + "/")
        assert client_state(client) == "opened"
    assert client_state(client) == "closed"
    client.close()  # harmless
    assert client_state(client) == "closed"


def test_a_client_opened_by_its_first_request(server: LabServer) -> None:
    client = httpx.Client()
    client.get(server.url + "/")
    assert (client_state(client), client.is_closed) == ("opened", False)
    client.close()
    assert (client_state(client), client.is_closed) == ("closed", True)


def test_a_client_closed_unused_and_after_failed_opens(server: LabServer) -> None:
    unused = httpx.Client()
    unused.close()
    assert client_state(unused) == "closed"

    client = httpx.Client()
    client.get(server.url + "/")
    with pytest.raises(RuntimeError, match="Cannot open a client instance more than once"):
        with client:
            pass
    assert client_state(client) == "opened"  # the failed with closed nothing
    client.close()
    with pytest.raises(RuntimeError, match="Cannot reopen a client instance"):
        with client:
            pass
    assert client_state(client) == "closed"


def test_an_async_client_through_its_life(server: LabServer) -> None:
    async def life() -> list[str]:
        seen = []
        aclient = httpx.AsyncClient()
        seen.append(client_state(aclient))
        async with aclient:
            seen.append(client_state(aclient))
            await aclient.get(server.url + "/")
            seen.append(client_state(aclient))
        seen.append(client_state(aclient))
        other = httpx.AsyncClient()
        await other.get(server.url + "/")
        seen.append(client_state(other))
        await other.aclose()
        await other.aclose()
        seen.append(client_state(other))
        return seen

    assert asyncio.run(life()) == ["unopened", "opened", "opened", "closed", "opened", "closed"]


@pytest.mark.parametrize("bad", [None, "http://127.0.0.1", 42, httpx.BaseTransport(), httpx.Client])
def test_anything_but_a_client_is_a_value_error_naming_it(bad: object) -> None:
    with pytest.raises(ValueError, match="httpx.Client or httpx.AsyncClient") as caught:
        client_state(bad)  # type: ignore[arg-type]
    assert repr(bad) in str(caught.value)


def test_it_only_looks(server: LabServer) -> None:
    client = httpx.Client()
    for _ in range(3):
        client_state(client)
    with client:  # still unopened: reading the state changed nothing
        client.get(server.url + "/")
    assert client_state(client) == "closed"

"""Lesson 05's checks, where asyncio differs: hangs, other event loops, a coroutine for a function.

The kinds of wrong answer that lessons 02/04 and 05 share are tested in both flavours from one
table: tests/test_checks_02.py (fetch_all, fetch_all_async), tests/test_checks_04.py (Fetcher,
AsyncFetcher). Here: what only one flavour can do, and what a check does with time.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from labkit import LabServer
from labkit.checks import check_async_fetcher, check_fetch_all, check_fetch_all_async
from labkit.pool import peak_in_flight
from tests.verdicts import assert_diagnosed, load_solution, verdict

fetch_all_async = load_solution("05_fetch_all_async", "fetch_all_async")
AsyncFetcher = load_solution("05_async_fetcher", "AsyncFetcher")


def test_the_solution_shares_one_client_and_caps_what_is_in_flight(server: LabServer) -> None:
    """What the check relies on, seen from the server's own records."""
    delays = ["0.06", "0.02", "0.04", "0.01", "0.05", "0.03"]

    async def main() -> list[str]:
        async with httpx.AsyncClient() as client:
            bodies: list[str] = await fetch_all_async(
                client, [f"{server.url}/delay/{delay}" for delay in delays], 3
            )
            assert not client.is_closed
            return bodies

    bodies = asyncio.run(main())
    assert bodies == [f"waited {delay} s\n" for delay in delays]
    assert server.connections_opened <= 3 and 2 <= peak_in_flight(server.requests) <= 3


async def semaphore_never_released(
    client: httpx.AsyncClient, urls: list[str], cap: int
) -> list[str]:
    semaphore = asyncio.Semaphore(cap)

    async def fetch(url: str) -> str:
        await semaphore.acquire()  # ... and no release(): after `cap` requests, everyone waits
        return (await client.get(url)).text

    return await asyncio.gather(*(fetch(url) for url in urls))


def test_a_fetch_all_async_that_hangs_gets_a_verdict(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("labkit.checks._kernel.AWAIT_LIMIT", 0.5)
    assert_diagnosed(
        check_fetch_all_async, semaphore_never_released, "05.stuck", capfd, ["within 0.5 s"]
    )


class WaitsForever(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        await asyncio.Event().wait()  # nobody will ever set it
        raise AssertionError("unreachable")


def test_an_async_fetcher_that_hangs_is_cancelled_and_named(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("labkit.checks._kernel.AWAIT_LIMIT", 0.5)
    started = time.monotonic()
    evidence = ["fetch() (call 1 of 3, borrowed client)", "within 0.5 s"]
    assert_diagnosed(check_async_fetcher, WaitsForever, "kernel.stuck", capfd, evidence)
    assert time.monotonic() - started < 5


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """What a hanging answer waits for: set after the verdict, then its thread is waited for."""
    event = threading.Event()
    yield event
    event.set()
    for thread in threading.enumerate():
        if thread.name.startswith("labkit-check"):
            thread.join(timeout=15)


def test_a_fetch_all_whose_workers_never_stop_gets_a_verdict_in_time(
    release: threading.Event, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread can't be cancelled: the verdict comes anyway, and says what to do."""
    monkeypatch.setattr("labkit.checks._kernel.TIME_LIMIT", 1.0)

    def waits_forever(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
        release.wait()  # a worker waiting on something that never comes
        return []

    started = time.monotonic()
    assert_diagnosed(check_fetch_all, waits_forever, "kernel.out-of-time", capfd)
    assert time.monotonic() - started < 10


def test_a_called_function_instead_of_the_function_gets_a_hint(
    capfd: pytest.CaptureFixture[str],
) -> None:
    coroutine = fetch_all_async(httpx.AsyncClient(), [], 1)  # called, not passed: a coroutine
    assert_diagnosed(check_fetch_all_async, coroutine, "kernel.called-function", capfd)


def test_a_semaphore_from_another_event_loop_gets_a_hint(capfd: pytest.CaptureFixture[str]) -> None:
    semaphore = asyncio.Semaphore(2)

    async def contend() -> None:  # a semaphore binds to the loop of the first task that waits on it
        async def hold() -> None:
            async with semaphore:
                await asyncio.sleep(0.001)

        await asyncio.gather(hold(), hold(), hold())

    asyncio.run(contend())

    async def shared_semaphore(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
        async def fetch(url: str) -> str:
            async with semaphore:
                return (await client.get(url)).text

        return await asyncio.gather(*(fetch(url) for url in urls))

    evidence = ["is bound to a different event loop"]
    out = assert_diagnosed(
        check_fetch_all_async, shared_semaphore, "05.other-loop", capfd, evidence
    )
    assert "0x" not in out  # no memory address in the verdict


def test_after_a_missing_await_the_fixed_answer_passes(capfd: pytest.CaptureFixture[str]) -> None:
    """The coroutine a wrong answer never awaited is collected in its own check, not the next."""

    async def forgets_await_on_get(
        client: httpx.AsyncClient, urls: list[str], cap: int
    ) -> list[str]:
        return [client.get(url).text for url in urls]  # type: ignore[attr-defined]

    assert verdict(check_fetch_all_async, forgets_await_on_get, capfd)[0] is False
    passed, out = verdict(check_fetch_all_async, fetch_all_async, capfd)
    assert passed, out

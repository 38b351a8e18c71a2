"""check_fetch_all (02) and check_fetch_all_async (05): one table of mistakes, in both flavours.

Each row is a kind of wrong answer: its fetch_all (threads), its fetch_all_async (asyncio; None
where the kind exists in one flavour only), and the words the verdict must say, spelled with
{fn} and {cap} so one row holds both flavours' expectations.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import httpx
import nbformat
import pytest

from labkit.checks import _fan_out, check_fetch_all, check_fetch_all_async
from labkit.checks._evidence import Finish, Flights, in_finishing_order, judge_bodies
from labkit.checks._fan_out import ROUNDS
from labkit.checks._kernel import CheckFailed
from labkit.server import RequestRecord, plain_trust
from tests.libraries import httpx_only, stage_pool_race
from tests.notebook_runner import ROOT, stub_cells
from tests.verdicts import (
    assert_diagnosed,
    assert_rejected,
    flavour_cases,
    in_httpx2,
    in_libraries,
    left_behind,
    load_solution,
    verdict,
)

# Wrong answers' own clients pass verify=plain_trust(): tests/verdicts.py says why.

NOTEBOOK = ROOT / "notebooks" / "02_open_once_share_across_threads.ipynb"
fetch_all = load_solution("02_fetch_all", "fetch_all")
fetch_all_async = load_solution("05_fetch_all_async", "fetch_all_async")
CHECKS: dict[str, Callable[[Any], bool]] = {"sync": check_fetch_all, "async": check_fetch_all_async}
SPELLING = {
    "sync": {"fn": "fetch_all", "cap": "max_workers"},
    "async": {"fn": "fetch_all_async", "cap": "max_concurrency"},
}


def pooled(get: Callable[[str], str], urls: list[str], workers: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(get, urls))


async def capped(get: Callable[[str], Any], urls: list[str], cap: int) -> list[Any]:
    semaphore = asyncio.Semaphore(cap)

    async def one(url: str) -> Any:
        async with semaphore:
            return await get(url)

    return await asyncio.gather(*(one(url) for url in urls))


# --- wrong answers, threads ---------------------------------------------------------------------


def client_per_request(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    def fetch(url: str) -> str:
        with httpx.Client(verify=plain_trust()) as own:
            return own.get(url).text

    return pooled(fetch, urls, max_workers)


def one_new_shared_client(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with httpx.Client(verify=plain_trust()) as own:
        return pooled(lambda url: own.get(url).text, urls, max_workers)


def closes_the_client(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    bodies = pooled(lambda url: client.get(url).text, urls, max_workers)
    client.close()
    return bodies


def with_the_given_client(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with client:
        return pooled(lambda url: client.get(url).text, urls, max_workers)


def sequential(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    return [client.get(url).text for url in urls]


def a_pool_per_url(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    return [pooled(lambda u: client.get(u).text, [url], max_workers)[0] for url in urls]


def completion_order(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = [pool.submit(client.get, url) for url in urls]
        return [future.result().text for future in as_completed(futures)]


def a_thread_per_url(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    return pooled(lambda url: client.get(url).text, urls, len(urls))


def default_pool_size(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with ThreadPoolExecutor() as pool:  # min(32, cpus + 4) threads: at least 5
        return list(pool.map(lambda url: client.get(url).text, urls))


def hard_coded_two(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    return pooled(lambda url: client.get(url).text, urls, 2)


def hard_coded_four(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    return pooled(lambda url: client.get(url).text, urls, 4)


_kept: list[threading.Semaphore] = []


def semaphore_kept_from_the_first_call(
    client: httpx.Client, urls: list[str], max_workers: int
) -> list[str]:
    if not _kept:  # "made once, reused": its size is the first call's max_workers
        _kept.append(threading.Semaphore(max_workers))

    def fetch(url: str) -> str:
        with _kept[0]:
            return client.get(url).text

    return pooled(fetch, urls, len(urls))


def status_codes(client: httpx.Client, urls: list[str], max_workers: int) -> list[int]:
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(lambda url: client.get(url).status_code, urls))


def httpx_get_per_request(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    return pooled(lambda url: httpx.get(url, verify=plain_trust()).text, urls, max_workers)


def connection_close(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    """Every request on the given client, each telling the server to hang up after it."""
    return pooled(
        lambda url: client.get(url, headers={"Connection": "close"}).text, urls, max_workers
    )


def close_on_the_last(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    """`Connection: close` on the last URL only: its connection is gone once fetch_all returns."""

    def fetch(url: str) -> str:
        headers = {"Connection": "close"} if url == urls[-1] else {}
        return client.get(url, headers=headers).text

    return pooled(fetch, urls, max_workers)


def empties_the_pool(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    """Every body, then the caller's pool emptied "to tidy up" (helper-34's w18)."""
    bodies = pooled(lambda url: client.get(url).text, urls, max_workers)
    client._transport._pool.close()  # type: ignore[attr-defined]  # what the learner wrote
    return bodies


def last_stream_cut_short(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    """The last URL streamed, its first chunk taken, the rest dropped with the connection."""

    def fetch(url: str) -> str:
        if url != urls[-1]:
            return client.get(url).text
        with client.stream("GET", url) as response:
            return next(response.iter_text())

    return pooled(fetch, urls, max_workers)


def each_url_twice(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    def fetch(url: str) -> str:
        client.get(url)  # "warm up"
        return client.get(url).text

    return pooled(fetch, urls, max_workers)


def returns_the_map_iterator(client: httpx.Client, urls: list[str], max_workers: int) -> Any:
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return pool.map(lambda url: client.get(url).text, urls)


def returns_futures(client: httpx.Client, urls: list[str], max_workers: int) -> Any:
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return [pool.submit(lambda u: client.get(u).text, url) for url in urls]


def yields_bodies(client: httpx.Client, urls: list[str], max_workers: int) -> Iterator[str]:
    yield from pooled(lambda url: client.get(url).text, urls, max_workers)


def closes_then_sends(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    client.close()  # "tidying up" in the wrong place
    return pooled(lambda url: client.get(url).text, urls, max_workers)


async def async_def_for_threads(
    client: httpx.Client, urls: list[str], max_workers: int
) -> list[str]:
    return pooled(lambda url: client.get(url).text, urls, max_workers)


def stub(client: Any, urls: list[str], cap: int) -> list[str]:
    raise NotImplementedError  # your code here


def raises(client: Any, urls: list[str], cap: int) -> list[str]:
    raise ValueError("oops, a typo")


# --- wrong answers, asyncio ---------------------------------------------------------------------


async def a_client_per_request(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    async def fetch(url: str) -> str:
        async with httpx.AsyncClient(verify=plain_trust()) as own:
            return (await own.get(url)).text

    return await capped(fetch, urls, cap)


async def own_shared_client(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    async with httpx.AsyncClient(verify=plain_trust()) as own:
        return await capped(lambda url: _text(own, url), urls, cap)


async def _text(client: httpx.AsyncClient, url: str, **kwargs: Any) -> str:
    return (await client.get(url, **kwargs)).text


async def closes_the_given(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    bodies: list[str] = await fetch_all_async(client, urls, cap)
    await client.aclose()
    return bodies


async def async_with_the_given(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    async with client:
        return await fetch_all_async(client, urls, cap)  # type: ignore[no-any-return]


async def awaits_one_by_one(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    return [(await client.get(url)).text for url in urls]


async def as_they_complete(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    semaphore = asyncio.Semaphore(cap)

    async def fetch(url: str) -> str:
        async with semaphore:
            return await _text(client, url)

    return [await done for done in asyncio.as_completed([fetch(url) for url in urls])]


async def gathers_everything(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    return [r.text for r in await asyncio.gather(*(client.get(url) for url in urls))]


async def a_fixed_two(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    return await fetch_all_async(client, urls, 2)  # type: ignore[no-any-return]


async def a_fixed_four(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    return await fetch_all_async(client, urls, 4)  # type: ignore[no-any-return]


_kept_async: list[asyncio.Semaphore] = []


async def semaphore_kept_async(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    if not _kept_async:
        _kept_async.append(asyncio.Semaphore(cap))
    semaphore = _kept_async[0]

    async def fetch(url: str) -> str:
        async with semaphore:
            return await _text(client, url)

    return await asyncio.gather(*(fetch(url) for url in urls))


_per_cap: dict[int, asyncio.Semaphore] = {}


async def semaphore_per_cap_at_module_level(
    client: httpx.AsyncClient, urls: list[str], cap: int
) -> list[str]:
    """The right size every time, but made once and kept: it belongs to the first event loop."""
    semaphore = _per_cap.setdefault(cap, asyncio.Semaphore(cap))

    async def fetch(url: str) -> str:
        async with semaphore:
            return await _text(client, url)

    return await asyncio.gather(*(fetch(url) for url in urls))


async def codes_async(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[int]:
    return await capped(lambda url: _code(client, url), urls, cap)


async def _code(client: httpx.AsyncClient, url: str) -> int:
    return (await client.get(url)).status_code


async def connection_close_async(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    return await capped(lambda url: _text(client, url, headers={"Connection": "close"}), urls, cap)


async def close_on_the_last_async(
    client: httpx.AsyncClient, urls: list[str], cap: int
) -> list[str]:
    async def fetch(url: str) -> str:
        headers = {"Connection": "close"} if url == urls[-1] else {}
        return await _text(client, url, headers=headers)

    return await capped(fetch, urls, cap)


async def each_url_twice_async(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    async def fetch(url: str) -> str:
        await client.get(url)
        return await _text(client, url)

    return await capped(fetch, urls, cap)


async def forgets_await(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[Any]:
    return [client.get(url) for url in urls]  # coroutines, never awaited


async def forgets_await_on_get(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    async def fetch(url: str) -> str:
        return client.get(url).text  # type: ignore[attr-defined, no-any-return]

    return await capped(fetch, urls, cap)


async def forgets_await_in_a_task_group(
    client: httpx.AsyncClient, urls: list[str], cap: int
) -> list[str]:
    semaphore = asyncio.Semaphore(cap)

    async def fetch(url: str) -> str:
        async with semaphore:
            return client.get(url).text  # type: ignore[attr-defined, no-any-return]

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(url)) for url in urls]
    return [task.result() for task in tasks]


async def forgets_await_on_gather(client: httpx.AsyncClient, urls: list[str], cap: int) -> Any:
    return asyncio.gather(*(client.get(url) for url in urls))  # a future, never awaited here


async def gathers_a_list(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    coroutines = [_text(client, url) for url in urls]
    try:
        return await asyncio.gather(coroutines)  # type: ignore[call-overload]  # no star
    finally:
        for coroutine in coroutines:
            coroutine.close()


async def semaphore_per_request(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    async def fetch(url: str) -> str:
        async with asyncio.Semaphore(cap):  # a new one for each request: caps nothing
            return await _text(client, url)

    return await asyncio.gather(*(fetch(url) for url in urls))


async def runs_a_new_loop(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    coroutine = fetch_all_async(client, urls, cap)
    try:
        return asyncio.run(coroutine)  # type: ignore[no-any-return]
    finally:
        coroutine.close()


async def leaves_failing_tasks(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    async def fetch(url: str) -> str:
        async with client:  # fails: the client is open already
            return await _text(client, url)

    tasks = [asyncio.create_task(fetch(url)) for url in urls]
    await asyncio.sleep(0.01)  # the tasks fail; nobody looks at their exceptions
    del tasks
    return []


async def makes_spare_coroutines(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    spare = [client.get(url) for url in urls]  # made, never awaited: Python warns
    del spare
    return await fetch_all_async(client, urls, cap)  # type: ignore[no-any-return]


async def yields_async(client: httpx.AsyncClient, urls: list[str], cap: int) -> Any:
    for body in await fetch_all_async(client, urls, cap):
        yield body


def plain_def(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    return []


async def async_stub(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    raise NotImplementedError  # your code here


async def async_raises(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    raise ValueError("oops, a typo")


def returns_responses(client: httpx.Client, urls: list[str], max_workers: int) -> Any:
    return pooled(client.get, urls, max_workers)  # type: ignore[arg-type]


def returns_a_dict(client: httpx.Client, urls: list[str], max_workers: int) -> Any:
    bodies = pooled(lambda url: client.get(url).text, urls, max_workers)
    return dict(zip(urls, bodies, strict=True))


async def semaphore_around_gather(
    client: httpx.AsyncClient, urls: list[str], cap: int
) -> list[str]:
    async with asyncio.Semaphore(cap):  # held once, around everything: caps nothing
        return [r.text for r in await asyncio.gather(*(client.get(url) for url in urls))]


async def a_stub_inside_a_task_group(
    client: httpx.AsyncClient, urls: list[str], cap: int
) -> list[str]:
    async def fetch(url: str) -> str:
        raise NotImplementedError  # your code here

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(url)) for url in urls]
    return [task.result() for task in tasks]


def first_chunk(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    def fetch(url: str) -> str:
        with client.stream("GET", url) as response:
            for chunk in response.iter_text():
                return chunk  # "the body comes in one chunk": the stream is left unfinished
        return ""

    return pooled(fetch, urls, max_workers)


async def first_chunk_async(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    async def fetch(url: str) -> str:
        async with client.stream("GET", url) as response:
            async for chunk in response.aiter_text():
                return chunk
        return ""

    return await capped(fetch, urls, cap)


def stripped(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    return pooled(lambda url: client.get(url).text.strip(), urls, max_workers)


async def stripped_async(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    return [body.strip() for body in await capped(lambda url: _text(client, url), urls, cap)]


@dataclass(frozen=True)
class Mistake:
    sync: Callable[..., Any] | None
    async_: Callable[..., Any] | None
    mistake: str  # its id; {f} is the flavour's lesson: 02 (threads) or 05 (asyncio)
    evidence: tuple[str, ...] = ()  # the verdict must say each, in the flavour's spelling


MISTAKES: dict[str, Mistake] = {
    "a client per request": Mistake(
        client_per_request, a_client_per_request, "{f}.own-client", ("sent 0 of its 8 requests",)
    ),
    "its own shared client": Mistake(
        one_new_shared_client, own_shared_client, "{f}.own-client", ()
    ),
    "httpx.get() per request": Mistake(httpx_get_per_request, None, "{f}.own-client", ()),
    "closes the client": Mistake(closes_the_client, closes_the_given, "fan.closed-given", ()),
    "`with client:` inside": Mistake(
        with_the_given_client,
        async_with_the_given,
        "fan.opened-given",
        ("Cannot open a client instance more than once.",),
    ),
    "closes, then sends": Mistake(closes_then_sends, None, "fan.closed-given-error", ()),
    "one at a time": Mistake(sequential, awaits_one_by_one, "{f}.one-at-a-time", ("({cap}=3)",)),
    "a pool per URL": Mistake(a_pool_per_url, None, "{f}.one-at-a-time", ()),
    "in the order they finish": Mistake(
        completion_order, as_they_complete, "list.finishing-order", ()
    ),
    "ignores the cap": Mistake(
        a_thread_per_url, gathers_everything, "{f}.over-cap", ("but {cap}=3",)
    ),
    "the default pool size": Mistake(default_pool_size, None, "{f}.over-cap", ()),
    "a hard-coded 2": Mistake(hard_coded_two, a_fixed_two, "{f}.under-cap", ("at most 2",)),
    "a hard-coded 4": Mistake(hard_coded_four, a_fixed_four, "{f}.over-cap", ("up to 4",)),
    "a semaphore kept from the first call": Mistake(
        semaphore_kept_from_the_first_call, semaphore_kept_async, "{f}.over-cap", ("but {cap}=2",)
    ),
    "status codes": Mistake(status_codes, codes_async, "list.status-codes", ()),
    # Caught only once fetch_all has returned (helper-34's wrong answers passed before):
    "Connection: close on the last request": Mistake(
        close_on_the_last, close_on_the_last_async, "fan.dropped-close", ("2 connections open",)
    ),
    "the caller's pool emptied at the end": Mistake(
        empties_the_pool, None, "fan.dropped", ("returned with 0 connections open",)
    ),
    "the last stream cut short": Mistake(
        last_stream_cut_short, None, "fan.dropped", ("3 requests in flight at once",)
    ),
    "Connection: close on every request": Mistake(
        connection_close,
        connection_close_async,
        "fan.connection-close",
        ("8 TCP connections for 8 requests",),
    ),
    "each URL twice": Mistake(
        each_url_twice, each_url_twice_async, "fan.extra-requests", ("16 requests",)
    ),
    "returns pool.map's iterator": Mistake(returns_the_map_iterator, None, "02.iterator", ()),
    "returns futures": Mistake(returns_futures, None, "02.futures", ()),
    "a generator": Mistake(yields_bodies, yields_async, "kernel.wrong-kind", ("generator, not a",)),
    "async def for threads": Mistake(
        async_def_for_threads, None, "kernel.wrong-kind", ("async def, not a plain def",)
    ),
    "a plain def for asyncio": Mistake(
        None, plain_def, "kernel.wrong-kind", ("plain def, not an async def",)
    ),
    "forgets await": Mistake(None, forgets_await, "list.coroutines", ()),
    "forgets await on client.get": Mistake(None, forgets_await_on_get, "05.missing-await", ()),
    "forgets await inside a TaskGroup": Mistake(
        None, forgets_await_in_a_task_group, "05.missing-await", ("(inside it: AttributeError",)
    ),
    "forgets await on gather": Mistake(None, forgets_await_on_gather, "05.returned-awaitable", ()),
    "gathers a list": Mistake(None, gathers_a_list, "05.gather-list", ()),
    "a semaphore per request": Mistake(None, semaphore_per_request, "05.over-cap", ()),
    "a semaphore per cap, kept at module level": Mistake(
        None, semaphore_per_cap_at_module_level, "05.other-loop", ()
    ),
    "asyncio.run inside": Mistake(None, runs_a_new_loop, "05.asyncio-run", ()),
    "leaves failing tasks": Mistake(
        None, leaves_failing_tasks, "list.count", ("0 bodies for 8 URLs",)
    ),
    "makes coroutines it never awaits": Mistake(
        None, makes_spare_coroutines, "05.stray-warning", ("never awaited",)
    ),
    "returns the responses": Mistake(returns_responses, None, "list.responses", ()),
    "returns a dict": Mistake(returns_a_dict, None, "list.not-a-list", ()),
    "a semaphore held around gather": Mistake(None, semaphore_around_gather, "05.over-cap", ()),
    "a stub inside a TaskGroup": Mistake(None, a_stub_inside_a_task_group, "kernel.not-yet", ()),
    "stub": Mistake(stub, async_stub, "kernel.not-yet", ()),
    "another exception": Mistake(raises, async_raises, "{f}.error", ("ValueError: oops, a typo",)),
    "not the function": Mistake(
        "fetch_all",  # type: ignore[arg-type]  # the name, not the function
        "fetch_all_async",  # type: ignore[arg-type]
        "kernel.needs-function",
        ("not a str",),
    ),
    # Ids no test reached before (coverage run):
    "only the first chunk of each stream": Mistake(
        first_chunk, first_chunk_async, "fan.churn", ("8 TCP connections for 8 requests",)
    ),
    "stripped bodies": Mistake(
        stripped, stripped_async, "list.wrong-item", ("body 1", "returned 'waited 0.12 s'")
    ),
}
CASES = flavour_cases({name: (m.sync, m.async_) for name, m in MISTAKES.items()})
# A share of the wrong answers, written with `import httpx2 as httpx`: the same diagnoses.
IN_HTTPX2 = {"a client per request", "closes the client", "`with client:` inside", "stub"}
IN_HTTPX2 |= {"Connection: close on every request", "forgets await on client.get"}
IN_HTTPX2 |= {"one at a time", "in the order they finish", "ignores the cap"}
IN_HTTPX2 |= {"only the first chunk of each stream"}


@pytest.mark.parametrize(("flavour", "name", "library"), in_libraries(CASES, IN_HTTPX2))
def test_each_wrong_answer_is_rejected_with_a_verdict_naming_its_mistake(
    flavour: str, name: str, library: str, capfd: pytest.CaptureFixture[str]
) -> None:
    mistake = MISTAKES[name]
    answer = mistake.sync if flavour == "sync" else mistake.async_
    if library == "httpx2":
        answer = in_httpx2(answer)
    _kept.clear()
    _kept_async.clear()
    _per_cap.clear()
    words = {**SPELLING[flavour], "f": "02" if flavour == "sync" else "05"}
    evidence = [word.format(**words) for word in mistake.evidence]
    assert_diagnosed(CHECKS[flavour], answer, mistake.mistake.format(**words), capfd, evidence)


# --- right answers, in many styles --------------------------------------------------------------


def submit_in_order(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = [pool.submit(client.get, url) for url in urls]
        return [future.result().text for future in futures]


def as_completed_by_index(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    bodies = [""] * len(urls)
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = {pool.submit(client.get, url): i for i, url in enumerate(urls)}
        for future in as_completed(futures):
            bodies[futures[future]] = future.result().text
    return bodies


def queue_and_stop_signal(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    jobs: queue.Queue[tuple[int, str] | None] = queue.Queue()
    bodies = [""] * len(urls)

    def worker() -> None:
        while (job := jobs.get()) is not None:
            bodies[job[0]] = client.get(job[1]).text

    threads = [threading.Thread(target=worker) for _ in range(max_workers)]
    for thread in threads:
        thread.start()
    for job in enumerate(urls):
        jobs.put(job)
    for _ in threads:
        jobs.put(None)  # one stop signal per worker
    for thread in threads:
        thread.join()
    return bodies


def logged(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


async def task_group(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    semaphore = asyncio.Semaphore(cap)

    async def fetch(url: str) -> str:
        async with semaphore:
            return (await client.get(url)).text

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(url)) for url in urls]
    return [task.result() for task in tasks]


async def async_queue_workers(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    jobs: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue()
    bodies = [""] * len(urls)

    async def worker() -> None:
        while (job := await jobs.get()) is not None:
            bodies[job[0]] = (await client.get(job[1])).text

    for job in enumerate(urls):
        jobs.put_nowait(job)
    for _ in range(cap):
        jobs.put_nowait(None)
    await asyncio.gather(*(worker() for _ in range(cap)))
    return bodies


async def bounded_semaphore_as_completed(
    client: httpx.AsyncClient, urls: list[str], cap: int
) -> list[str]:
    semaphore = asyncio.BoundedSemaphore(cap)

    async def fetch(index: int, url: str) -> tuple[int, str]:
        async with semaphore:
            return index, (await client.get(url)).text

    bodies = [""] * len(urls)
    for done in asyncio.as_completed([fetch(i, url) for i, url in enumerate(urls)]):
        index, body = await done
        bodies[index] = body
    return bodies


def a_thread_per_url_under_a_semaphore(
    client: httpx.Client, urls: list[str], max_workers: int
) -> list[str]:
    gate, bodies = threading.BoundedSemaphore(max_workers), [""] * len(urls)

    def one(index: int, url: str) -> None:
        with gate:
            bodies[index] = client.get(url).text

    threads = [threading.Thread(target=one, args=job) for job in enumerate(urls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return bodies


def in_batches(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    bodies: list[str] = []
    for start in range(0, len(urls), max_workers):
        bodies += pooled(
            lambda url: client.get(url).text, urls[start : start + max_workers], max_workers
        )
    return bodies


async def in_batches_async(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    bodies: list[str] = []
    for start in range(0, len(urls), cap):
        batch = urls[start : start + cap]
        bodies += [r.text for r in await asyncio.gather(*(client.get(url) for url in batch))]
    return bodies


async def workers_on_one_iterator(
    client: httpx.AsyncClient, urls: list[str], cap: int
) -> list[str]:
    bodies, work = [""] * len(urls), iter(enumerate(urls))

    async def worker() -> None:
        for index, url in work:
            bodies[index] = (await client.get(url)).text

    async with asyncio.TaskGroup() as group:
        for _ in range(cap):
            group.create_task(worker())
    return bodies


RIGHT: dict[str, tuple[Callable[..., Any] | None, Callable[..., Any] | None]] = {
    "the solution": (fetch_all, fetch_all_async),
    "submit, then results in order": (submit_in_order, None),
    "as_completed, placed by index": (as_completed_by_index, bounded_semaphore_as_completed),
    "workers on a queue with a stop signal": (queue_and_stop_signal, async_queue_workers),
    "a TaskGroup and a semaphore": (None, task_group),
    "a sync decorator around it": (logged(fetch_all), logged(fetch_all_async)),
    "a thread per URL under a semaphore": (a_thread_per_url_under_a_semaphore, None),
    "in batches of the cap": (in_batches, in_batches_async),
    "workers sharing one iterator": (None, workers_on_one_iterator),
}
RIGHT_CASES = flavour_cases(RIGHT)
# In httpx2 too: the solution, and two styles of each flavour (each run takes a second).
RIGHT_IN_HTTPX2 = {"the solution", "as_completed, placed by index", "a sync decorator around it"}
SOLUTION_05 = ("05_fetch_all_async", "fetch_all_async")


@pytest.mark.parametrize(("flavour", "name", "library"), in_libraries(RIGHT_CASES, RIGHT_IN_HTTPX2))
def test_each_right_answer_passes(
    flavour: str, name: str, library: str, capfd: pytest.CaptureFixture[str]
) -> None:
    answer = RIGHT[name][0 if flavour == "sync" else 1]
    if library == "httpx2" and name == "the solution":
        stem, function = ("02_fetch_all", "fetch_all") if flavour == "sync" else SOLUTION_05
        answer = load_solution(stem, function, library="httpx2")
    elif library == "httpx2":
        answer = in_httpx2(answer)
    passed, out = verdict(CHECKS[flavour], answer, capfd)
    assert passed, out
    assert out.startswith(f"✅ {SPELLING[flavour]['fn']} works")


def test_the_stub_in_the_stored_notebook_gets_the_verdict_shown_there(
    capfd: pytest.CaptureFixture[str],
) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    [index] = [i for i, solution in stub_cells(nb) if solution.name == "02_fetch_all.py"]
    namespace: dict[str, Any] = {}
    exec(nb.cells[index].source, namespace)  # noqa: S102 - the notebook's own stub
    check_cell = next(c for c in nb.cells[index + 1 :] if "check_fetch_all(" in c.source)
    shown = "".join(o.get("text", "") for o in check_cell.outputs if o.output_type == "stream")
    passed, out = verdict(check_fetch_all, namespace["fetch_all"], capfd)
    assert not passed and out.startswith("❌ Not yet") and out == shown


def test_a_wrong_answer_leaves_no_socket_for_later(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clients made per request and never closed are collected by the check, quietly."""

    def never_closed(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
        return pooled(
            lambda url: httpx.Client(verify=plain_trust()).get(url).text, urls, max_workers
        )

    def run() -> None:
        assert_rejected(check_fetch_all, never_closed, ["sent 0 of its 8 requests"], capfd)

    assert left_behind(run, monkeypatch) == []


def _finished(delays_and_times: list[tuple[str, float]]) -> list[RequestRecord]:
    return [
        RequestRecord(n, 50000 + n, f"/delay/{delay}", 200, 0.0, at)
        for n, (delay, at) in enumerate(delays_and_times, start=1)
    ]


@pytest.mark.parametrize(
    ("order", "named"),
    [
        (["0.12", "0.07", "0.27"], True),  # as the server finished them
        (["0.07", "0.12", "0.27"], True),  # two that finished 40 ms apart, swapped on the way
        (["0.27", "0.12", "0.07"], False),  # 0.27 finished 150 ms after 0.12
        (["0.07", "0.12", "0.99"], False),  # a body no request was answered with
    ],
)
def test_the_order_of_finishing_allows_for_answers_finished_together(
    order: list[str], named: bool
) -> None:
    records = _finished([("0.12", 1.12), ("0.07", 1.16), ("0.27", 1.27)])
    assert in_finishing_order([f"waited {d} s\n" for d in order], records) is named


def test_the_order_the_client_had_its_answers_in_is_the_order_of_finishing_too() -> None:
    """Seen under the full suite on 8 workers: an event loop took two answers 150 ms apart in
    the other order from the server's. Bodies in the client's order are still "as they came"."""
    server = _finished([("0.12", 1.12), ("0.07", 1.4)])
    client = [Finish("/delay/0.07", 1.45), Finish("/delay/0.12", 1.6)]
    got, expected = ["waited 0.07 s\n", "waited 0.12 s\n"], ["waited 0.12 s\n", "waited 0.07 s\n"]
    mistakes = []
    for finishes in (client, ()):
        with pytest.raises(CheckFailed) as failed:
            judge_bodies("fetch_all", got, expected, server, order="02", finishes=finishes)
        mistakes.append(failed.value.mistake)
    assert mistakes == ["list.finishing-order", "list.order"]
    flights = Flights()  # what the check passes: its clients' response hooks note each answer
    request = httpx.Request("GET", "http://127.0.0.1:8000/delay/0.07")
    flights.begin(request)
    flights.end(httpx.Response(200, request=request))
    assert [finish.path for finish in flights.finishes] == ["/delay/0.07"]


def test_the_first_round_never_finishes_its_bodies_in_the_order_of_their_delays() -> None:
    """Sorted bodies (by delay) are not taken for the order of finishing in the first round,
    which every answer meets first (its requests going out at its cap, as a right answer's do).
    """
    for rnd in ROUNDS[:1]:
        ends: list[float] = []
        free = [0.0] * rnd.most
        for delay in rnd.delays:
            start = min(free)
            free[free.index(start)] = start + float(delay)
            ends.append(start + float(delay))
        records = _finished(sorted(zip(rnd.delays, ends, strict=True), key=lambda pair: pair[1]))
        by_delay = [f"waited {d} s\n" for d in sorted(rnd.delays, key=float)]
        assert not in_finishing_order(by_delay, records), rnd


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_when_the_servers_clocks_miss_every_overlap_the_clients_own_decide(
    flavour: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staged: the server's clocks see one request at a time (a loaded machine rejected two
    right answers this way). The client's request and response hooks still see the right
    answer's overlap, and still see none in code that sends one request at a time."""
    monkeypatch.setattr(_fan_out, "peak_in_flight", lambda records: 1 if records else 0)
    answer = fetch_all if flavour == "sync" else fetch_all_async
    passed, out = verdict(CHECKS[flavour], answer, capfd)
    assert passed, out
    serial = sequential if flavour == "sync" else awaits_one_by_one
    f = "02" if flavour == "sync" else "05"
    assert_diagnosed(CHECKS[flavour], serial, f"{f}.one-at-a-time", capfd)


@httpx_only("httpx2's pool keeps a snapshot of the connections it may give out: no such race")
def test_a_connection_the_pool_replaces_in_its_own_race_is_not_churn(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Staged: the second round's client is capped at 2 connections for 4 workers, so requests
    queue in its pool, where httpcore 1.0.9 can replace a connection in a race of its own
    (tests/libraries.py). The solution still passes."""
    raced = stage_pool_race(monkeypatch, capped_at=2)
    passed, out = verdict(check_fetch_all, fetch_all, capsys)
    assert raced and passed, out

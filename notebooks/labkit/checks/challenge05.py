"""Challenge for 05_async_clients: one AsyncClient per event loop, from a cache keyed by the loop.

Code called from two `asyncio.run()`s (a sync wrapper around async code, a test suite with a
loop per test) needs a client in each loop: `LoopClients.current()` gives the running loop's
client, made on that loop's first call, and `await clients.aclose()` closes it inside its loop.
The check runs two event loops one after the other, as two `asyncio.run()` calls would, then
two at the same time, in two threads (one loop's aclose() while the other still uses its
client). Requests go through `current()` each time, the client held by nothing but the cache
(a weak cache would drop it). The server says how many connections each loop opened and whether
they were closed; a weak reference says whether a finished loop's client was left behind in
the cache.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import threading
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from ..server import LabServer
from ._evidence import SEND_CLOSED, async_recorder, kind
from ._kernel import (
    CheckServer,
    describe,
    exercise_check,
    flunk,
    is_a,
    learner_await,
    learner_call,
    need_class,
    plural,
)

RUNS = 2
REQUESTS = 3  # per loop, one after another: one connection, reused
AT_ONCE = 3  # current() calls from tasks at the same time: a lock must work in every loop
# An asyncio object made in an earlier loop (a lock in __init__?) says so in its error.
BOUND = (("different event loop", "c5.bound"), ("attached to a different loop", "c5.bound"))


async def _run(method: Callable[[], Any]) -> Any:
    """Call `method`: a plain method or an `async def` one (then awaited): both are accepted."""
    value = method()
    return await value if inspect.isawaitable(value) else value


async def _current(clients: Any, run: int, tasks: int = 0) -> Any:
    """current()'s client; or, given `tasks`, the clients of that many calls made at once."""
    calls = (_run(clients.current) for _ in range(tasks))
    action: Awaitable[Any] = asyncio.gather(*calls) if tasks else _run(clients.current)
    return await learner_await(
        "LoopClients.current()", action, slips=BOUND, mistake="c5.error", words={"run": str(run)}
    )


async def _get(clients: Any, url: str) -> None:
    """`await clients.current().get(url)`, as users write it: nothing else holds the client."""
    (await (await _run(clients.current)).get(url)).raise_for_status()


async def _one_loop(
    clients: Any, url: str, run: int, heard: list[httpx.Request]
) -> weakref.ref[Any]:
    """One event loop's life: its first calls come from tasks at the same time, and all of them
    get one client, which sends REQUESTS on one connection; aclose() closes it in this loop."""
    # A task the learner's code left failing is judged by the verdict, not logged to stderr.
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: None)
    early = await _current(clients, run, AT_ONCE)
    first = early[0]
    if not is_a(first, "AsyncClient"):
        flunk("c5.not-a-client", got=kind(first))
    if any(client is not first for client in early):
        made = len({id(client) for client in early})

        async def twice_in_one_task() -> bool:
            return await _current(clients, run) is await _current(clients, run)

        if not await asyncio.create_task(twice_in_one_task()):  # not per task: per call
            seen = (
                f"{AT_ONCE} current() calls from tasks at the same time got {made} different "
                "clients, and two calls in one task gave another client each time"
            )
            flunk("c5.same", run=run, seen=seen)
        later = await asyncio.create_task(_current(clients, run))  # a new task, after the race
        race = any(later is client for client in early)  # kept by the loop, so not per task
        flunk("c5.race" if race else "c5.per-task", run=run, at_once=AT_ONCE, made=made)
    if await _current(clients, run) is not first:
        seen = "a later call of current() (from the loop's main task) gave another client"
        flunk("c5.same", run=run, seen=seen)
    if any(client is not first for client in await _current(clients, run, AT_ONCE)):
        seen = f"{AT_ONCE} current() calls from tasks at the same time did not all get its client"
        flunk("c5.same", run=run, seen=seen)
    kept = weakref.ref(first)
    del early, first  # from now on, only the cache may keep it: users call current() per request
    heard.clear()
    closed = (("Event loop is closed", "c5.one-client"), (SEND_CLOSED, "c5.one-client"))
    words = {"run": str(run), "prev": str(run - 1)}
    name, slips = "a request on current()'s client", closed if run > 1 else ()
    for before in range(REQUESTS + 1):  # before each request, and after the last one
        gc.collect()  # nothing but the cache holds the client now: it must still be there
        if kept() is None:
            flunk("c5.not-kept", run=run)
        if before < REQUESTS:  # `await clients.current().get(url)`: the client is not held
            request = _get(clients, url)
            await learner_await(name, request, slips=slips, mistake="c5.error", words=words)
    if len(heard) < REQUESTS:
        flunk("c5.settings", run=run, heard=len(heard), requests=REQUESTS)
    last = await _current(clients, run)
    if id(last) != id(kept()):  # not `is`: mypy would take `last` for kept()'s Optional
        seen = "a later call of current() (after its requests) gave another client"
        flunk("c5.same", run=run, seen=seen)
    name = "LoopClients.aclose()"
    await learner_await(name, _run(clients.aclose), mistake="c5.error", words=words)
    if not last.is_closed:  # judged now: once dropped, the garbage collector would close it
        flunk("c5.open", run=run)
    return kept


def _run_loops(clients: Any, server: LabServer, heard: list[httpx.Request]) -> None:
    """RUNS event loops, one after the other, in this thread, as two `asyncio.run()`s in a
    script: not the kernel's `run_in_own_loop` (a thread per loop), since an answer keyed by
    the thread must meet two loops in one thread."""
    seen: list[weakref.ref[Any]] = []
    for run in range(1, RUNS + 1):
        server.reset()
        client = asyncio.run(_one_loop(clients, server.url + "/", run, heard))
        if server.connections_opened != 1:
            opened = plural(server.connections_opened, "TCP connection")
            flunk("c5.connections", run=run, opened=opened, requests=REQUESTS)
        if not server.wait_until_closed(1.0):
            still = plural(server.open_connections, "TCP connection")
            flunk("c5.open-connections", run=run, still=still)
        seen.append(client)
    gc.collect()
    for run, client in enumerate(seen, 1):
        if client() is not None:
            flunk("c5.left", run=run)


def _together_in_two_threads(clients: Any, server: LabServer) -> None:
    """Two event loops at the same time, in two threads (as two threads each running
    asyncio.run() do): each must get a client of its own, even while the other's is open, and
    one loop's aclose() must leave the other's client open (loop 2 uses it once more)."""
    both = threading.Barrier(2)
    first_closed = threading.Event()
    got: list[int] = []
    failed: list[str] = []  # what raised: "loop 2's request after loop 1's aclose() raised ..."
    closed_other: list[bool] = []

    async def step(name: str, action: Awaitable[Any]) -> None:
        try:
            await action
        except Exception as exc:  # noqa: BLE001 - evidence, judged below
            failed.append(f"{name} raised {describe(exc)}")
            raise

    async def one_loop(index: int) -> None:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: None)
        client = await _run(clients.current)
        got.append(id(client))
        await asyncio.to_thread(both.wait, 5)  # both loops hold their client now
        await step(f"loop {index}'s request", client.get(server.url + "/"))
        await asyncio.to_thread(both.wait, 5)  # both sent one request
        if index == 1:
            await step("loop 1's aclose()", _run(clients.aclose))
            first_closed.set()
            return
        await asyncio.to_thread(first_closed.wait, 5)
        closed_other.append(client.is_closed)
        if not client.is_closed:
            name = "loop 2's request after loop 1's aclose()"
            await step(name, client.get(server.url + "/"))
        await step("loop 2's aclose()", _run(clients.aclose))

    def run(index: int) -> None:
        try:
            asyncio.run(one_loop(index))
        except Exception as exc:  # noqa: BLE001 - evidence (a client of the other loop's), judged below
            if not failed:  # else: the other loop's failure broke the barrier, said already
                failed.append(f"loop {index} raised {describe(exc)}")
            both.abort()  # the other loop waits for nothing that will not come
        finally:
            first_closed.set()

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="labkit-loops") as pool:
        list(pool.map(run, (1, 2)))  # what a loop raised, raised here
    if len(got) == 2 and len(set(got)) < 2:
        flunk("c5.concurrent", seen="got the same client from current()")
    if any(closed_other):
        flunk("c5.closed-other")
    if failed:
        flunk("c5.concurrent", seen=f"got a client each, but {failed[0]}")


@exercise_check
def check_loop_clients(candidate: Callable[..., Any]) -> str:
    """`LoopClients(**client_kwargs)`: `current()` per running loop; `aclose()` closes it."""
    need_class("check_loop_clients", "LoopClients", candidate)
    heard: list[httpx.Request] = []
    with CheckServer() as server:
        kwargs = {**server.client_kwargs(), **async_recorder(heard)}
        clients = learner_call("LoopClients(...)", candidate, **kwargs, mistake="c5.init-error")
        _run_loops(clients, server, heard)
        _together_in_two_threads(clients, server)
    return (
        f"LoopClients works: {RUNS} event loops one after the other, each with its own "
        "client (one per loop, shared by its tasks, one TCP connection), each closed inside "
        "its loop, and nothing left behind."
    )

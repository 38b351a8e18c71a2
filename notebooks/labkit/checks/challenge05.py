"""Challenge for 05_async_clients: one AsyncClient per event loop, from a cache keyed by the loop.

Code called from two `asyncio.run()`s (a sync wrapper around async code, a test suite with a
loop per test) needs a client in each loop: `LoopClients.current()` gives the running loop's
client, made on that loop's first call, and `await clients.aclose()` closes it inside its loop.
The check runs two event loops one after the other, as two `asyncio.run()` calls would, then
two at the same time, in two threads. The server says how many connections each loop opened
and whether they were closed; a weak reference says whether a finished loop's client was left
behind in the cache.

The loops one after the other run in one thread of the check's own, not through the kernel's
`run_in_own_loop` (a new thread per loop): an answer keyed by the thread must meet two loops
in one thread, as two `asyncio.run()`s in a script do. The learner's code is called through
the kernel (`learner_await`) all the same.
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
    """current()'s client, called here; or a list: the clients of `tasks` calls from tasks
    running at the same time."""
    calls = (_run(clients.current) for _ in range(tasks))
    action: Awaitable[Any] = asyncio.gather(*calls) if tasks else _run(clients.current)
    return await learner_await(
        "LoopClients.current()",
        action,
        slips=BOUND,
        mistake="c5.error",
        words={"run": str(run)},
    )


async def _one_loop(
    clients: Any, url: str, run: int, heard: list[httpx.Request]
) -> weakref.ref[Any]:
    """One event loop's life: its first calls come from tasks at the same time, and all of them
    get one client, which sends REQUESTS on one connection; aclose() closes it in this loop."""
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
    heard.clear()

    async def requests() -> None:
        for _ in range(REQUESTS):
            (await first.get(url)).raise_for_status()

    closed = (("Event loop is closed", "c5.one-client"), (SEND_CLOSED, "c5.one-client"))
    words = {"run": str(run), "prev": str(run - 1)}
    name = "a request on current()'s client"
    await learner_await(
        name, requests(), slips=closed if run > 1 else (), mistake="c5.error", words=words
    )
    if len(heard) < REQUESTS:
        flunk("c5.settings", run=run, heard=len(heard), requests=REQUESTS)
    name = "LoopClients.aclose()"
    await learner_await(name, _run(clients.aclose), mistake="c5.error", words=words)
    if not first.is_closed:  # judged now: once dropped, the garbage collector would close it
        flunk("c5.open", run=run)
    return weakref.ref(first)


def _run_loops(clients: Any, server: LabServer, heard: list[httpx.Request]) -> None:
    """RUNS event loops, one after the other, in a thread that has none: two asyncio.run()s."""
    seen: list[weakref.ref[Any]] = []
    for run in range(1, RUNS + 1):
        server.reset()
        with asyncio.Runner() as runner:
            runner.get_loop().set_exception_handler(lambda loop, context: None)
            client = runner.run(_one_loop(clients, server.url + "/", run, heard))
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
    asyncio.run() do): each must get a client of its own, even while the other's is open."""
    meet = threading.Barrier(2)
    got: list[int] = []
    failed: list[str] = []

    async def one_loop() -> None:
        client = await _run(clients.current)
        got.append(id(client))
        await asyncio.to_thread(meet.wait, 5)  # both loops hold their client now
        try:
            (await client.get(server.url + "/")).raise_for_status()
        except Exception as exc:  # noqa: BLE001 - evidence, judged below
            failed.append(describe(exc))
        await clients.aclose()

    def run() -> None:
        try:
            with asyncio.Runner() as runner:
                runner.get_loop().set_exception_handler(lambda loop, context: None)
                runner.run(one_loop())
        except Exception as exc:  # noqa: BLE001 - evidence (a client of the other loop's), judged below
            failed.append(describe(exc))

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="labkit-loops") as pool:
        futures = [pool.submit(run) for _ in range(2)]
    for future in futures:
        future.result()
    if len(set(got)) < 2 or failed:
        which = "the same client" if len(set(got)) < 2 else "their clients"
        flunk(
            "c5.concurrent", got=which, failed=f" (a request raised {failed[0]})" if failed else ""
        )


@exercise_check(stepped=True)
def check_loop_clients(candidate: Callable[..., Any]) -> str:
    """`LoopClients(**client_kwargs)`: `current()` per running loop; `aclose()` closes it."""
    need_class("check_loop_clients", "LoopClients", candidate)
    heard: list[httpx.Request] = []
    with CheckServer() as server:
        kwargs = {**server.client_kwargs(), **async_recorder(heard)}
        clients = learner_call("LoopClients(...)", candidate, **kwargs, mistake="c5.init-error")
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="labkit-loops") as worker:
            worker.submit(_run_loops, clients, server, heard).result()
        _together_in_two_threads(clients, server)
    return (
        f"LoopClients works: {RUNS} event loops one after the other, each with its own "
        "client (one per loop, shared by its tasks, one TCP connection), each closed inside "
        "its loop, and nothing left behind."
    )

"""Challenge for 05_async_clients: one AsyncClient per event loop, from a cache keyed by the loop.

Code called from two `asyncio.run()`s (a sync wrapper around async code, a test suite with a
loop per test) needs a client in each loop: `LoopClients.current()` gives the running loop's
client, made on that loop's first call, and `await clients.aclose()` closes it inside its loop.
The check runs two event loops one after the other, as two `asyncio.run()` calls would, then
two at the same time, in two threads. The
server says how many connections each loop opened and whether they were closed; a weak
reference says whether a finished loop's client was left behind in the cache.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from ..server import LabServer
from ._evidence import SEND_CLOSED, async_recorder, kind
from ._kernel import (
    CheckFailed,
    CheckServer,
    describe,
    exercise_check,
    is_a,
    learner_call,
    plural,
)
from .challenge_hints import HintSteps

RUNS = 2
REQUESTS = 3  # per loop, one after another: one connection, reused
AT_ONCE = 3  # current() calls from tasks at the same time: a lock must work in every loop

STEPS = HintSteps(
    "check_loop_clients",
    {
        "shape": "",
        "one-client": "Notebook 05, section 4, 'The pitfall: one client, two event loops', runs "
        "this very case.",
        "same": "Section 2, 'Open once per event loop, share across tasks'.",
        "race": "Section 2, 'Open once per event loop, share across tasks'.",
        "settings": "",
        "bound": "Section 4, 'The pitfall: one client, two event loops': what else belongs to "
        "the loop it was first used in?",
        "open": "Section 4: the fix opens and closes each loop's client inside that loop.",
        "left": "Section 4: a closed event loop can never run again, so whatever is kept for it "
        "(its client, the loop itself) is only a leak, one more with every asyncio.run().",
    },
    prefix="c5",
)


async def _maybe_await(value: Any) -> Any:
    """`current()` may be a plain method or an `async def`: accept both."""
    return await value if inspect.isawaitable(value) else value


class _Run:
    """What one event loop of the check saw (no strong reference to the learner's client)."""

    def __init__(self) -> None:
        self.client: weakref.ref[Any] | None = None
        self.client_id = 0
        self.problem = ""
        self.hint = ""
        self.kind = ""


HINT_BOUND = (
    "An asyncio.Lock (or Event, Semaphore, Condition, Queue) belongs to the first event loop "
    "that waits on it, as a client does: don't make one in __init__. Make it per loop, next "
    "to that loop's client, or need none: a plain `def current()` that never awaits can't be "
    "interleaved."
)


async def _one_loop(
    clients: Any, url: str, run: int, record: _Run, heard: list[httpx.Request]
) -> None:
    def stop(kind_: str, problem: str, hint: str) -> None:
        record.kind, record.problem, record.hint = kind_, problem, hint

    async def from_a_task() -> Any:
        return await _maybe_await(clients.current())

    try:  # the loop's first calls come from tasks at the same time: one client for them all
        early = await asyncio.gather(*(from_a_task() for _ in range(AT_ONCE)))
    except NotImplementedError:
        return stop(
            "",
            "Not yet: LoopClients.current() still raises NotImplementedError.",
            "Write its body, run that cell, then run this check again.",
        )
    except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
        bound = "different event loop" in str(exc) or "attached to a different loop" in str(exc)
        return stop(
            "bound" if bound else "shape",
            f"in event loop {run}, current() raised {describe(exc)}"
            + (
                ": something made in an earlier event loop (a lock?) was used here."
                if bound
                else ""
            ),
            HINT_BOUND if bound else "Fix that error first.",
        )
    first = early[0]
    if not is_a(first, "AsyncClient"):
        return stop(
            "shape",
            f"current() returned {kind(first)}, not an httpx.AsyncClient.",
            "Return the running loop's httpx.AsyncClient.",
        )
    record.client, record.client_id = weakref.ref(first), id(first)
    if any(client is not first for client in early):
        made = len({id(client) for client in early})

        async def twice_in_one_task() -> bool:
            return await from_a_task() is await from_a_task()

        if not await asyncio.create_task(twice_in_one_task()):  # not per task: per call
            return stop(
                "same",
                f"in event loop {run}, {AT_ONCE} current() calls from tasks at the same time "
                f"got {made} different clients, and two calls in one task gave another client "
                "each time.",
                "Within one event loop, every call must get the same client, even calls that "
                "overlap: make it on the loop's first call, keep it, and hand it out again.",
            )
        later = await asyncio.create_task(from_a_task())  # a new task, after the race
        if any(later is client for client in early):  # kept by the loop, so not per task
            return stop(
                "race",
                f"in event loop {run}, the first {AT_ONCE} current() calls, from tasks at the "
                f"same time, got {made} different clients, though a later task got one of "
                "them again: the calls raced.",
                "current() awaits between finding no client for this loop and storing one, so "
                "every task that calls it meanwhile finds none and makes its own. Store the "
                "new client before any `await` (no await between the check and the store), "
                "or guard both with an asyncio.Lock made per loop.",
            )
        return stop(
            "per-task",
            f"in event loop {run}, the first {AT_ONCE} current() calls, from tasks at the same "
            f"time, got {made} different clients: one per task, not one per loop.",
            "Key the cache by the running event loop (asyncio.get_running_loop()), not by "
            "task: a context variable is copied into each task, so each task that sets it "
            "gets a client of its own, and nothing closes them.",
        )
    again = await _maybe_await(clients.current())
    if again is not first:
        return stop(
            "same",
            f"in event loop {run}, a later call of current() (from the loop's main task) "
            "gave another client.",
            "Within one event loop, every call must get the same client: make it on "
            "the loop's first call, keep it, and hand it out again.",
        )
    try:
        together = await asyncio.gather(*(from_a_task() for _ in range(AT_ONCE)))
    except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
        bound = "different event loop" in str(exc) or "attached to a different loop" in str(exc)
        return stop(
            "bound" if bound else "shape",
            f"in event loop {run}, {AT_ONCE} current() calls from tasks at the same time "
            f"raised {describe(exc)}"
            + (
                ": something made in an earlier event loop (a lock?) was used here."
                if bound
                else ""
            ),
            HINT_BOUND if bound else "Fix that error first.",
        )
    if any(client is not first for client in together):
        return stop(
            "same",
            f"in event loop {run}, {AT_ONCE} current() calls from tasks at the same time "
            "did not all get the loop's client.",
            "Within one event loop, every call must get the same client, even calls that "
            "overlap: make it on the loop's first call, keep it, and hand it out again.",
        )
    heard.clear()
    try:
        for _ in range(REQUESTS):
            (await first.get(url)).raise_for_status()
    except Exception as exc:  # noqa: BLE001
        problem = f"in event loop {run}, a request on current()'s client raised {describe(exc)}"
        if run > 1 and ("Event loop is closed" in str(exc) or str(exc) == SEND_CLOSED):
            return stop(
                "one-client",
                f"{problem} That client is event loop 1's.",
                "Each event loop needs a client of its own: a client made in (or "
                "used by) another loop can't work in this one. Key your cache by "
                "the running loop.",
            )
        return stop("shape", problem, "Fix that error first.")
    if len(heard) < REQUESTS:
        return stop(
            "settings",
            f"in event loop {run}, current()'s client was not made with the settings given "
            f"to LoopClients(**client_kwargs): the check's request hook heard "
            f"{len(heard)} of its {REQUESTS} requests.",
            "Keep the keyword arguments __init__ gets and make every client with them: "
            "httpx.AsyncClient(**self._client_kwargs).",
        )
    try:
        await clients.aclose()
    except NotImplementedError:
        return stop(
            "",
            "Not yet: LoopClients.aclose() still raises NotImplementedError.",
            "Write its body, run that cell, then run this check again.",
        )
    except Exception as exc:  # noqa: BLE001
        return stop(
            "shape",
            f"in event loop {run}, aclose() raised {describe(exc)}",
            "Fix that error first.",
        )
    if not first.is_closed:  # judged now: once dropped, the garbage collector would close it
        return stop(
            "open",
            f"in event loop {run}, aclose() left the loop's client open.",
            "aclose() must close the running loop's client, inside that loop: "
            "`await client.aclose()` on the client current() gave in this loop.",
        )


def _run_loops(clients: Any, server: LabServer, heard: list[httpx.Request]) -> None:
    """RUNS event loops, one after the other, in a thread that has none: two asyncio.run()s."""
    url = server.url + "/"
    seen: list[_Run] = []
    for run in range(1, RUNS + 1):
        server.reset()
        record = _Run()
        with asyncio.Runner() as runner:
            runner.get_loop().set_exception_handler(lambda loop, context: None)
            runner.run(_one_loop(clients, url, run, record, heard))
        if record.problem:
            if record.kind:
                STEPS.fail(record.kind, record.problem, record.hint)
            raise CheckFailed(record.problem, record.hint)
        if (
            seen
            and seen[-1].client is not None
            and seen[-1].client() is not None
            and record.client_id == seen[-1].client_id
        ):
            STEPS.fail(
                "one-client",
                f"event loop {run} got the client of event loop {run - 1}.",
                "Each event loop needs a client of its own. Key your cache by the running loop.",
            )
        opened = server.connections_opened
        if opened != 1:
            STEPS.fail(
                "same",
                f"event loop {run} opened "
                f"{plural(opened, 'TCP connection')} for {REQUESTS} requests "
                "one after another.",
                "One client per loop, reused: its pool keeps one connection for them.",
            )
        if not server.wait_until_closed(1.0):
            STEPS.fail(
                "open",
                f"after event loop {run} ended (its aclose() awaited), the server still "
                f"had {plural(server.open_connections, 'TCP connection')} open.",
                "aclose() must close the running loop's client, inside that loop: "
                "once the loop is closed, nothing can close its connections any more.",
            )
        seen.append(record)
    gc.collect()
    for run, record in enumerate(seen, 1):
        if record.client is not None and record.client() is not None:
            STEPS.fail(
                "left",
                f"after event loop {run} ended and its client was closed, the cache "
                "still kept that client (and so, maybe, the dead loop).",
                "A finished loop must leave nothing behind in the cache: let aclose() "
                "remove the loop's entry, or key the cache so that a dead loop's entry "
                "goes by itself (weakref.WeakKeyDictionary).",
            )


def _together_in_two_threads(clients: Any, server: LabServer) -> None:
    """Two event loops at the same time, in two threads (as two threads each running
    asyncio.run() do): each must get a client of its own, even while the other's is open."""
    meet = threading.Barrier(2)
    got: list[int] = []
    failed: list[str] = []

    async def one_loop() -> None:
        client = await _maybe_await(clients.current())
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
        STEPS.fail(
            "concurrent",
            "two event loops running at the same time, in two threads, got "
            + ("the same client" if len(set(got)) < 2 else "their clients")
            + (f" (a request raised {failed[0]})" if failed else "")
            + ": the check's loops one after the other never showed it.",
            "Key the cache by the running loop itself (asyncio.get_running_loop()), not by "
            "whichever loop ran last or by a client that is still open: two loops can run at "
            "once, one per thread, and each needs its own client.",
        )


@exercise_check
def check_loop_clients(candidate: Callable[..., Any]) -> str:
    """`LoopClients(**client_kwargs)`: `current()` per running loop; `aclose()` closes it."""
    if not isinstance(candidate, type):
        STEPS.fail(
            "shape",
            f"check_loop_clients needs the class, not {kind(candidate)}.",
            "Call check_loop_clients(LoopClients).",
        )
    heard: list[httpx.Request] = []
    with CheckServer() as server:
        clients = learner_call(
            "LoopClients(...)",
            candidate,
            **server.client_kwargs(),
            **async_recorder(heard),
            hint="LoopClients(**client_kwargs) keeps the settings for the "
            "clients it makes; fix that error first.",
        )
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="labkit-loops") as worker:
            worker.submit(_run_loops, clients, server, heard).result()
        _together_in_two_threads(clients, server)
    STEPS.passed()
    return (
        f"LoopClients works: {RUNS} event loops one after the other, each with its own "
        "client (one per loop, shared by its tasks, one TCP connection), each closed inside "
        "its loop, and nothing left behind."
    )

"""Checks for 05_async_clients: `fetch_all_async` and `AsyncFetcher`, the asyncio twins of
lesson 02's `fetch_all` and lesson 04's `Fetcher`, judged by the same scenarios.

A check cell is a plain call, `check_fetch_all_async(fetch_all_async)`. The notebook's kernel
already runs an event loop in that thread, so each check runs its scenario with `quietly`, in
`run_in_own_loop`: a worker thread with a fresh event loop and lab servers of its own, all
closed before the verdict. Your coroutines run in that loop, and every client they meet is
made inside it (an AsyncClient belongs to one event loop: notebook 05, section 4).

`check_async_fetcher(AsyncFetcher)` first makes sure fetch, aclose, __aenter__ and __aexit__ are
`async def`, then runs the eleven scenarios of lesson 04's `check_fetcher` (listed in
lesson04.py) in the same order, with `async with` for `with`, `aclose()` for `close()` and
`httpx.AsyncClient` for `httpx.Client`, in functions named as there (in those words); the first
that goes wrong gives the verdict. What the two checks say and judge alike is in `_facade.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from ..server import LabServer
from ._evidence import ROUNDS, async_recorder, expect_body, judge_bodies, judge_sharing, kind
from ._facade import (ASYNC, HINT_CLIENT_AND_SETTINGS, HINT_STATUS, judge_left_open,
                      judge_one_connection, judge_owns_client, judge_warnings, need_a_class,
                      need_context_manager)
from ._framework import (CheckFailed, CheckServer, describe, exercise_check, fail,
                         learner_await, quietly)

__all__ = ["check_async_fetcher", "check_fetch_all_async"]

# Errors whose plain message doesn't say what to change: (words in the verdict, a pointed hint).
KNOWN_SLIPS = (
    ("'coroutine' object has no attribute",
     "A missing await: an AsyncClient's get() gives a coroutine, not a response, until you await "
     "it: `response = await client.get(url)`."),
    ("unhashable type: 'list'",
     "asyncio.gather takes the coroutines as separate arguments, not one list: "
     "`await asyncio.gather(*coroutines)`, with the star."),
    ("asyncio.run() cannot be called from a running event loop",
     "Your code already runs inside an event loop (its caller's): await the work "
     "(`await asyncio.gather(...)`, `await client.get(url)`) instead of starting a new loop "
     "with asyncio.run()."),
)

# --- fetch_all_async --------------------------------------------------------------------------

TIME_LIMIT = 10.0  # seconds for one round: far more than its requests take, even on a busy machine

HINT_STRAY_WARNING = ("Python warns when work is started and never finished, such as a coroutine "
                      "made but never awaited: await every coroutine you make "
                      "(asyncio.gather(*coroutines) awaits them all).")

FetchAllAsync = Callable[[httpx.AsyncClient, list[str], int], Awaitable[list[str]]]


async def _one_round(candidate: FetchAllAsync, server: LabServer, client: httpx.AsyncClient,
                     sent: list[httpx.Request], max_concurrency: int,
                     delays: Sequence[str]) -> None:
    """Await fetch_all_async once with `max_concurrency`; judge it from the server's records."""
    urls = [f"{server.url}/delay/{delay}" for delay in delays]
    server.reset()
    sent.clear()
    try:
        async with asyncio.timeout(TIME_LIMIT):
            got = await learner_await(
                "fetch_all_async", candidate, client, list(urls), max_concurrency,
                hint="Fix that error. Remember the caller owns the client: use it, but don't "
                     "open it (`async with client:`) or close it (`await client.aclose()`) "
                     "inside fetch_all_async.",
            )
    except TimeoutError:
        fail(f"fetch_all_async did not finish within {TIME_LIMIT:g} s (its requests take well "
             "under 1 s).", "Is every request awaited, and is the semaphore always released? "
                            "`async with semaphore:` releases it even when a request fails.")
    except CheckFailed as failure:
        if "is bound to a different event loop" in failure.problem:
            fail("fetch_all_async used an asyncio object made in another event loop (RuntimeError: "
                 "... is bound to a different event loop): a semaphore made outside the function?",
                 "Make the asyncio.Semaphore inside fetch_all_async, so it belongs to the event "
                 "loop that runs the function (the check runs it in a loop of its own).")
        raise
    if inspect.isawaitable(got):
        if inspect.iscoroutine(got):
            got.close()  # never run: closed here, so Python doesn't warn it was never awaited
        fail("fetch_all_async returned something to await (asyncio.gather's result?), not the "
             "list of bodies: a missing await?",
             "Await it before returning: `return await asyncio.gather(...)`.")
    records = server.requests
    judge_bodies("fetch_all_async", got, [f"waited {delay} s\n" for delay in delays], records,
                 order_hint="asyncio.gather(...) returns results in the order of its arguments "
                            "(asyncio.as_completed does not).")
    judge_sharing(
        "fetch_all_async", server, urls, closed=client.is_closed, sent=len(sent),
        limit=("max_concurrency", max_concurrency), per="request in flight",
        own_client_hint="Don't build clients inside fetch_all_async: await client.get(url) on "
                        "the one you were given.",
        over_hint="Make ONE asyncio.Semaphore(max_concurrency) inside fetch_all_async, before "
                  "gather (not one per request, not a fixed number), and hold it around each "
                  "request: `async with semaphore: response = await client.get(url)`.",
        serial_hint="Awaiting requests one by one in a loop runs them one after another; start "
                    "them together with asyncio.gather(...) and cap them with an "
                    "asyncio.Semaphore.")


@exercise_check
def check_fetch_all_async(candidate: FetchAllAsync) -> str:
    """`fetch_all_async(client, urls, max_concurrency)`: bodies in URL order, one shared client."""
    if inspect.iscoroutine(candidate):
        candidate.close()  # never run: closed here, so Python doesn't warn it was never awaited
        fail("check_fetch_all_async needs the function itself, not a coroutine (what calling "
             "it gives).", "Call check_fetch_all_async(fetch_all_async): no parentheses after "
                           "fetch_all_async.")
    if not callable(candidate):
        fail(f"check_fetch_all_async needs the function itself, not {kind(candidate)}.",
             "Call check_fetch_all_async(fetch_all_async): the function, without calling it.")
    if not inspect.iscoroutinefunction(candidate):
        fail("fetch_all_async is a plain def, not `async def`: it can't await the client.",
             "Define it with `async def fetch_all_async(client, urls, max_concurrency):`.")

    async def scenario() -> None:
        sent: list[httpx.Request] = []  # noted by the client's request hook: proof of who sent
        with CheckServer() as server:
            settings = {**server.client_kwargs(), **async_recorder(sent)}
            async with httpx.AsyncClient(**settings) as client:
                for max_concurrency, delays in ROUNDS:  # lesson 02's rounds
                    await _one_round(candidate, server, client, sent, max_concurrency, delays)

    # Unlike a Fetcher, fetch_all_async has no reason to warn: a warning when all else is right
    # comes from Python, about a slip in it (e.g. a coroutine it made and never awaited).
    judge_warnings("fetch_all_async", quietly(scenario, slips=KNOWN_SLIPS), HINT_STRAY_WARNING)
    return ("fetch_all_async works: bodies in URL order, up to max_concurrency requests at once, "
            "all on the client you were given, left open and reused.")


# --- AsyncFetcher -----------------------------------------------------------------------------

F = ASYNC  # how this lesson spells the shared texts: AsyncFetcher, `async with`, aclose()


class _SpyTransport(httpx.AsyncHTTPTransport):
    """A real async HTTP transport that counts the requests it carries and notes its closing."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requests = 0
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await super().handle_async_request(request)

    async def aclose(self) -> None:  # what httpx.AsyncClient.aclose() calls
        self.closed = True
        await super().aclose()

    async def __aexit__(self, *exc_info: Any) -> None:  # what leaving `async with` calls
        self.closed = True
        await super().__aexit__(*exc_info)


async def _close_leftovers(fetcher: object, keep: httpx.AsyncClient | None = None) -> None:
    """Close any client a (wrong) AsyncFetcher left open, so the check leaks no sockets."""
    for value in list(vars(fetcher).values()) if hasattr(fetcher, "__dict__") else []:
        if isinstance(value, httpx.AsyncClient) and value is not keep:
            await value.aclose()


async def _call(what: str, fn: Callable[..., Any], *args: Any, hint: str, **kwargs: Any) -> Any:
    """Call a learner's method, sync or async, with learner_await's friendly verdicts."""
    async def call() -> Any:
        result = fn(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result

    return await learner_await(what, call, hint=hint)


async def _fetch_three(fetcher: Any, server: LabServer, situation: str, hint: str) -> None:
    for n, delay in enumerate(("0.001", "0.002", "0.003"), start=1):  # bodies tell answers apart
        what = f"fetch() (call {n} of 3, {situation})"
        response = await learner_await(what, fetcher.fetch, f"{server.url}/delay/{delay}",
                                       hint=hint)
        expect_body(response, f"waited {delay} s\n", what)


async def borrowed_client_is_used_and_left_open(candidate: type, server: LabServer) -> None:
    """Scenario 1: a borrowed client carries every fetch and stays open after aclose()."""
    server.reset()
    sent: list[httpx.Request] = []
    client = httpx.AsyncClient(**server.client_kwargs(), **async_recorder(sent))
    fetcher: Any = None
    try:
        fetcher = await _call("AsyncFetcher(client)", candidate, client, hint=F.hint_borrowed)
        await _fetch_three(fetcher, server, "borrowed client", F.hint_no_with)
        if len(sent) < 3:
            fail(f"fetch() sent {len(sent)} of its 3 requests on the client it was given (the "
                 f"server saw {server.connections_opened} TCP connections).",
                 "Use the client you were given: don't make a client in fetch().")
        await learner_await("aclose() (borrowed client)", fetcher.aclose, hint=F.hint_borrowed)
        judge_left_open(F, client, "aclose()")
        judge_one_connection(server, "3 fetches with a borrowed client")
    finally:
        await _close_leftovers(fetcher, keep=client)  # e.g. a client of its own, beside this one
        await client.aclose()


async def works_inside_the_callers_async_with(candidate: type, server: LabServer) -> None:
    """Scenario 2: the caller's client is already open; the AsyncFetcher must not enter or close it."""
    server.reset()
    async with httpx.AsyncClient(**server.client_kwargs()) as client:  # the caller opened it
        situation = "inside the caller's `async with client:`"
        fetcher = await _call(f"AsyncFetcher(client) {situation}", candidate, client,
                              hint=F.hint_no_with)
        try:
            need_context_manager(F, candidate)
            block = contextlib.AsyncExitStack()
            entered = await learner_await(f"`async with AsyncFetcher(client) as f:` {situation}",
                                          block.enter_async_context, fetcher, hint=F.hint_no_with)
            if entered is not fetcher:
                fail(f"`async with AsyncFetcher(client) as f:` made f {kind(entered)}, not the "
                     "AsyncFetcher.", F.hint_enter)
            await _fetch_three(fetcher, server, situation, F.hint_no_with)
            await learner_await(f"leaving `async with AsyncFetcher(client) as f:` {situation}",
                                block.aclose, hint=F.hint_borrowed)
            judge_left_open(F, client, "leaving `async with AsyncFetcher(client) as f:`")
        finally:
            await _close_leftovers(fetcher, keep=client)
        await client.get(server.url + "/")  # the caller's client still works afterwards
    judge_one_connection(server, "3 fetches inside the caller's `async with client:`")


async def works_with_a_client_used_before(candidate: type, server: LabServer) -> None:
    """Scenario 3: a client used without `async with` is open too (it opened on its first request)."""
    server.reset()
    client = httpx.AsyncClient(**server.client_kwargs())
    fetcher: Any = None
    try:
        await client.get(server.url + "/")  # used without `async with`: the client is open now
        situation = "with a client the caller already used"
        fetcher = await _call(f"AsyncFetcher(client) {situation}", candidate, client,
                              hint=F.hint_no_with)
        await _fetch_three(fetcher, server, situation, F.hint_no_with)
        await learner_await(f"aclose() {situation}", fetcher.aclose, hint=F.hint_borrowed)
        judge_left_open(F, client, "aclose()")
        judge_one_connection(server, "the caller's request and 3 fetches")
    finally:
        await _close_leftovers(fetcher, keep=client)
        await client.aclose()


async def owned_client_is_reused(candidate: type, server: LabServer) -> None:
    """Scenario 4: an owned client is made once and reused: one connection for three fetches."""
    server.reset()
    settings = server.client_kwargs()
    fetcher = await _call(F.owned(settings), candidate, **settings, hint=F.hint_settings)
    try:
        await _fetch_three(fetcher, server, "owned client", F.hint_owned)
        judge_one_connection(server, "3 fetches with an owned client", F.hint_owned,
                             guess=": a new client per fetch?")
        await learner_await("aclose() (owned client)", fetcher.aclose, hint=F.hint_owned)
    finally:
        await _close_leftovers(fetcher)


async def owned_client_is_closed_by_aclose(candidate: type, server: LabServer) -> None:
    """Scenario 5a: the settings reach httpx.AsyncClient, and aclose() closes it (twice too)."""
    spy = _SpyTransport(**server.client_kwargs())
    fetcher: Any = None
    try:
        fetcher = await _call("AsyncFetcher(transport=...)", candidate, transport=spy,
                              hint=F.hint_settings)
        for _ in range(2):
            await learner_await("fetch() (owned client)", fetcher.fetch, server.url + "/",
                                hint=F.hint_owned)
        if spy.requests != 2:
            fail(f"AsyncFetcher(transport=...) did not give its settings to httpx.AsyncClient: "
                 f"the transport carried {spy.requests} of 2 requests.",
                 "Make the client with httpx.AsyncClient(**client_kwargs).")
        await learner_await("aclose() (owned client)", fetcher.aclose, hint=F.hint_owned)
        if not spy.closed:
            fail("aclose() did not close the client the AsyncFetcher made (owns_client is True): "
                 "its connections stay open.",
                 "In aclose(), await the client's aclose() when the AsyncFetcher made it.")
        await learner_await("aclose() a second time", fetcher.aclose,
                            hint="aclose() must be harmless when called again (httpx's own is).")
    finally:
        await httpx.AsyncHTTPTransport.aclose(spy)  # whatever the AsyncFetcher did
        await _close_leftovers(fetcher)


async def owned_client_is_closed_by_async_with(candidate: type, server: LabServer) -> None:
    """Scenario 5b: `async with AsyncFetcher(transport=...) as f` gives it; leaving it closes the
    client."""
    spy = _SpyTransport(**server.client_kwargs())
    fetcher: Any = None
    try:
        fetcher = await _call("AsyncFetcher(transport=...)", candidate, transport=spy,
                              hint=F.hint_settings)
        within = "`async with AsyncFetcher(transport=...) as f:`"
        block = contextlib.AsyncExitStack()
        entered = await learner_await(within, block.enter_async_context, fetcher, hint=F.hint_enter)
        if entered is not fetcher:
            fail(f"{within} made f {kind(entered)}, not the AsyncFetcher.", F.hint_enter)
        await learner_await(f"fetch() inside {within}", fetcher.fetch, server.url + "/",
                            hint=F.hint_owned)
        await learner_await(f"leaving {within}", block.aclose, hint=F.hint_enter)
        if not spy.closed:
            fail(f"leaving {within} did not close the client the AsyncFetcher made.", F.hint_enter)
    finally:
        await httpx.AsyncHTTPTransport.aclose(spy)
        await _close_leftovers(fetcher)


async def owned_client_over_https(candidate: type) -> None:
    """Scenario 6: the lab's CA (verify=), a timeout and event hooks all reach the client."""
    with CheckServer(tls=True) as tls_server:
        sent: list[httpx.Request] = []
        settings = {**tls_server.client_kwargs(), "timeout": httpx.Timeout(4.5),
                    **async_recorder(sent)}
        fetcher = await _call(F.owned(settings), candidate, **settings, hint=F.hint_settings)
        try:
            block = contextlib.AsyncExitStack()
            await learner_await("`async with AsyncFetcher(verify=...) as f:`",
                                block.enter_async_context, fetcher, hint=F.hint_enter)
            await _fetch_three(fetcher, tls_server, "owned client, HTTPS",
                               "Pass **client_kwargs on to httpx.AsyncClient(...): here they "
                               "hold verify= (trust in the lab's certificate authority) and "
                               "timeout=.")
            await learner_await("leaving `async with AsyncFetcher(verify=...) as f:`",
                                block.aclose, hint=F.hint_enter)
            timeouts = {r.extensions.get("timeout", {}).get("read") for r in sent}
            if len(sent) != 3 or timeouts != {4.5}:
                fail("AsyncFetcher(timeout=..., event_hooks=...) did not give those settings to "
                     "its httpx.AsyncClient.",
                     "Make the client with httpx.AsyncClient(**client_kwargs).")
            judge_one_connection(tls_server, "3 fetches over HTTPS", F.hint_owned,
                                 guess=": each one a TLS handshake.")
        finally:
            await _close_leftovers(fetcher)


async def fetch_after_aclose_raises(candidate: type, server: LabServer) -> None:
    """Scenario 7: a closed AsyncFetcher refuses to work, even when its borrowed client could."""
    hint = F.hint_after_close
    sent: list[httpx.Request] = []
    async with httpx.AsyncClient(**server.client_kwargs(), **async_recorder(sent)) as client:
        settings = server.client_kwargs()
        for owned in (False, True):
            what = F.owned(settings) if owned else "AsyncFetcher(client)"
            kind_of_client = "owned" if owned else "borrowed"
            args: tuple[Any, ...] = () if owned else (client,)
            fetcher = await _call(what, candidate, *args,
                                  **(settings if owned else {}), hint=F.hint_owned)
            try:
                await learner_await(f"fetch() ({kind_of_client} client)", fetcher.fetch,
                                    server.url + "/", hint=hint)
                await learner_await(f"aclose() ({kind_of_client} client)", fetcher.aclose,
                                    hint=hint)
                before = len(sent)
                problem = ""  # failing outside `except` keeps no traceback of the learner's frames
                try:
                    await fetcher.fetch(server.url + "/")
                except RuntimeError:
                    pass
                except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
                    problem = (f"fetch() after aclose() ({kind_of_client} client) raised "
                               f"{describe(exc)}, not RuntimeError.")
                else:
                    where = ", sent on the caller's client" if len(sent) > before else ""
                    problem = (f"fetch() after aclose() still worked "
                               f"({kind_of_client} client{where}).")
                if problem:
                    fail(problem, hint)
            finally:
                await _close_leftovers(fetcher, keep=client)


async def client_and_settings_raise_type_error(candidate: type, server: LabServer) -> None:
    """Scenario 8: a client plus settings for a client is a mistake to refuse, not to ignore."""
    hint = HINT_CLIENT_AND_SETTINGS
    async with httpx.AsyncClient(**server.client_kwargs()) as client:
        try:
            fetcher = candidate(client, timeout=1.0)
        except TypeError:
            return
        except Exception as exc:  # noqa: BLE001
            problem = f"AsyncFetcher(client, timeout=1.0) raised {describe(exc)}, not TypeError."
        else:
            await _close_leftovers(fetcher, keep=client)
            problem = ("AsyncFetcher(client, timeout=1.0) was accepted: that timeout is silently "
                       "ignored.")
    fail(problem, hint)


async def owns_client_is_a_read_only_bool(candidate: type, server: LabServer) -> None:
    """Scenario 9: ownership is decided once, in __init__, and can be read but not changed."""
    async with httpx.AsyncClient(**server.client_kwargs()) as client:
        settings = server.client_kwargs()
        owned = await _call(F.owned(settings), candidate, **settings, hint=F.hint_settings)
        borrowed = await _call("AsyncFetcher(client)", candidate, client, hint=F.hint_borrowed)
        try:
            judge_owns_client(F, owned, F.owned(settings), borrowed)
        finally:
            for fetcher in (owned, borrowed):
                with contextlib.suppress(Exception):
                    await fetcher.aclose()
                await _close_leftovers(fetcher, keep=client)


async def error_status_raises(candidate: type, server: LabServer) -> None:
    """Scenario 10: an error answer raises, so callers can't mistake it for data."""
    hint = HINT_STATUS
    async with httpx.AsyncClient(**server.client_kwargs()) as client:
        fetcher = await _call("AsyncFetcher(client)", candidate, client, hint=F.hint_borrowed)
        try:
            for code in (404, 500):
                try:
                    await fetcher.fetch(f"{server.url}/status/{code}")
                except httpx.HTTPStatusError:
                    continue
                except Exception as exc:  # noqa: BLE001
                    problem = (f"fetch() of a {code} answer raised {describe(exc)}, "
                               "not httpx.HTTPStatusError.")
                else:
                    problem = (f"fetch() returned a {code} answer instead of raising "
                               "httpx.HTTPStatusError.")
                fail(problem, hint)
            await learner_await("aclose() (borrowed client)", fetcher.aclose,
                                hint=F.hint_borrowed)
        finally:
            await _close_leftovers(fetcher, keep=client)


def _not_async(candidate: type) -> str | None:
    """The first method that should be `async def` and is not (or is missing).

    A class without __aenter__/__aexit__ is told so in scenario 2, just before `async with`.
    """
    for name in ("fetch", "aclose", "__aenter__", "__aexit__"):
        method = getattr(candidate, name, None)
        if method is None:
            if name.startswith("__"):
                continue
            return f"AsyncFetcher has no {name}() method"
        if not inspect.iscoroutinefunction(method):
            return f"AsyncFetcher.{name} is a plain def, not `async def`"
    return None


@exercise_check
def check_async_fetcher(candidate: type) -> str:
    """`AsyncFetcher(client=None, **client_kwargs)`: owns or borrows an AsyncClient, rightly."""
    need_a_class(F, "check_async_fetcher", candidate)
    if (problem := _not_async(candidate)) is not None:
        fail(f"{problem}.", "fetch, aclose, __aenter__ and __aexit__ are all `async def` methods: "
                            "callers await them, and they await the client.")

    async def scenario() -> None:
        with CheckServer() as server:
            await borrowed_client_is_used_and_left_open(candidate, server)
            await works_inside_the_callers_async_with(candidate, server)
            await works_with_a_client_used_before(candidate, server)
            await owned_client_is_reused(candidate, server)
            await owned_client_is_closed_by_aclose(candidate, server)
            await owned_client_is_closed_by_async_with(candidate, server)
            await owned_client_over_https(candidate)
            await fetch_after_aclose_raises(candidate, server)
            await client_and_settings_raise_type_error(candidate, server)
            await owns_client_is_a_read_only_bool(candidate, server)
            await error_status_raises(candidate, server)

    judge_warnings(F.name, quietly(scenario, slips=KNOWN_SLIPS))
    return F.works

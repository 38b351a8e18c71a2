"""Checks for 05_async_clients: `fetch_all_async` and `AsyncFetcher`, the asyncio twins of
lesson 02's `fetch_all` and lesson 04's `Fetcher`, judged by the same scenarios.

A check cell is a plain call, `check_fetch_all_async(fetch_all_async)`. The notebook's kernel
already runs an event loop in that thread, so each check runs its scenario with
`run_in_own_loop`: a worker thread with a fresh event loop and lab servers of its own, all
closed before the verdict. Your coroutines run in that loop, and every client they meet is
made inside it (an AsyncClient belongs to one event loop: notebook 05, section 4).

`check_async_fetcher(AsyncFetcher)` runs these scenarios in order; the first that goes wrong
gives the verdict.

 1. borrowed: `AsyncFetcher(client)`, a fresh client. Three fetches, all on that client, one TCP
    connection; `aclose()` leaves the client open.
 2. borrowed, inside the caller's `async with client:`. `async with AsyncFetcher(client) as f`
    gives the AsyncFetcher; leaving it leaves the client open and usable.
 3. borrowed, a client the caller already used without `async with`: it works and reuses the
    connection.
 4. owned: `AsyncFetcher()`. Three fetches on one TCP connection.
 5. owned, settings reach `httpx.AsyncClient`: a `transport=` that notes requests and closing.
    a) `aclose()` closes the client, and a second `aclose()` is harmless;
    b) `async with AsyncFetcher() as f` gives it, and leaving the block closes the client.
 6. owned, over HTTPS: `verify=` (the lab's CA), `timeout=` and `event_hooks=` all pass through.
 7. after `aclose()`, `fetch()` raises RuntimeError and sends nothing (borrowed and owned).
 8. `AsyncFetcher(client, timeout=...)` raises TypeError: the timeout would be silently ignored.
 9. `owns_client` is True (owned) or False (borrowed), and setting it raises AttributeError.
10. a 404 or a 500 answer raises `httpx.HTTPStatusError`.
11. correct use raises no warnings (a ResourceWarning for a real mistake is fine).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import httpx

from ..pool import peak_in_flight
from ..server import LabServer
from ._evidence import expect_body, judge_bodies, kind
from ._framework import (CheckFailed, CheckServer, describe, exercise_check, fail,
                         learner_await, run_in_own_loop)

__all__ = ["check_async_fetcher", "check_fetch_all_async"]

# --- fetch_all_async --------------------------------------------------------------------------

# (max_concurrency, delays), as in lesson 02. The delays make requests finish in another order
# than the URLs list them, and each body names its delay, so the order of the answers shows.
# Two rounds on one client: it must still work the second time, and a hard-coded cap shows.
ROUNDS = (
    (3, ("0.12", "0.03", "0.08", "0.01", "0.1", "0.02", "0.06", "0.05")),
    (2, ("0.09", "0.05", "0.07", "0.01", "0.03", "0.02")),
)

TIME_LIMIT = 10.0  # seconds for one round: far more than its requests take, even on a busy machine

FetchAllAsync = Callable[[httpx.AsyncClient, list[str], int], Awaitable[list[str]]]


async def _one_round(candidate: FetchAllAsync, server: LabServer, client: httpx.AsyncClient,
                     sent: list[str], max_concurrency: int, delays: Sequence[str]) -> None:
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
    if client.is_closed:
        fail("fetch_all_async closed the client it was given.",
             "Leave the client open: whoever opened it closes it, and it may still be needed.")
    if len(sent) != len(urls):
        fail(f"fetch_all_async sent {len(sent)} of its {len(urls)} requests on the client it was "
             f"given (the server saw {server.connections_opened} TCP connections for "
             f"{len(urls)} requests).",
             "Don't build clients inside fetch_all_async: await client.get(url) on the one you "
             "were given.")
    peak = peak_in_flight(records)
    if peak > max_concurrency:
        fail(f"up to {peak} requests were in flight at once, but max_concurrency="
             f"{max_concurrency}.",
             "Make ONE asyncio.Semaphore(max_concurrency) inside fetch_all_async, before "
             "gather (not one per request, not a fixed number), and hold it around each "
             "request: `async with semaphore: response = await client.get(url)`.")
    if peak < 2:
        fail(f"fetch_all_async sent its {len(urls)} requests one at a time "
             f"(max_concurrency={max_concurrency}).",
             "Awaiting requests one by one in a loop runs them one after another; start them "
             "together with asyncio.gather(...) and cap them with an asyncio.Semaphore.")
    if server.connections_opened > max_concurrency:
        fail(f"the server saw {server.connections_opened} TCP connections for "
             f"max_concurrency={max_concurrency}.",
             "One shared client needs at most one connection per request in flight.")


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
        sent: list[str] = []  # noted by the client's request hook: proof of which client sent

        async def on_request(request: httpx.Request) -> None:
            sent.append(str(request.url))

        with CheckServer() as server:
            async with httpx.AsyncClient(**server.client_kwargs(), event_hooks={"request": [on_request]}) as client:
                for max_concurrency, delays in ROUNDS:
                    await _one_round(candidate, server, client, sent, max_concurrency, delays)

    _quietly(scenario)
    return ("fetch_all_async works: bodies in URL order, up to max_concurrency requests at once, "
            "all on the client you were given, left open and reused.")


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


def _pointed_hint(failure: CheckFailed) -> str:
    """The failure's hint, or one that names the fix when its error is a known slip."""
    return next((hint for words, hint in KNOWN_SLIPS if words in failure.problem), failure.hint)


def _quietly(scenario: Callable[[], Coroutine[Any, Any, None]]) -> list[warnings.WarningMessage]:
    """Run the scenario in its own loop; return the warnings it raised instead of printing them.

    Whatever a wrong answer leaves behind (an unclosed client's sockets, a coroutine it never
    awaited) is collected here, where its warnings are caught, not later in the learner's
    notebook or in the next check's run. So a failure leaves with its words only: its
    traceback would keep the learner's frames, and what they hold, alive until then.
    """
    verdict: CheckFailed | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            run_in_own_loop(scenario)
        except CheckFailed as failure:
            verdict = CheckFailed(failure.problem, _pointed_hint(failure))
        gc.collect()
    if verdict is not None:
        raise verdict
    return caught


# --- AsyncFetcher -----------------------------------------------------------------------------

HINT_NO_WITH = ("Send with `await client.get(url)` and nothing else: no `async with client:` and "
                "no client.__aenter__() in fetch, __init__ or __aenter__. A client opens by itself "
                "on its first request, and a borrowed one may already be open.")
HINT_BORROWED = ("A borrowed client is the caller's: use it, but never enter it (`async with "
                 "client:`) or close it (`await client.aclose()`). Close only a client your "
                 "AsyncFetcher made.")
HINT_OWNED = ("Make the client once, in __init__, with httpx.AsyncClient(**client_kwargs); reuse "
              "it in every fetch; close it once, in aclose().")
HINT_ENTER = "__aenter__ should return self (the AsyncFetcher), and __aexit__ should await self.aclose()."


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


def _recorder(sent: list[httpx.Request]) -> dict[str, Any]:
    """Client settings that note every request the client sends: proof of which client sent it."""
    async def note(request: httpx.Request) -> None:  # AsyncClient's hooks are awaited
        sent.append(request)

    return {"event_hooks": {"request": [note]}}


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
    client = httpx.AsyncClient(**server.client_kwargs(), **_recorder(sent))
    try:
        fetcher = await _call("AsyncFetcher(client)", candidate, client, hint=HINT_BORROWED)
        await _fetch_three(fetcher, server, "borrowed client", HINT_NO_WITH)
        if len(sent) < 3:
            fail(f"fetch() sent {len(sent)} of its 3 requests on the client it was given (the "
                 f"server saw {server.connections_opened} TCP connections).",
                 "Use the client you were given: don't make a client in fetch().")
        await learner_await("aclose() (borrowed client)", fetcher.aclose, hint=HINT_BORROWED)
        if client.is_closed:
            fail("aclose() closed the client the AsyncFetcher was given (borrowed).",
                 HINT_BORROWED)
        if server.connections_opened != 1:
            fail(f"3 fetches with a borrowed client opened {server.connections_opened} TCP "
                 "connections, not 1.", "Send every request with the client you were given.")
    finally:
        await client.aclose()


async def works_inside_the_callers_async_with(candidate: type, server: LabServer) -> None:
    """Scenario 2: the caller's client is already open; the AsyncFetcher must not enter or close it."""
    server.reset()
    async with httpx.AsyncClient(**server.client_kwargs()) as client:  # the caller opened it
        situation = "inside the caller's `async with client:`"
        fetcher = await _call(f"AsyncFetcher(client) {situation}", candidate, client,
                              hint=HINT_NO_WITH)
        block = contextlib.AsyncExitStack()
        entered = await learner_await(f"`async with AsyncFetcher(client) as f:` {situation}",
                                      block.enter_async_context, fetcher, hint=HINT_NO_WITH)
        if entered is not fetcher:
            fail(f"`async with AsyncFetcher(client) as f:` made f {kind(entered)}, not the "
                 "AsyncFetcher.", HINT_ENTER)
        await _fetch_three(fetcher, server, situation, HINT_NO_WITH)
        await learner_await(f"leaving `async with AsyncFetcher(client) as f:` {situation}",
                            block.aclose, hint=HINT_BORROWED)
        if client.is_closed:
            fail("leaving `async with AsyncFetcher(client) as f:` closed the client it was given "
                 "(borrowed).", HINT_BORROWED)
        await client.get(server.url + "/")  # the caller's client still works afterwards
    if server.connections_opened != 1:
        fail(f"3 fetches inside the caller's `async with client:` opened "
             f"{server.connections_opened} TCP connections, not 1.",
             "Send every request with the client you were given.")


async def works_with_a_client_used_before(candidate: type, server: LabServer) -> None:
    """Scenario 3: a client used without `async with` is open too (it opened on its first request)."""
    server.reset()
    client = httpx.AsyncClient(**server.client_kwargs())
    try:
        await client.get(server.url + "/")  # used without `async with`: the client is open now
        situation = "with a client the caller already used"
        fetcher = await _call(f"AsyncFetcher(client) {situation}", candidate, client,
                              hint=HINT_NO_WITH)
        await _fetch_three(fetcher, server, situation, HINT_NO_WITH)
        await learner_await(f"aclose() {situation}", fetcher.aclose, hint=HINT_BORROWED)
        if client.is_closed:
            fail("aclose() closed the client the AsyncFetcher was given (borrowed).",
                 HINT_BORROWED)
        if server.connections_opened != 1:
            fail(f"the caller's request and 3 fetches opened {server.connections_opened} TCP "
                 "connections, not 1.", "Send every request with the client you were given.")
    finally:
        await client.aclose()


async def owned_client_is_reused(candidate: type, server: LabServer) -> None:
    """Scenario 4: an owned client is made once and reused: one connection for three fetches."""
    server.reset()
    fetcher = await _call("AsyncFetcher()", candidate, **server.client_kwargs(), hint=HINT_OWNED)
    try:
        await _fetch_three(fetcher, server, "owned client", HINT_OWNED)
        if server.connections_opened != 1:
            fail(f"3 fetches with an owned client opened {server.connections_opened} TCP "
                 "connections, not 1: a new client per fetch?", HINT_OWNED)
        await learner_await("aclose() (owned client)", fetcher.aclose, hint=HINT_OWNED)
    finally:
        await _close_leftovers(fetcher)


async def owned_client_is_closed_by_aclose(candidate: type, server: LabServer) -> None:
    """Scenario 5a: the settings reach httpx.AsyncClient, and aclose() closes it (twice too)."""
    spy = _SpyTransport(**server.client_kwargs())
    fetcher: Any = None
    try:
        fetcher = await _call("AsyncFetcher(transport=...)", candidate, transport=spy,
                              hint=HINT_OWNED)
        for _ in range(2):
            await learner_await("fetch() (owned client)", fetcher.fetch, server.url + "/",
                                hint=HINT_OWNED)
        if spy.requests != 2:
            fail(f"AsyncFetcher(transport=...) did not give its settings to httpx.AsyncClient: "
                 f"the transport carried {spy.requests} of 2 requests.",
                 "Make the client with httpx.AsyncClient(**client_kwargs).")
        await learner_await("aclose() (owned client)", fetcher.aclose, hint=HINT_OWNED)
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
    """Scenario 5b: `async with AsyncFetcher() as f` gives it, and leaving it closes the client."""
    spy = _SpyTransport(**server.client_kwargs())
    fetcher: Any = None
    try:
        fetcher = await _call("AsyncFetcher(transport=...)", candidate, transport=spy,
                              hint=HINT_OWNED)
        block = contextlib.AsyncExitStack()
        entered = await learner_await("`async with AsyncFetcher() as f:`",
                                      block.enter_async_context, fetcher, hint=HINT_ENTER)
        if entered is not fetcher:
            fail(f"`async with AsyncFetcher() as f:` made f {kind(entered)}, not the "
                 "AsyncFetcher.", HINT_ENTER)
        await learner_await("fetch() inside `async with AsyncFetcher() as f:`", fetcher.fetch,
                            server.url + "/", hint=HINT_OWNED)
        await learner_await("leaving `async with AsyncFetcher() as f:`", block.aclose,
                            hint=HINT_ENTER)
        if not spy.closed:
            fail("leaving `async with AsyncFetcher() as f:` did not close the client the "
                 "AsyncFetcher made.", HINT_ENTER)
    finally:
        await httpx.AsyncHTTPTransport.aclose(spy)
        await _close_leftovers(fetcher)


async def owned_client_over_https(candidate: type) -> None:
    """Scenario 6: the lab's CA (verify=), a timeout and event hooks all reach the client."""
    with CheckServer(tls=True) as tls_server:
        sent: list[httpx.Request] = []
        settings = {**tls_server.client_kwargs(), "timeout": httpx.Timeout(4.5), **_recorder(sent)}
        fetcher = await _call("AsyncFetcher(verify=..., timeout=..., event_hooks=...)", candidate,
                              **settings, hint=HINT_OWNED)
        try:
            block = contextlib.AsyncExitStack()
            await learner_await("`async with AsyncFetcher(verify=...) as f:`",
                                block.enter_async_context, fetcher, hint=HINT_ENTER)
            await _fetch_three(fetcher, tls_server, "owned client, HTTPS",
                               "Pass **client_kwargs on to httpx.AsyncClient(...): here they "
                               "hold verify= (trust in the lab's certificate authority) and "
                               "timeout=.")
            await learner_await("leaving `async with AsyncFetcher(verify=...) as f:`",
                                block.aclose, hint=HINT_ENTER)
            timeouts = {r.extensions.get("timeout", {}).get("read") for r in sent}
            if len(sent) != 3 or timeouts != {4.5}:
                fail("AsyncFetcher(timeout=..., event_hooks=...) did not give those settings to "
                     "its httpx.AsyncClient.",
                     "Make the client with httpx.AsyncClient(**client_kwargs).")
            if tls_server.connections_opened != 1:
                fail(f"3 fetches over HTTPS opened {tls_server.connections_opened} TCP "
                     "connections (and TLS handshakes), not 1.", HINT_OWNED)
        finally:
            await _close_leftovers(fetcher)


async def fetch_after_aclose_raises(candidate: type, server: LabServer) -> None:
    """Scenario 7: a closed AsyncFetcher refuses to work, even when its borrowed client could."""
    hint = ("Note in aclose() that the AsyncFetcher is closed, and make fetch() raise "
            "RuntimeError then: a closed AsyncFetcher must not work, even if its client does.")
    sent: list[httpx.Request] = []
    async with httpx.AsyncClient(**server.client_kwargs(), **_recorder(sent)) as client:
        for owned in (False, True):
            what = "AsyncFetcher()" if owned else "AsyncFetcher(client)"
            kind_of_client = "owned" if owned else "borrowed"
            args: tuple[Any, ...] = () if owned else (client,)
            fetcher = await _call(what, candidate, *args,
                                  **(server.client_kwargs() if owned else {}), hint=HINT_OWNED)
            try:
                await learner_await(f"fetch() ({kind_of_client} client)", fetcher.fetch,
                                    server.url + "/", hint=hint)
                await learner_await(f"aclose() ({kind_of_client} client)", fetcher.aclose,
                                    hint=hint)
                before = len(sent)
                try:
                    await fetcher.fetch(server.url + "/")
                except RuntimeError:
                    pass
                except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
                    fail(f"fetch() after aclose() ({kind_of_client} client) raised "
                         f"{describe(exc)}, not RuntimeError.", hint)
                else:
                    where = ", sent on the caller's client" if len(sent) > before else ""
                    fail(f"fetch() after aclose() still worked ({kind_of_client} client{where}).",
                         hint)
            finally:
                await _close_leftovers(fetcher, keep=client)


async def client_and_settings_raise_type_error(candidate: type, server: LabServer) -> None:
    """Scenario 8: a client plus settings for a client is a mistake to refuse, not to ignore."""
    hint = ("Raise TypeError in __init__ when both a client and client settings are given: "
            "the settings can't reach a client that already exists.")
    async with httpx.AsyncClient(**server.client_kwargs()) as client:
        try:
            fetcher = candidate(client, timeout=1.0)
        except TypeError:
            return
        except Exception as exc:  # noqa: BLE001
            fail(f"AsyncFetcher(client, timeout=1.0) raised {describe(exc)}, not TypeError.",
                 hint)
        await _close_leftovers(fetcher, keep=client)
        fail("AsyncFetcher(client, timeout=1.0) was accepted: that timeout is silently ignored.",
             hint)


async def owns_client_is_a_read_only_bool(candidate: type, server: LabServer) -> None:
    """Scenario 9: ownership is decided once, in __init__, and can be read but not changed."""
    hint = ("Decide in __init__ (client is None) and expose it as a @property without a setter: "
            "ownership never changes.")
    async with httpx.AsyncClient(**server.client_kwargs()) as client:
        owned = await _call("AsyncFetcher()", candidate, **server.client_kwargs(),
                            hint=HINT_OWNED)
        borrowed = await _call("AsyncFetcher(client)", candidate, client, hint=HINT_BORROWED)
        try:
            for fetcher, what, expected in ((owned, "AsyncFetcher()", True),
                                            (borrowed, "AsyncFetcher(client)", False)):
                value = await _call(f"{what}.owns_client", getattr, fetcher, "owns_client",
                                    hint=hint)
                if callable(value):
                    fail(f"{what}.owns_client is a method; make it a @property.", hint)
                if value is not expected:
                    fail(f"{what}.owns_client is {value!r}, not {expected}.", hint)
            try:
                owned.owns_client = False
            except AttributeError:
                pass
            except Exception as exc:  # noqa: BLE001
                fail(f"setting owns_client raised {describe(exc)}, not AttributeError.", hint)
            else:
                fail("owns_client can be changed: `fetcher.owns_client = False` was accepted.",
                     hint)
        finally:
            for fetcher in (owned, borrowed):
                with contextlib.suppress(Exception):
                    await fetcher.aclose()
                await _close_leftovers(fetcher, keep=client)


async def error_status_raises(candidate: type, server: LabServer) -> None:
    """Scenario 10: an error answer raises, so callers can't mistake it for data."""
    hint = "Call response.raise_for_status() before returning the response."
    async with httpx.AsyncClient(**server.client_kwargs()) as client:
        fetcher = await _call("AsyncFetcher(client)", candidate, client, hint=HINT_BORROWED)
        for code in (404, 500):
            try:
                await fetcher.fetch(f"{server.url}/status/{code}")
            except httpx.HTTPStatusError:
                continue
            except Exception as exc:  # noqa: BLE001
                fail(f"fetch() of a {code} answer raised {describe(exc)}, "
                     "not httpx.HTTPStatusError.", hint)
            fail(f"fetch() returned a {code} answer instead of raising httpx.HTTPStatusError.",
                 hint)
        await learner_await("aclose() (borrowed client)", fetcher.aclose, hint=HINT_BORROWED)


def _not_async(candidate: type) -> str | None:
    """The first method that should be `async def` and is not (or is missing)."""
    for name in ("fetch", "aclose", "__aenter__", "__aexit__"):
        method = getattr(candidate, name, None)
        if method is None:
            return f"AsyncFetcher has no {name}() method"
        if not inspect.iscoroutinefunction(method):
            return f"AsyncFetcher.{name} is a plain def, not `async def`"
    return None


@exercise_check
def check_async_fetcher(candidate: type) -> str:
    """`AsyncFetcher(client=None, **client_kwargs)`: owns or borrows an AsyncClient, rightly."""
    if not isinstance(candidate, type):
        fail(f"check_async_fetcher needs the class itself, not {kind(candidate)}.",
             "Call check_async_fetcher(AsyncFetcher): the class, not AsyncFetcher() or "
             "AsyncFetcher.fetch.")
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

    caught = _quietly(scenario)
    noise = [w for w in caught if not issubclass(w.category, (ResourceWarning, DeprecationWarning))]
    if noise:
        fail(f"AsyncFetcher warned during correct use: {noise[0].category.__name__}: "
             f"{noise[0].message}",
             "A warning that fires when all is well is noise, and teaches people to ignore "
             "warnings. Warn only about a real mistake, such as an owned client never closed.")
    return ("AsyncFetcher works: it borrows without opening or closing, owns and closes once, "
            "reuses one connection, and refuses misuse clearly.")

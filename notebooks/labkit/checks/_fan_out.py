"""The fetch_all check (lesson 02) and its asyncio twin, fetch_all_async (05): one table of rounds.

Each Round gives the learner's function a client (with the pool limit it names), URLs whose
delays make the answers finish out of order (each body names its delay), and a cap
(max_workers / max_concurrency). The evidence, from the lab server's records and the client's
request hook: the bodies and their order, who sent each request, the most requests in flight
at once, and the TCP connections opened. The caps go down and up (3, 4 on a client of 2
connections, 2), so a hard-coded number, or one kept from an earlier call, shows; the last
round is played once more at the end (asyncio: in a second event loop), so a semaphore kept
from the first run shows too. One runner, `check_fan_out`, plays them for either flavour.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import httpx

from ..pool import peak_in_flight
from ..server import LabServer
from ._evidence import OPEN_TWICE, SEND_CLOSED, judge_bodies, kind
from ._kernel import CheckServer, fail, quietly, run_in_own_loop
from ._twins import (
    ASYNC_SLIPS,
    Twin,
    attempt,
    churn_hint,
    drive,
    judge_kind,
    judge_warnings,
    plural,
)

__all__ = ["ROUNDS", "Round", "check_fan_out"]


@dataclass(frozen=True)
class Round:
    """One call of the learner's function, and what it must show."""

    cap: int  # max_workers / max_concurrency
    delays: tuple[str, ...]  # one URL each: /delay/<seconds>
    max_connections: int | None = None  # the given client's pool limit (None: httpx's 100)

    @property
    def most(self) -> int:
        """Requests in flight at the peak, and connections at most: min(cap, pool, URLs)."""
        return min(self.cap, self.max_connections or self.cap, len(self.delays))

    def limits(self, word: str) -> str:
        """`max_workers=4 and the client's max_connections=2`: what caps this round."""
        pool = f" and the client's max_connections={self.max_connections}"
        return f"{word}={self.cap}{pool if self.max_connections else ''}"


# The first `most` delays are long, so a right answer reaches its peak on any machine; later
# ones finish before earlier ones, so an answer in the order of finishing shows (in the first
# round, 40 ms or more apart: the server's order of finishing is the client's too).
ROUNDS = (
    Round(3, ("0.12", "0.27", "0.23", "0.07", "0.21", "0.08", "0.19", "0.05")),
    Round(4, ("0.1", "0.12", "0.02", "0.01", "0.04", "0.03"), max_connections=2),
    Round(2, ("0.12", "0.1", "0.01", "0.05", "0.02", "0.03")),
)


@dataclass(frozen=True)
class Words:
    """The hints of one flavour."""

    error: str
    own_client: str
    over: str
    under: str
    serial: str


SYNC_WORDS = Words(
    error="Read that error: it says what went wrong. Then fix fetch_all, run its cell again, "
    "and this check.",
    own_client="Don't build clients inside fetch_all (httpx.get() builds one on every call): "
    "call client.get(url) on the one you were given.",
    over="Make the pool inside fetch_all, with ThreadPoolExecutor(max_workers=max_workers): no "
    "fixed number, and nothing kept from an earlier call.",
    under="Use max_workers itself, not a fixed number: "
    "ThreadPoolExecutor(max_workers=max_workers).",
    serial="Send them from a ThreadPoolExecutor(max_workers=max_workers), e.g. with pool.map.",
)
ASYNC_WORDS = Words(
    error="Fix that error. Remember the caller owns the client: use it, but don't open it "
    "(`async with client:`) or close it (`await client.aclose()`) inside fetch_all_async.",
    own_client="Don't build clients inside fetch_all_async: await client.get(url) on the one "
    "you were given.",
    over="Make ONE asyncio.Semaphore(max_concurrency) inside fetch_all_async, before gather (not "
    "one per request, not a fixed number, not one kept from an earlier call), and hold it around "
    "each request: "
    "`async with semaphore: response = await client.get(url)`.",
    under="Use max_concurrency itself, not a fixed number: asyncio.Semaphore(max_concurrency), "
    "made inside fetch_all_async.",
    serial="Awaiting requests one by one in a loop runs them one after another; start them "
    "together with asyncio.gather(...) and cap them with an asyncio.Semaphore.",
)
HINT_OTHER_LOOP = (
    "Make the asyncio.Semaphore inside fetch_all_async, so it belongs to the "
    "event loop that runs the function: one made in another event loop (at module "
    "level, or kept from an earlier call) can't be used in this one."
)
HINT_STRAY_WARNING = (
    "Python warns when work is started and never finished, such as a coroutine "
    "made but never awaited: await every coroutine you make "
    "(asyncio.gather(*coroutines) awaits them all)."
)


def _slips(t: Twin) -> tuple[tuple[str, str], ...]:
    """httpx's messages when the function opened or closed the client it was given."""
    fn, close = t.fan_out, t.run(f"client.{t.close}()")
    return (
        (
            OPEN_TWICE,
            f"The client you were given is already open (its caller opened it): remove "
            f"`{t.with_} client:` from {fn}; don't open it or close it there, just "
            f"{t.run('client.get(url)')}.",
        ),
        (
            SEND_CLOSED,
            f"Something in {fn} closed the client it was given ({close}, or a "
            f"`{t.with_} client:` block that ended): leave it open, the caller closes "
            "it.",
        ),
        ("is bound to a different event loop", HINT_OTHER_LOOP),
        *(ASYNC_SLIPS if t.awaited else ()),
    )


def _not_yet_bodies(got: object) -> None:
    """Two near misses of threads that judge_bodies would only call "not a list of bodies"."""
    if isinstance(got, Iterator):  # `return pool.map(...)`: an iterator, not a list
        fail(
            f"fetch_all returned {kind(got)} (an iterator), not a list of bodies.",
            "pool.map gives its results as an iterator: turn them into a list, e.g. "
            "return list(pool.map(fetch, urls)).",
        )
    if isinstance(got, list) and got and all(isinstance(item, Future) for item in got):
        fail(
            "fetch_all returned Future objects, not the bodies.",
            "A Future holds one task's result: future.result() gives it. Or let "
            "list(pool.map(fetch, urls)) collect the results for you, in the order of urls.",
        )


def judge_sharing(
    t: Twin,
    words: Words,
    server: LabServer,
    rnd: Round,
    *,
    closed: bool,
    sent: Sequence[httpx.Request],
) -> None:
    """One round shared the client it was given, within its cap, reusing its connections."""
    fn, requests, word = t.fan_out, len(rnd.delays), t.cap
    if closed:
        fail(
            f"{fn} closed the client it was given.",
            "Leave the client open: whoever opened it closes it, and it may still be needed.",
        )
    if len(sent) < requests:
        fail(
            f"{fn} sent {len(sent)} of its {requests} requests on the client it was given (the "
            f"server saw {plural(server.connections_opened, 'TCP connection')} for {requests} "
            "requests).",
            words.own_client,
        )
    if len(sent) > requests:
        fail(
            f"{fn} sent {len(sent)} requests on the client it was given for {requests} URLs.",
            "GET each url once: one request per URL, and its body in the list.",
        )
    peak = peak_in_flight(server.requests)
    if peak > rnd.cap:
        fail(f"up to {peak} requests were in flight at once, but {word}={rnd.cap}.", words.over)
    if peak < 2:
        fail(f"{fn} sent its {requests} requests one at a time ({word}={rnd.cap}).", words.serial)
    if peak < rnd.most:
        fail(
            f"at most {peak} requests were in flight at once, though {rnd.limits(word)} "
            f"allows {rnd.most}.",
            words.under,
        )
    opened = server.connections_opened
    if opened > rnd.most:
        fail(
            f"the server saw {plural(opened, 'TCP connection')} for {requests} requests, at "
            f"most {rnd.most} at once ({rnd.limits(word)}): connections were not reused.",
            churn_hint(sent),
        )


async def play_round(
    t: Twin,
    candidate: Callable[..., Any],
    server: LabServer,
    client: Any,
    sent: list[httpx.Request],
    rnd: Round,
) -> None:
    """Call the learner's function once, with `rnd`'s URLs and cap; judge what it did."""
    words = ASYNC_WORDS if t.awaited else SYNC_WORDS
    urls = [f"{server.url}/delay/{delay}" for delay in rnd.delays]
    server.reset()
    sent.clear()
    got = await attempt(
        t,
        t.fan_out,
        candidate,
        client,
        list(urls),
        rnd.cap,
        hint=words.error,
        slips=_slips(t),
        stuck="05.stuck",
    )
    if inspect.isawaitable(got):
        if inspect.iscoroutine(got):
            got.close()  # never run: closed here, so Python doesn't warn it was never awaited
        fail(
            f"{t.fan_out} returned something to await (asyncio.gather's result?), not the "
            "list of bodies: a missing await?",
            "Await it before returning: `return await asyncio.gather(...)`.",
        )
    if not t.awaited:
        _not_yet_bodies(got)
    judge_bodies(
        t.fan_out,
        got,
        [f"waited {delay} s\n" for delay in rnd.delays],
        server.requests,
        order="05" if t.awaited else "02",
    )
    judge_sharing(t, words, server, rnd, closed=client.is_closed, sent=sent)


def _upfront(t: Twin, check: str, candidate: object) -> None:
    fn = t.fan_out
    if inspect.iscoroutine(candidate):
        candidate.close()  # never run: closed here, so Python doesn't warn it was never awaited
        fail(
            f"{check} needs the function itself, not a coroutine (what calling it gives).",
            f"Call {check}({fn}): no parentheses after {fn}.",
        )
    if not callable(candidate):
        fail(
            f"{check} needs the function itself, not {kind(candidate)}.",
            f"Call {check}({fn}): the function, without calling it.",
        )
    judge_kind(t, fn, candidate)


def check_fan_out(t: Twin, check: str, candidate: Callable[..., Any]) -> str:
    """Play ROUNDS with the learner's function, in the flavour `t`, then the last one again."""
    _upfront(t, check, candidate)

    async def play(rounds: Sequence[Round]) -> None:
        sent: list[httpx.Request] = []  # noted by each client's request hook: proof of who sent
        with CheckServer() as server:
            clients: dict[int | None, Any] = {}  # one client per pool limit, reused by rounds
            try:
                for rnd in rounds:
                    if rnd.max_connections not in clients:
                        limits = httpx.Limits(max_connections=rnd.max_connections or 100)
                        clients[rnd.max_connections] = client = t.client_type(
                            **server.client_kwargs(), limits=limits, **t.recorder(sent)
                        )
                        await t.enter_block(client)  # the caller's `with`: it is open already
                    await play_round(t, candidate, server, clients[rnd.max_connections], sent, rnd)
            finally:
                for client in clients.values():
                    await t.shut(client)

    def rounds() -> None:
        for part in (ROUNDS, ROUNDS[-1:]):
            if t.awaited:
                run_in_own_loop(functools.partial(play, part))
            else:
                drive(play(part))

    caught = quietly(rounds)
    if t.awaited:  # a warning when all else is right comes from Python, about a slip in it
        judge_warnings(t.fan_out, caught, HINT_STRAY_WARNING)
    cap = t.cap
    return (
        f"{t.fan_out} works: bodies in URL order, up to {cap} requests at once, all on the "
        "client you were given, left open and reused."
    )

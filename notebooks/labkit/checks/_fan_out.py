"""The fetch_all check (lesson 02) and its asyncio twin, fetch_all_async (05): one table of rounds.

Each Round gives the learner's function a client (with the pool limit it names), URLs whose
delays make the answers finish out of order (each body names its delay), and a cap
(max_workers / max_concurrency). The evidence, from the lab server's records and the client's
hooks: the bodies and their order, who sent each request, the most requests in flight
at once, and the TCP connections opened. The caps go down and up (3, 4 on a client of 2
connections, 2), so a hard-coded number, or one kept from an earlier call, shows; the last
round is played once more at the end (asyncio: in a second event loop), so a semaphore kept
from the first run shows too. `_play` and `judge_round` are plain code in both flavours, so a
learner who opens the threads check meets no `async`/`await` (run-time twins: see `_twins`).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from ..pool import peak_in_flight
from ..server import LabServer
from ._evidence import OPEN_TWICE, SEND_CLOSED, Flights, judge_bodies, pool_of
from ._kernel import CheckServer, flunk, kind, lib, need_function, plural, quietly
from ._twins import ASYNC_SLIPS, Twin, closing, judge_kind, judge_warnings

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


# The first `most` delays are long, so a right answer reaches its peak on any machine; later
# ones finish before earlier ones, so an answer in the order of finishing shows (in the first
# round, 40 ms or more apart: the server's order of finishing is the client's too).
ROUNDS = (
    Round(3, ("0.12", "0.27", "0.23", "0.07", "0.21", "0.08", "0.19", "0.05")),
    Round(4, ("0.1", "0.12", "0.02", "0.01", "0.04", "0.03"), max_connections=2),
    Round(2, ("0.12", "0.1", "0.01", "0.05", "0.02", "0.03")),
)


def _words(t: Twin) -> dict[str, str]:
    """The flavour's words that the catalogue's `fan.*` entries take."""
    return {
        "fn": t.fan_out,
        "cap": t.cap,
        "with_": t.with_,
        "get": t.run("client.get(url)"),
        "close": t.run(f"client.{t.close}()"),
    }


# httpx's messages when the function opened or closed the client it was given, or used it
# in another event loop (asyncio adds ASYNC_SLIPS).
SLIPS = (
    (OPEN_TWICE, "fan.opened-given"),
    (SEND_CLOSED, "fan.closed-given-error"),
    ("is bound to a different event loop", "05.other-loop"),
)


def judge_round(
    t: Twin,
    server: LabServer,
    rnd: Round,
    got: object,
    client: Any,
    sent: list[Any],
    flights: Flights,
) -> None:
    """One round (either flavour): the bodies in URL order, all sent on the given client (left
    open), within its cap and up to it (`flights`: by the client's clocks), reusing
    connections."""
    if inspect.isawaitable(got):
        if inspect.iscoroutine(got):
            got.close()  # never run: closed here, so Python doesn't warn it was never awaited
        flunk("05.returned-awaitable", fn=t.fan_out)
    if not t.awaited:  # two near misses that judge_bodies would only call "not a list of bodies"
        if isinstance(got, Iterator):  # `return pool.map(...)`: an iterator, not a list
            flunk("02.iterator", got=kind(got))
        if isinstance(got, list) and got and all(isinstance(item, Future) for item in got):
            flunk("02.futures")
    expected = [f"waited {delay} s\n" for delay in rnd.delays]
    order = "05" if t.awaited else "02"
    judge_bodies(t.fan_out, got, expected, server.requests, order=order, finishes=flights.finishes)
    words = _words(t)
    own, over, serial, under = (  # the mistakes whose hints differ by flavour
        ("05.own-client", "05.over-cap", "05.one-at-a-time", "05.under-cap")
        if t.awaited
        else ("02.own-client", "02.over-cap", "02.one-at-a-time", "02.under-cap")
    )
    requests, most = len(rnd.delays), rnd.most
    opened = plural(server.connections_opened, "TCP connection")
    if client.is_closed:
        flunk("fan.closed-given", **words)
    if len(sent) < requests:
        flunk(own, sent=len(sent), requests=requests, opened=opened, **words)
    if len(sent) > requests:
        flunk("fan.extra-requests", sent=len(sent), requests=requests, **words)
    peak = peak_in_flight(server.requests)
    if peak > rnd.cap:
        flunk(over, peak=peak, limit=rnd.cap, **words)
    # Too few at once: by the server's clocks AND the client's. On a loaded machine the server
    # can see one request at a time from code that sent them together (seen), while the
    # client's request and response hooks can't see an overlap that code never made.
    peak = max(peak, flights.peak())
    if peak < 2:
        flunk(serial, requests=requests, limit=rnd.cap, **words)
    pool = f" and the client's max_connections={rnd.max_connections}" if rnd.max_connections else ""
    limits = f"{t.cap}={rnd.cap}{pool}"  # what caps this round
    if peak < most:
        flunk(under, peak=peak, limits=limits, most=most, **words)
    # A pool capped below the cap queues requests, and then httpcore 1.0.9 may replace a
    # connection in a race of its own (check 03 says how): one more is not the answer's doing.
    # An answer that churns opens one per request, and the first round (no queue) shows it.
    raced = 1 if rnd.max_connections is not None and rnd.max_connections < rnd.cap else 0
    if server.connections_opened > most + raced:
        churn = "fan.connection-close" if closing(sent) else "fan.churn"
        flunk(churn, opened=opened, requests=requests, most=most, limits=limits, **words)
    # Reaching `most` at once took `most` connections, and a pool keeps them all alive: fewer
    # left open means the function closed some as it returned, which no count above can see
    # (the next call, not this one, opens their replacements).
    kept = _pooled(client)
    if kept < most:
        dropped = "fan.dropped-close" if closing(sent) else "fan.dropped"
        flunk(dropped, kept=plural(kept, "connection"), most=most, **words)


def _pooled(client: Any) -> int:
    """The connections the client's pool holds open now (both pools list them)."""
    return sum(not c.is_closed() for c in getattr(pool_of(client), "connections", ()))


def _play(t: Twin, candidate: Callable[..., Any], rounds: Sequence[Round]) -> None:
    """Play `rounds` with the learner's function as its caller would: one client per pool
    limit, reused by the rounds, closed at the end (asyncio: in the loop of `t.running()`)."""
    sent: list[Any] = []  # noted by each client's request hook: proof of who sent
    flights = Flights()  # and when each request was in flight, by the client's clocks
    with t.running() as twin, CheckServer() as server, contextlib.ExitStack() as stack:
        clients: dict[int | None, Any] = {}
        for rnd in rounds:
            if rnd.max_connections not in clients:
                limits = lib().Limits(max_connections=rnd.max_connections or 100)
                kwargs = {**server.client_kwargs(), **twin.recorder(sent, flights)}
                client = twin.enter_block(twin.client_type(**kwargs, limits=limits))
                stack.callback(twin.shut, client)  # closed first, when the block ends
                clients[rnd.max_connections] = client
            client = clients[rnd.max_connections]
            urls = [f"{server.url}/delay/{delay}" for delay in rnd.delays]
            server.reset()
            sent.clear()
            flights.clear()
            got = twin.attempt(
                t.fan_out,
                candidate,
                *(client, urls, rnd.cap),
                mistake="05.error" if t.awaited else "02.error",
                slips=SLIPS + (ASYNC_SLIPS if t.awaited else ()),
                stuck="05.stuck",
                words=_words(t),
            )
            judge_round(t, server, rnd, got, client, sent, flights)


def check_fan_out(t: Twin, check: str, candidate: Callable[..., Any]) -> str:
    """Play ROUNDS with the learner's function, in the flavour `t`, then the last one again."""
    need_function(check, t.fan_out, candidate)
    judge_kind(t, t.fan_out, candidate)

    def rounds() -> None:
        for part in (ROUNDS, ROUNDS[-1:]):  # asyncio: the second in an event loop of its own
            _play(t, candidate, part)

    caught = quietly(rounds)
    if t.awaited:  # a warning when all else is right comes from Python, about a slip in it
        judge_warnings(t.fan_out, caught, mistake="05.stray-warning")
    return (
        f"{t.fan_out} works: bodies in URL order, up to {t.cap} requests at once, all on the "
        "client you were given, left open and reused."
    )

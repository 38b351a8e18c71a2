"""Check for 02_open_once_share_across_threads: `fetch_all`, one client shared by a thread pool."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future

import httpx

from ..server import LabServer
from ._evidence import (OPEN_TWICE, ROUNDS, SEND_CLOSED, judge_bodies, judge_sharing, kind,
                        recorder)
from ._framework import CheckServer, exercise_check, fail, learner_call

FetchAll = Callable[[httpx.Client, list[str], int], list[str]]

# httpx's messages when fetch_all opened or closed the client it was given, and what to do.
CLIENT_SLIPS = (
    (OPEN_TWICE,
     "The client you were given is already open (its caller opened it): remove `with client:` "
     "from fetch_all, don't open it or close it there, just call client.get(url)."),
    (SEND_CLOSED,
     "Something in fetch_all closed the client it was given (client.close(), or a `with "
     "client:` block that ended): leave it open, the caller closes it."),
)


def _not_yet_bodies(got: object) -> None:
    """Two near misses that judge_bodies would only call "not a list of bodies"."""
    if isinstance(got, Iterator):  # `return pool.map(...)`: an iterator, not a list
        fail(f"fetch_all returned {kind(got)} (an iterator), not a list of bodies.",
             "pool.map gives its results as an iterator: turn them into a list, e.g. "
             "return list(pool.map(fetch, urls)).")
    if isinstance(got, list) and got and all(isinstance(item, Future) for item in got):
        fail("fetch_all returned Future objects, not the bodies.",
             "A Future holds one task's result: future.result() gives it. Or let "
             "list(pool.map(fetch, urls)) collect the results for you, in the order of urls.")


def _one_round(candidate: FetchAll, server: LabServer, client: httpx.Client,
               sent: list[httpx.Request], max_workers: int, delays: Sequence[str]) -> None:
    """Run fetch_all once with `max_workers` and judge what it did, from the server's records."""
    urls = [f"{server.url}/delay/{delay}" for delay in delays]
    expected = [f"waited {delay} s\n" for delay in delays]
    server.reset()
    sent.clear()
    got = learner_call("fetch_all", candidate, client, list(urls), max_workers, slips=CLIENT_SLIPS,
                       hint="Read that error: it says what went wrong. Then fix fetch_all, run its "
                            "cell again, and this check.")
    _not_yet_bodies(got)
    judge_bodies("fetch_all", got, expected, server.requests,
                 order_hint="pool.map(fetch, urls) returns results in the order of urls "
                            "(as_completed does not).")
    judge_sharing(
        "fetch_all", server, urls, closed=client.is_closed, sent=len(sent),
        limit=("max_workers", max_workers), per="worker thread",
        own_client_hint="Don't build clients inside fetch_all (httpx.get() builds one on every "
                        "call): call client.get(url) on the one you were given.",
        over_hint="Make the pool with ThreadPoolExecutor(max_workers=max_workers).",
        serial_hint="Send them from a ThreadPoolExecutor(max_workers=max_workers), e.g. with "
                    "pool.map.")


@exercise_check
def check_fetch_all(candidate: FetchAll) -> str:
    """`fetch_all(client, urls, max_workers)`: bodies in URL order, from a pool sharing `client`."""
    sent: list[httpx.Request] = []  # appended to by the client's request hook: proof of who sent

    with (CheckServer() as server,
          httpx.Client(**server.client_kwargs(), **recorder(sent)) as client):
        for max_workers, delays in ROUNDS:  # twice: the client must still work the second time
            _one_round(candidate, server, client, sent, max_workers, delays)
    return ("fetch_all works: bodies in URL order, up to max_workers requests at once, all on "
            "the client you were given, left open and reused.")

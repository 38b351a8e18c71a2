"""Judging what the learner's code gave back, the same way in every lesson (threads or asyncio).

Checks trust evidence, not promises: the bodies the code returned, compared with what the
lab server says it answered and in which order (its records), and what each value *is*.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import httpx

from ..pool import peak_in_flight
from ..server import LabServer, RequestRecord
from ._framework import fail

__all__ = ["expect_body", "judge_bodies", "judge_sharing", "kind"]


def kind(value: object) -> str:
    """`None`, `the httpx.AsyncClient`, `a coroutine`, `a str`: what the code gave back, in words."""
    if value is None:
        return "None"
    if isinstance(value, (httpx.Client, httpx.AsyncClient)):
        return f"the httpx.{type(value).__name__}"
    if inspect.isawaitable(value):
        return "a coroutine (a missing await?)"
    return f"a {type(value).__name__}"


def expect_body(response: object, body: str, what: str) -> None:
    """`what` (e.g. "fetch() (call 1 of 3, ...)") must have returned a Response with this body."""
    if not isinstance(response, httpx.Response):
        fail(f"{what} returned {kind(response)}, not an httpx.Response.",
             "Return the response itself, after response.raise_for_status().")
    if response.text != body:
        fail(f"{what} returned an answer with the body {response.text!r}, not {body!r}.",
             "GET the url you were given and return that response.")


def judge_bodies(name: str, got: object, expected: Sequence[str],
                 records: Sequence[RequestRecord], *, order_hint: str) -> None:
    """`got` must be a list of str bodies equal to `expected`, in the order of the URLs.

    `records` are the server's, in the order it finished the requests: a list in that order is
    the classic mistake of collecting answers as they come (`as_completed`).
    """
    if isinstance(got, (str, bytes)) or not isinstance(got, Sequence):
        fail(f"{name} returned {kind(got)}, not a list of bodies.",
             "Return a list with one str per URL: response.text.")
    got = list(got)
    if any(inspect.isawaitable(item) for item in got):
        fail(f"{name} returned coroutines, not bodies: a missing await?",
             "Await them: asyncio.gather(*coroutines) runs them all and returns their results.")
    if got and all(isinstance(item, int) for item in got):
        fail(f"{name} returned status codes ({got[:3]}...), not the bodies.",
             "Return response.text for each URL, not response.status_code.")
    if any(isinstance(item, httpx.Response) for item in got):
        fail(f"{name} returned Response objects, not their bodies.",
             "Return response.text for each URL.")
    if not all(isinstance(item, str) for item in got):
        odd = next(item for item in got if not isinstance(item, str))
        fail(f"{name} returned {type(odd).__name__} items, not str bodies.",
             "Return response.text for each URL.")
    if len(got) != len(expected):
        fail(f"{name} returned {len(got)} bodies for {len(expected)} URLs.",
             "Return exactly one body per URL.")
    if got != list(expected):
        finished = [f"waited {r.path.rsplit('/', 1)[-1]} s\n" for r in records]
        if sorted(got) == sorted(expected) and got == finished:
            fail("the bodies come in the order the requests finished, not in the order of urls.",
                 order_hint)
        if sorted(got) == sorted(expected):
            fail("the bodies are right but not in the order of urls.", order_hint)
        index = next(i for i, (mine, right) in enumerate(zip(got, expected)) if mine != right)
        fail(f"body {index + 1} should be {expected[index]!r}; {name} returned {got[index]!r}.",
             "Return response.text of GET url, for each url in urls.")


def judge_sharing(name: str, server: LabServer, urls: Sequence[str], *, closed: bool, sent: int,
                  limit: tuple[str, int], own_client_hint: str, over_hint: str, serial_hint: str,
                  per: str) -> None:
    """One round of `name` (fetch_all, with threads or asyncio) shared the client it was given.

    The client is left open; the client's own request hook saw every request (`sent`); the
    server saw at most `limit` requests at once (e.g. ("max_workers", 3)), more than one, and at
    most one TCP connection per request in flight (`per`: "worker thread").
    """
    requests, (word, cap) = len(urls), limit
    if closed:
        fail(f"{name} closed the client it was given.",
             "Leave the client open: whoever opened it closes it, and it may still be needed.")
    if sent != requests:
        fail(f"{name} sent {sent} of its {requests} requests on the client it was given (the "
             f"server saw {server.connections_opened} TCP connections for {requests} requests).",
             own_client_hint)
    peak = peak_in_flight(server.requests)
    if peak > cap:
        fail(f"up to {peak} requests were in flight at once, but {word}={cap}.", over_hint)
    if peak < 2:
        fail(f"{name} sent its {requests} requests one at a time ({word}={cap}).", serial_hint)
    if server.connections_opened > cap:
        fail(f"the server saw {server.connections_opened} TCP connections for {word}={cap}.",
             f"One shared client needs at most one connection per {per}.")

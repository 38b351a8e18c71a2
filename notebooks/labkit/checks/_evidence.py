"""Judging what the learner's code gave back, the same way in every lesson (threads or asyncio).

Checks trust evidence, not promises: the bodies the code returned, compared with what the
lab server says it answered and in which order (its records), which client sent each request
(its request hook), and what each value *is*.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx

from ..pool import most_at_once
from ..server import RequestRecord
from ._catalogue import ORDER
from ._kernel import errors, flunk, is_a, kind, plural, readable

__all__ = ["kind", "plural"]  # _kernel's, re-exported: the checks name values in the same words

# httpx's (and httpx2's) RuntimeError messages when a client is opened or used at the wrong time.
OPEN_TWICE = "Cannot open a client instance more than once."
REOPEN = "Cannot reopen a client instance, once it has been closed."
SEND_CLOSED = "Cannot send a request, as the client has been closed."


class Finish(NamedTuple):
    """When a client had the answer to a request for `path`, by its own clock."""

    path: str
    finished: float


class Flights:
    """Each request's flight as its client saw it, from its request hook to its response hook:
    on a loaded machine the server's clocks can miss an overlap (a handler thread that got the
    CPU late), but code that sends one request at a time never has two in flight here; and the
    order its answers came in (`finishes`), which the server's clocks can miss too."""

    def __init__(self) -> None:
        self._sent: dict[int, float] = {}
        self.spans: list[tuple[float, float]] = []
        self.finishes: list[Finish] = []

    def begin(self, request: httpx.Request) -> None:
        self._sent[id(request)] = time.perf_counter()

    def end(self, response: httpx.Response) -> None:
        sent, now = self._sent.pop(id(response.request), None), time.perf_counter()
        if sent is not None:
            self.spans.append((sent, now))
        self.finishes.append(Finish(response.request.url.path, now))

    def clear(self) -> None:
        self._sent.clear()
        self.spans.clear()
        self.finishes.clear()

    def peak(self) -> int:
        """The most requests in flight at once, by the client's clocks."""
        return most_at_once(self.spans)


def recorder(sent: list[httpx.Request], flights: Flights | None = None) -> dict[str, Any]:
    """`httpx.Client` settings that note each request it sends: proof of which client sent it
    (and, given `flights`, when each one was in flight)."""
    if flights is None:
        return {"event_hooks": {"request": [sent.append]}}
    return {"event_hooks": {"request": [sent.append, flights.begin], "response": [flights.end]}}


def async_recorder(sent: list[httpx.Request], flights: Flights | None = None) -> dict[str, Any]:
    """`recorder` for an `httpx.AsyncClient`: the same hooks, as coroutines it can await."""

    def awaited(hook: Callable[[Any], object]) -> Callable[[Any], Coroutine[Any, Any, None]]:
        async def run(value: Any) -> None:
            hook(value)

        return run

    hooks = recorder(sent, flights)["event_hooks"]
    return {"event_hooks": {name: [awaited(h) for h in hs] for name, hs in hooks.items()}}


def pool_of(client: Any) -> Any:
    """The client's connection pool (httpcore's or httpcore2's, at the private
    `_transport._pool`), or None: what it keeps alive is evidence no server count shows."""
    return getattr(getattr(client, "_transport", None), "_pool", None)


def body_of(response: Any, what: str) -> str:
    """The response's text; a verdict, not a crash, when it is a stream nobody read."""
    try:
        text: str = response.text
    except errors("ResponseNotRead", "StreamError"):
        flunk("kernel.unread-body", what=what)
    return text


def expect_body(response: object, body: str, what: str) -> None:
    """`what` (e.g. "fetch() (call 1 of 3, ...)") must have returned a Response with this body."""
    if not is_a(response, "Response"):
        flunk("kernel.not-a-response", what=what, got=kind(response))
    text = body_of(response, what)
    if text != body:
        flunk("kernel.wrong-body", what=what, text=text, body=body)


@dataclass(frozen=True)
class Items:
    """What the learner's list should hold, one per URL: their type and how a verdict names them."""

    type: type  # str
    one: str  # "body"
    many: str  # "bodies"
    source: str  # where each comes from: "response.text"


BODIES = Items(str, "body", "bodies", "response.text")
STATUS_CODES = Items(int, "status code", "status codes", "response.status_code")


# Answers the server finished this close together may reach the client's threads in either
# order on a loaded machine (seen: 40 ms apart, swapped), so "in the order they finished"
# allows for it. The rounds' delays keep other wrong orders (sorted by delay, say) far from it.
SAME_MOMENT = 0.1


def in_finishing_order(
    got: Sequence[object], records: Sequence[RequestRecord] | Sequence[Finish]
) -> bool:
    """`got` lists the bodies in the order the server finished them (or the client had them:
    `Finish` records), give or take SAME_MOMENT."""
    finished = {f"waited {r.path.rsplit('/', 1)[-1]} s\n": r.finished for r in records}
    if not all(isinstance(body, str) and body in finished for body in got):
        return False
    times = [finished[str(body)] for body in got]
    return all(max(times[:i]) <= times[i] + SAME_MOMENT for i in range(1, len(times)))


def judge_bodies(
    name: str,
    got: object,
    expected: Sequence[object],
    records: Sequence[RequestRecord],
    *,
    order: str,
    items: Items = BODIES,
    finishes: Sequence[Finish] = (),
) -> None:
    """`got` must be a list equal to `expected`, one of `items` per URL, in the order of the URLs.

    `records` are the server's, in the order it finished the requests: a list of bodies in that
    order is the classic mistake of collecting answers as they come (`as_completed`). So is one
    in the order the client had them (`finishes`, its response hook's clock): on a loaded
    machine an event loop can take its answers 100 ms and more after the server sent them, and
    in another order (seen under the full suite on 8 workers). `order` names the lesson whose
    words say how to keep the order of urls (`_catalogue.ORDER`).
    """
    words = {"name": name, "many": items.many, "one": items.one, "source": items.source}
    words |= {"type": items.type.__name__, "order": ORDER[order]}
    if got is None:
        flunk("list.none", **words)
    if not isinstance(got, list):
        flunk("list.not-a-list", got=kind(got), **words)
    if any(inspect.isawaitable(item) for item in got):
        flunk("list.coroutines", **words)
    if items is BODIES and got and all(isinstance(item, int) for item in got):
        flunk("list.status-codes", first=got[:3], **words)
    if any(is_a(item, "Response") for item in got):
        flunk("list.responses", **words)
    odd = [item for item in got if not isinstance(item, items.type) or isinstance(item, bool)]
    if odd:
        example = readable(odd[0])
        flunk("list.odd-items", kind=type(odd[0]).__name__, example=example, **words)
    if len(got) != len(expected):
        count = plural(len(got), items.one, items.many)
        flunk("list.count", count=count, urls=len(expected), **words)
    if got != list(expected):
        if sorted(map(str, got)) == sorted(map(str, expected)):
            finished = in_finishing_order(got, records) or in_finishing_order(got, finishes)
            flunk("list.finishing-order" if finished else "list.order", **words)
        index = next(i for i, item in enumerate(got) if item != expected[i])
        flunk("list.wrong-item", index=index + 1, expected=expected[index], got=got[index], **words)

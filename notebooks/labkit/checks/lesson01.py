"""Checks for 01_the_reopen_error: the "predict, then run" quiz and `fetch_statuses`.

Each ❌ names a mistake of the catalogue (`_catalogue.py`, ids `01.*` and `list.*`); the same
mistake twice adds where notebook 01 covers it (stepped hints).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..pool import peak_in_flight
from ..server import LabServer
from ._evidence import OPEN_TWICE, REOPEN, SEND_CLOSED, STATUS_CODES, judge_bodies
from ._kernel import CheckServer, exercise_check, flunk, learner_call, lib, need_function, plural

UNANSWERED = "choose..."
WORKS = "works"
OPENED, REOPENED, CLOSED = (f"RuntimeError: {m}" for m in (OPEN_TWICE, REOPEN, SEND_CLOSED))
# What the dropdowns offer: each snippet either works or raises one of httpx's three messages.
OUTCOMES = (WORKS, OPENED, REOPENED, CLOSED)
# The truth for snippets 1..5, as the notebook runs them (tests compare with its stored errors).
PREDICTION_KEY = (REOPENED, OPENED, CLOSED, WORKS, CLOSED)

# Three calls, each a mix of answers, none in sorted order: the same client serves them all.
STATUS_ROUNDS = ((404, 200, 503, 201, 418), (500, 200, 200, 403), (202, 429, 200))


def _numbers(snippets: list[int]) -> str:
    """[2] -> "snippet 2"; [1, 4, 5] -> "snippets 1, 4 and 5"."""
    if len(snippets) == 1:
        return f"snippet {snippets[0]}"
    return "snippets " + ", ".join(map(str, snippets[:-1])) + f" and {snippets[-1]}"


def _snippet_number(key: object) -> object:
    """`1`, `"1"`, `"Snippet 1"` -> 1; any other key as it is (the verdict names it)."""
    if isinstance(key, str) and (match := re.fullmatch(r"\s*(?:snippet\s*)?(\d+)\s*", key, re.I)):
        return int(match.group(1))
    return key


def _words(text: str) -> tuple[str, ...]:
    """What a typed answer says: its case, spaces, punctuation (the final period, a comma) and
    a missing "RuntimeError: " are forgiven, as a human reader would."""
    words = tuple(re.findall(r"[a-z]+", text.lower()))
    return words[1:] if words[:1] == ("runtimeerror",) else words


_TYPED = {_words(outcome): outcome for outcome in (UNANSWERED, *OUTCOMES)}


@exercise_check
def check_predictions(answers: dict[int, str] | list[str]) -> str:
    """Compare your predictions for snippets 1..5 (a list, or {snippet number: answer})."""
    count = len(PREDICTION_KEY)
    if isinstance(answers, dict):
        numbered = {_snippet_number(key): answer for key, answer in answers.items()}
        extra = sorted(repr(key) for key in numbered if key not in range(1, count + 1))
        if extra:
            flunk("01.no-snippet", extra=", ".join(extra), count=count)
        given = [numbered.get(number, UNANSWERED) for number in range(1, count + 1)]
    elif isinstance(answers, (list, tuple)):
        if len(answers) != count:
            flunk("01.prediction-count", got=len(answers), count=count)
        given = list(answers)
    elif answers is None:
        flunk("01.no-predictions")
    else:
        flunk("01.predictions-type", count=count, got=type(answers).__name__)
    if any(hasattr(answer, "value") and not isinstance(answer, str) for answer in given):
        flunk("01.dropdowns")
    # A typed answer as the dropdowns spell it (or stripped: a blank one is "")
    picked = [_TYPED.get(_words(a), a.strip()) if isinstance(a, str) else a for a in given]
    missing = [n for n, answer in enumerate(picked, 1) if answer in (UNANSWERED, None, "")]
    if missing:
        flunk("01.unanswered", snippets=_numbers(missing))
    unknown = [n for n, answer in enumerate(picked, 1) if answer not in OUTCOMES]
    if unknown:
        flunk("01.not-a-choice", snippets=_numbers(unknown))
    wrong = [n for n, answer in enumerate(picked, 1) if answer != PREDICTION_KEY[n - 1]]
    if wrong:
        verb = "does" if len(wrong) == 1 else "do"
        right, snippets = count - len(wrong), _numbers(wrong)
        flunk("01.wrong-predictions", right=right, count=count, snippets=snippets, verb=verb)
    return f"All {count} predictions right: you can tell a client's state from the code."


@dataclass
class _Sent:
    """What the given client's own hooks saw: proof of who sent each request, from which
    thread, with which headers, and whether each response's body was read."""

    requests: list[httpx.Request] = field(default_factory=list)
    threads: set[int] = field(default_factory=set)
    responses: list[httpx.Response] = field(default_factory=list)

    def hooks(self) -> dict[str, Any]:
        def request(sent: httpx.Request) -> None:
            self.requests.append(sent)
            self.threads.add(threading.get_ident())

        return {"event_hooks": {"request": [request], "response": [self.responses.append]}}


# Errors whose message doesn't say what to change in fetch_statuses, and the mistake each shows.
SLIPS = (
    (OPEN_TWICE, "01.opened-given"),
    (REOPEN, "01.with-client"),  # the second call's `with client:`: the first one closed it
    (SEND_CLOSED, "01.closed-given-error"),
    ("HTTPStatusError", "01.raise-for-status"),
)


def _judge_connections(sent: _Sent, server: LabServer, total: int, calls: int) -> None:
    """One TCP connection for every request of every call, all sent by the given client; if
    not, the evidence says why, so that the hint names that mistake, not another."""
    opened, seen, mine = server.connections_opened, len(server.requests), len(sent.requests)
    connections, requests = plural(opened, "TCP connection"), plural(seen, "request")
    saw = f"the server saw {connections} for {requests} in {calls} calls"
    if seen > mine:
        flunk("01.other-client", saw=saw, mine=mine)
    if mine != total:
        flunk("01.repeats" if mine > total else "01.skipped", mine=mine, total=total, calls=calls)
    if opened == 1:
        return
    peak = peak_in_flight(server.requests)
    if len(sent.threads) > 1 or peak > 1:
        at_once = f", up to {peak} at once" if peak > 1 else ""
        threads = plural(len(sent.threads), "thread")
        flunk("01.threads", saw=saw, threads=threads, at_once=at_once)
    closing = [r for r in sent.requests if r.headers.get("connection", "").lower() == "close"]
    if closing:
        flunk("01.connection-close", saw=saw, closing=len(closing))
    unclosed = [r for r in sent.responses if not r.is_closed]  # each still holds a connection
    for response in unclosed:
        response.close()
    if unclosed:
        flunk("01.unclosed-stream", saw=saw, unclosed=len(unclosed))
    unread = [r for r in sent.responses if not r.is_stream_consumed]
    if unread:
        flunk("01.unread-stream", saw=saw, unread=len(unread))
    flunk("01.churn", saw=saw)


@exercise_check
def check_fetch_statuses(candidate: Callable[[httpx.Client, list[str]], list[int]]) -> str:
    """`fetch_statuses(client, urls)`: status codes as ints in url order, on `client`, reusable."""
    need_function("check_fetch_statuses", "fetch_statuses", candidate)
    sent = _Sent()  # filled by the client's own hooks: proof of who sent

    with CheckServer() as server:
        # Built like a caller would, never entered (`closing` only closes it at the end): it
        # opens on its first request. fetch_statuses must only use it.
        with contextlib.closing(lib().Client(**server.client_kwargs(), **sent.hooks())) as client:
            asked: list[str] = []  # the urls of every call so far (the hooks saw them all)
            for call, codes in enumerate(STATUS_ROUNDS, 1):
                urls = [f"{server.url}/status/{code}" for code in codes]
                asked += urls
                got = learner_call(
                    "fetch_statuses", candidate, client, urls, mistake="01.other-error", slips=SLIPS
                )
                odd = [r for r in sent.requests if r.method != "GET" or str(r.url) not in asked]
                if odd:  # a HEAD, or a URL it was not given
                    request = f"{odd[0].method} {odd[0].url.raw_path.decode()}"
                    flunk("01.wrong-request", call=call, odd=request)
                judge_bodies("fetch_statuses", got, list(codes), (), items=STATUS_CODES, order="01")
            if client.is_closed:
                flunk("01.closed-given")
            _judge_connections(sent, server, len(asked), len(STATUS_ROUNDS))
    return (
        f"fetch_statuses works: {len(STATUS_ROUNDS)} calls, {len(asked)} requests on "
        f"{plural(server.connections_opened, 'TCP connection')}, status codes in url order, "
        "and the client left open for its owner."
    )

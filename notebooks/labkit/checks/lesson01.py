"""Checks for 01_the_reopen_error: the "predict, then run" quiz and `fetch_statuses`."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..pool import peak_in_flight
from ..server import LabServer
from ._evidence import OPEN_TWICE, REOPEN, SEND_CLOSED, STATUS_CODES, judge_bodies
from ._kernel import CheckServer, exercise_check, fail, learner_call, plural

UNANSWERED = "choose..."
WORKS = "works"
# What the dropdowns offer: each snippet either works or raises one of httpx's three messages.
OUTCOMES = (
    WORKS,
    f"RuntimeError: {OPEN_TWICE}",
    f"RuntimeError: {REOPEN}",
    f"RuntimeError: {SEND_CLOSED}",
)
# The truth for snippets 1..5, as the notebook runs them (tests compare with its stored errors).
PREDICTION_KEY = (
    f"RuntimeError: {REOPEN}",
    f"RuntimeError: {OPEN_TWICE}",
    f"RuntimeError: {SEND_CLOSED}",
    WORKS,
    f"RuntimeError: {SEND_CLOSED}",
)

# Three calls, each a mix of answers, none in sorted order: the same client serves them all.
STATUS_ROUNDS = ((404, 200, 503, 201, 418), (500, 200, 200, 403), (202, 429, 200))

# Both ways of closing look alike to the check (the client ends CLOSED), so the hint names both.
DONT_CLOSE = (
    "Don't close the client in fetch_statuses: no client.close(), and no `with client:` "
    "(the end of that block closes it too). The caller owns the client and closes it "
    "when it is done."
)

FetchStatuses = Callable[[httpx.Client, list[str]], list[int]]


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
    """What a typed answer says, whatever its case, spaces and punctuation."""
    words = tuple(re.findall(r"[a-z]+", text.lower()))
    return words[1:] if words[:1] == ("runtimeerror",) else words


_TYPED = {_words(outcome): outcome for outcome in (UNANSWERED, *OUTCOMES)}


def _normalise(answer: object) -> object:
    """A typed answer as the dropdown spells it: case, spaces, punctuation (the final period,
    a comma) and a missing "RuntimeError: " are forgiven, as a human reader would."""
    if not isinstance(answer, str) or not answer.strip():
        return answer
    return _TYPED.get(_words(answer), answer)


@exercise_check
def check_predictions(answers: dict[int, str] | list[str]) -> str:
    """Compare your predictions for snippets 1..5 (a list, or {snippet number: answer})."""
    count = len(PREDICTION_KEY)
    if isinstance(answers, dict):
        # {"1": ...} or {"snippet 1": ...} mean snippet 1 as surely as {1: ...} does
        numbered = {_snippet_number(key): answer for key, answer in answers.items()}
        extra = sorted(repr(key) for key in numbered if key not in range(1, count + 1))
        if extra:
            fail(
                f"there is no snippet {', '.join(extra)}: the snippets are numbered 1 to {count}.",
                "Use the snippet numbers as keys, e.g. {1: 'works', 2: ...}.",
            )
        given = [numbered.get(number, UNANSWERED) for number in range(1, count + 1)]
    elif isinstance(answers, (list, tuple)):
        if len(answers) != count:
            fail(
                f"got {len(answers)} predictions for {count} snippets.",
                f"Give one prediction per snippet, {count} in all, in snippet order.",
            )
        given = list(answers)
    elif answers is None:
        fail(
            "Not yet: no predictions yet.",
            "Pick an answer in each dropdown, run the `my_predictions = ...` cell, then this one.",
        )
    else:
        fail(
            f"check_predictions needs a list of {count} answers, not {type(answers).__name__}.",
            "Pass the dropdowns' values: [d.value for d in predictions].",
        )
    if any(hasattr(answer, "value") and not isinstance(answer, str) for answer in given):
        fail(
            "check_predictions got the dropdowns themselves, not the answers picked in them.",
            "Pass their values: my_predictions = [d.value for d in predictions], as the "
            "`my_predictions` cell does.",
        )
    given = [_normalise(answer) for answer in given]  # type: ignore[misc]  # may be any object
    missing = [
        n
        for n, answer in enumerate(given, 1)
        if answer in (UNANSWERED, None) or (isinstance(answer, str) and not answer.strip())
    ]
    if missing:
        fail(
            f"Not yet: no prediction yet for {_numbers(missing)}.",
            "Pick what you think each snippet does in its dropdown, run the "
            "`my_predictions = ...` cell, then run this check again.",
        )
    unknown = [n for n, answer in enumerate(given, 1) if answer not in OUTCOMES]
    if unknown:
        fail(
            f"the answer for {_numbers(unknown)} is not one of the choices.",
            "Each answer is 'works' or one of the three messages offered in the dropdowns "
            '("Cannot open a client instance more than once.", "Cannot reopen a client '
            'instance, once it has been closed.", "Cannot send a request, as the client has '
            "been closed.\"), word for word; case, punctuation and 'RuntimeError: ' don't "
            "matter.",
        )
    wrong = [
        n
        for n, (mine, right) in enumerate(zip(given, PREDICTION_KEY, strict=True), 1)
        if mine != right
    ]
    if wrong:
        fail(
            f"{count - len(wrong)} of {count} right: {_numbers(wrong)} "
            f"{'does' if len(wrong) == 1 else 'do'} something else.",
            "Follow the client's state line by line (unopened, opened, closed), or run the "
            "snippets below and compare. Then change those dropdowns and run both cells again.",
        )
    return f"All {count} predictions right: you can tell a client's state from the code."


def _call(candidate: FetchStatuses, client: httpx.Client, urls: list[str], call: int) -> object:
    """One call of the learner's function, with verdicts for the mistakes this lesson is about."""
    try:
        return candidate(client, list(urls))
    except httpx.HTTPStatusError as exc:
        problem = (
            f"fetch_statuses raised httpx.HTTPStatusError on a {exc.response.status_code} answer."
        )
        hint = (
            "Don't call raise_for_status(): a 404 or a 503 is an answer to report; return "
            "its status_code."
        )
    except RuntimeError as exc:
        if call > 1 and str(exc) == REOPEN:
            problem = (
                f"Not yet: fetch_statuses works once, then fails the second time with "
                f"RuntimeError: {exc}"
            )
            hint = (
                "Remove `with client:` from fetch_statuses: the caller owns the client (it "
                "opens and closes it); fetch_statuses only uses it."
            )
        elif call > 1 and str(exc) == SEND_CLOSED and client.is_closed:
            problem = (
                f"fetch_statuses closed the client it was given: its second call failed "
                f"with RuntimeError: {exc}"
            )
            hint = DONT_CLOSE
        else:
            raise  # NotImplementedError is a RuntimeError too: learner_call says "Not yet"
    fail(problem, hint)  # outside `except`: the verdict keeps no traceback of the learner's code


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


# Errors whose message doesn't say what to change in fetch_statuses.
SLIPS = (
    (
        OPEN_TWICE,
        "Don't open the client in fetch_statuses (no `with client:`, no client.__enter__()): "
        "the caller made it and opens it; fetch_statuses only uses it.",
    ),
)

HINT_GIVEN = (
    "Send every request with client.get(url) on the client you were given: don't "
    "build a client (or call httpx.get) inside fetch_statuses."
)


def _judge_requests(sent: _Sent, urls: Sequence[str], call: int) -> None:
    """Call `call` sent GET to its urls on the given client (a HEAD or a wrong URL shows)."""
    odd = [r for r in sent.requests if r.method != "GET" or str(r.url) not in urls]
    if odd:
        fail(
            f"fetch_statuses (call {call}) sent {odd[0].method} "
            f"{odd[0].url.raw_path.decode()}, not GET to "
            "each of its urls.",
            "Send client.get(url) for each url in urls, as it is.",
        )


def _judge_connections(sent: _Sent, server: LabServer, total: int, calls: int) -> None:
    """One TCP connection for every request of every call, all sent by the given client: when
    not, the evidence names why (another client, repeats, threads, closing headers, unread
    streams), so the hint names that mistake, not another."""
    opened, seen, mine = server.connections_opened, len(server.requests), len(sent.requests)
    saw = (
        f"the server saw {plural(opened, 'TCP connection')} for {plural(seen, 'request')} in "
        f"{calls} calls"
    )
    if seen > mine:
        fail(f"{saw}; {mine} of them used the client fetch_statuses was given.", HINT_GIVEN)
    if mine > total:
        fail(
            f"fetch_statuses sent {mine} requests for {total} URLs in {calls} calls: some URLs "
            "more than once.",
            "GET each url once: keep the response (response = "
            "client.get(url)) and read its .status_code.",
        )
    if mine < total:
        fail(
            f"fetch_statuses sent {mine} requests for {total} URLs in {calls} calls: some "
            "status codes were not asked for (saved from an earlier call, or a repeated URL "
            "skipped).",
            "Send GET for every url in urls, at every call: the server's answer "
            "can change, so only a request tells.",
        )
    if opened == 1:
        return
    peak = peak_in_flight(server.requests)
    if len(sent.threads) > 1 or peak > 1:
        at_once = f", up to {peak} at once" if peak > 1 else ""
        fail(
            f"{saw}: fetch_statuses sent its requests from {plural(len(sent.threads), 'thread')}"
            f"{at_once}, so the pool opened a connection for each thread.",
            "Send the requests one after another in fetch_statuses (threads come in lesson "
            "02): one connection then carries them all.",
        )
    closing = [r for r in sent.requests if r.headers.get("connection", "").lower() == "close"]
    if closing:
        fail(
            f"{saw}, all sent by the client it was given: {len(closing)} of them asked the "
            "server to close the connection (a `Connection: close` header).",
            "Leave that header out: then the server keeps the connection open and the pool "
            "reuses it for the next request.",
        )
    unread = [r for r in sent.responses if not r.is_stream_consumed]
    if unread:
        fail(
            f"{saw}, all sent by the client it was given: {len(unread)} streamed responses "
            "were closed before their bodies were read, and such a connection cannot carry "
            "another request.",
            "Read the body inside `with client.stream(...)` "
            "(response.read()), or use client.get(url), which reads it for you.",
        )
    fail(
        f"{saw}, all sent one at a time by the client it was given: something closes the "
        "connection after each request.",
        "Send plain client.get(url) requests, and leave the "
        "client's settings and the response as they are.",
    )


@exercise_check
def check_fetch_statuses(candidate: FetchStatuses) -> str:
    """`fetch_statuses(client, urls)`: status codes as ints in url order, on `client`, reusable."""
    sent = _Sent()  # filled by the client's own hooks: proof of who sent

    with CheckServer() as server:
        # Built like a caller would, without `with`: it opens on its first request, and the
        # check closes it at the end. fetch_statuses must only use it.
        client = httpx.Client(**server.client_kwargs(), **sent.hooks())
        try:
            total = 0
            for call, codes in enumerate(STATUS_ROUNDS, 1):
                urls = [f"{server.url}/status/{code}" for code in codes]
                total += len(urls)
                got = learner_call(
                    "fetch_statuses",
                    _call,
                    candidate,
                    client,
                    urls,
                    call,
                    hint="Fix that error: send client.get(url) for each url and "
                    "return the status codes.",
                    slips=SLIPS,
                )
                _judge_requests(sent, _all_urls(server.url, call), call)
                judge_bodies(
                    "fetch_statuses",
                    got,
                    list(codes),
                    (),
                    items=STATUS_CODES,
                    order_hint="Build the list in the order of urls: one client.get(url) "
                    "per url, in turn.",
                )
            if client.is_closed:
                fail("fetch_statuses closed the client it was given.", DONT_CLOSE)
            _judge_connections(sent, server, total, len(STATUS_ROUNDS))
        finally:
            client.close()
    return (
        f"fetch_statuses works: {len(STATUS_ROUNDS)} calls, {total} requests on "
        f"{plural(server.connections_opened, 'TCP connection')}, status codes in url order, "
        "and the client left open for its owner."
    )


def _all_urls(base: str, calls: int) -> list[str]:
    """The urls of the first `calls` calls (the hooks saw all of their requests)."""
    return [f"{base}/status/{code}" for codes in STATUS_ROUNDS[:calls] for code in codes]

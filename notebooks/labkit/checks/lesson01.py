"""Checks for 01_the_reopen_error: the "predict, then run" quiz and `fetch_statuses`."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ._evidence import OPEN_TWICE, REOPEN, SEND_CLOSED, STATUS_CODES, judge_bodies, recorder
from ._framework import CheckServer, exercise_check, fail, learner_call

UNANSWERED = "choose..."
WORKS = "works"
# What the dropdowns offer: each snippet either works or raises one of httpx's three messages.
OUTCOMES = (WORKS, f"RuntimeError: {OPEN_TWICE}", f"RuntimeError: {REOPEN}",
            f"RuntimeError: {SEND_CLOSED}")
# The truth for snippets 1..5, as the notebook runs them (tests compare with its stored errors).
PREDICTION_KEY = (f"RuntimeError: {REOPEN}", f"RuntimeError: {OPEN_TWICE}",
                  f"RuntimeError: {SEND_CLOSED}", WORKS, f"RuntimeError: {SEND_CLOSED}")

# Three calls, each a mix of answers, none in sorted order: the same client serves them all.
STATUS_ROUNDS = ((404, 200, 503, 201, 418), (500, 200, 200, 403), (202, 429, 200))

# Both ways of closing look alike to the check (the client ends CLOSED), so the hint names both.
DONT_CLOSE = ("Don't close the client in fetch_statuses: no client.close(), and no `with client:` "
              "(the end of that block closes it too). The caller owns the client and closes it "
              "when it is done.")

FetchStatuses = Callable[[httpx.Client, list[str]], list[int]]


def _numbers(snippets: list[int]) -> str:
    """[2] -> "snippet 2"; [1, 4, 5] -> "snippets 1, 4 and 5"."""
    if len(snippets) == 1:
        return f"snippet {snippets[0]}"
    return "snippets " + ", ".join(map(str, snippets[:-1])) + f" and {snippets[-1]}"


def _normalise(answer: object) -> object:
    """Forgive spaces and a missing "RuntimeError: " (typed answers); keep anything else as is."""
    if not isinstance(answer, str):
        return answer
    answer = answer.strip()
    return f"RuntimeError: {answer}" if f"RuntimeError: {answer}" in OUTCOMES else answer


@exercise_check
def check_predictions(answers: dict[int, str] | list[str]) -> str:
    """Compare your predictions for snippets 1..5 (a list, or {snippet number: answer})."""
    count = len(PREDICTION_KEY)
    if isinstance(answers, dict):
        extra = sorted(repr(key) for key in answers if key not in range(1, count + 1))
        if extra:
            fail(f"there is no snippet {', '.join(extra)}: the snippets are numbered 1 to {count}.",
                 "Use the snippet numbers as keys, e.g. {1: 'works', 2: ...}.")
        given = [answers.get(number, UNANSWERED) for number in range(1, count + 1)]
    elif isinstance(answers, (list, tuple)):
        if len(answers) != count:
            fail(f"got {len(answers)} predictions for {count} snippets.",
                 f"Give one prediction per snippet, {count} in all, in snippet order.")
        given = list(answers)
    elif answers is None:
        fail("Not yet: no predictions yet.",
             "Pick an answer in each dropdown, run the `my_predictions = ...` cell, then this one.")
    else:
        fail(f"check_predictions needs a list of {count} answers, not {type(answers).__name__}.",
             "Pass the dropdowns' values: [d.value for d in predictions].")
    if any(hasattr(answer, "value") and not isinstance(answer, str) for answer in given):
        fail("check_predictions got the dropdowns themselves, not the answers picked in them.",
             "Pass their values: my_predictions = [d.value for d in predictions], as the "
             "`my_predictions` cell does.")
    given = [_normalise(answer) for answer in given]
    missing = [n for n, answer in enumerate(given, 1) if answer in (UNANSWERED, "", None)]
    if missing:
        fail(f"Not yet: no prediction yet for {_numbers(missing)}.",
             "Pick what you think each snippet does in its dropdown, run the "
             "`my_predictions = ...` cell, then run this check again.")
    unknown = [n for n, answer in enumerate(given, 1) if answer not in OUTCOMES]
    if unknown:
        fail(f"the answer for {_numbers(unknown)} is not one of the choices.",
             "Each answer is 'works' or one of the three RuntimeError messages offered in the "
             "dropdowns, word for word (the 'RuntimeError: ' part may be left out).")
    wrong = [n for n, (mine, right) in enumerate(zip(given, PREDICTION_KEY), 1) if mine != right]
    if wrong:
        fail(f"{count - len(wrong)} of {count} right: {_numbers(wrong)} "
             f"{'does' if len(wrong) == 1 else 'do'} something else.",
             "Follow the client's state line by line (unopened, opened, closed), or run the "
             "snippets below and compare. Then change those dropdowns and run both cells again.")
    return f"All {count} predictions right: you can tell a client's state from the code."


def _call(candidate: FetchStatuses, client: httpx.Client, urls: list[str], call: int) -> object:
    """One call of the learner's function, with verdicts for the mistakes this lesson is about."""
    try:
        return candidate(client, list(urls))
    except httpx.HTTPStatusError as exc:
        problem = (f"fetch_statuses raised httpx.HTTPStatusError on a "
                   f"{exc.response.status_code} answer.")
        hint = ("Don't call raise_for_status(): a 404 or a 503 is an answer to report; return "
                "its status_code.")
    except RuntimeError as exc:
        if call > 1 and str(exc) == REOPEN:
            problem = (f"Not yet: fetch_statuses works once, then fails the second time with "
                       f"RuntimeError: {exc}")
            hint = ("Remove `with client:` from fetch_statuses: the caller owns the client (it "
                    "opens and closes it); fetch_statuses only uses it.")
        elif call > 1 and str(exc) == SEND_CLOSED and client.is_closed:
            problem = (f"fetch_statuses closed the client it was given: its second call failed "
                       f"with RuntimeError: {exc}")
            hint = DONT_CLOSE
        else:
            raise  # NotImplementedError is a RuntimeError too: learner_call says "Not yet"
    fail(problem, hint)  # outside `except`: the verdict keeps no traceback of the learner's code


@exercise_check
def check_fetch_statuses(candidate: FetchStatuses) -> str:
    """`fetch_statuses(client, urls)`: status codes as ints in url order, on `client`, reusable."""
    sent: list[httpx.Request] = []  # filled by the client's request hook: proof of who sent

    with CheckServer() as server:
        # Built like a caller would, without `with`: it opens on its first request, and the
        # check closes it at the end. fetch_statuses must only use it.
        client = httpx.Client(**server.client_kwargs(), **recorder(sent))
        try:
            total = 0
            for call, codes in enumerate(STATUS_ROUNDS, 1):
                urls = [f"{server.url}/status/{code}" for code in codes]
                total += len(urls)
                got = learner_call("fetch_statuses", _call, candidate, client, urls, call,
                                   hint="Fix that error: send client.get(url) for each url and "
                                        "return the status codes.")
                judge_bodies("fetch_statuses", got, list(codes), (), items=STATUS_CODES,
                             order_hint="Build the list in the order of urls: one client.get(url) "
                                        "per url, in turn.")
            if client.is_closed:
                fail("fetch_statuses closed the client it was given.", DONT_CLOSE)
            opened = server.connections_opened
            if len(sent) != total or opened != 1:
                fail(f"the server saw {opened} TCP connections for {total} requests in "
                     f"{len(STATUS_ROUNDS)} calls; {len(sent)} of them used the client "
                     "fetch_statuses was given.",
                     "Send every request with client.get(url) on the client you were given: "
                     "don't build a client (or call httpx.get) inside fetch_statuses.")
        finally:
            client.close()
    return (f"fetch_statuses works: {len(STATUS_ROUNDS)} calls, {total} requests, one TCP "
            "connection, status codes in url order, and the client left open for its owner.")


"""Challenge for 01_the_reopen_error: find and fix the lifetime bug in a module you did not write.

`check_links(client, urls)` (a teammate's link checker) works until its first 5xx answer; then
the next request fails far from the bug. The check calls it twice with one client of its own and
trusts the server's evidence: which requests it answered, and when the client hung up.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ..server import LabServer
from ._evidence import OPEN_TWICE, REOPEN, SEND_CLOSED, kind, recorder
from ._kernel import CheckFailed, CheckServer, describe, exercise_check, lib
from ._twins import closing
from .challenge_hints import HintSteps

CheckLinks = Callable[[httpx.Client, list[str]], dict[str, str]]

# Two calls on one client, each with 5xx answers (retried once) among good and broken links;
# /flaky/502 answers 502, then 200 to the retry: a hiccup, so its link is "ok".
ROUNDS = (
    ("/status/200", "/status/503", "/status/404", "/", "/flaky/502", "/status/201"),
    ("/status/500", "/status/200", "/status/418"),
)

KEY_POINTS = (
    "Section 4.2 of this notebook ('A module-level client, closed by one of its "
    "users') shows this bug: the error shows up far from the close. Its last paragraph "
    "states the rule."
)
STEPS = HintSteps(
    "check_linkcheck",
    {
        "closed": KEY_POINTS,
        "with": "Section 2.2 ('A second `with`, after the first one ended') and section 4.1 "
        "('`with self.client:` in a method') show what a `with client:` does to a client.",
        "retry": "Only the lifetime bug needs fixing: compare your module with the original cell "
        "(reload it with %load) and undo the other changes.",
        "connections": (
            "Section 1, 'What an open client keeps: its connection pool', shows one client "
            "reusing one connection: that is what the server should see here."
        ),
        "results": (
            "Compare your module with the original (reload it with %load): only the "
            "lifetime bug needs fixing."
        ),
    },
    prefix="c1",
)


def _expected(path: str) -> str:
    status = 200 if path == "/" or path.startswith("/flaky/") else int(path.rsplit("/", 1)[1])
    return "ok" if status < 400 else f"broken ({status})"


def _close_evidence(server: LabServer) -> str:
    """When the client hung up, by the server: 'right after it answered the 2nd GET of ...'."""
    server.wait_until_closed(1.0)
    closes = [c.closed for c in server.connections if c.closed_by == "client" and c.closed]
    if not closes:
        return ""
    before = [r for r in server.requests if r.finished <= min(closes)]
    if not before:
        return " The server saw the client hang up before any request."
    last = before[-1].path
    times = sum(r.path == last for r in before)
    nth = {1: "first", 2: "second", 3: "third"}.get(times, f"{times}th")
    retry = " (a retry)" if times > 1 else ""
    return (
        f" The server saw the client hang up right after it answered the {nth} GET of "
        f"{last}{retry}, {len(before)} requests into the check."
    )


def _call(
    candidate: CheckLinks, client: httpx.Client, urls: list[str], call: int, server: LabServer
) -> object:
    """One call; the lifetime errors become stepped verdicts, anything else a plain one."""
    problem = hint = failure_kind = ""
    try:
        return candidate(client, list(urls))
    except NotImplementedError:
        problem, hint = (
            "Not yet: check_links still raises NotImplementedError.",
            "Run the module's cell as it was given (reload it with %load), then this check.",
        )
    except RuntimeError as exc:
        message = str(exc)
        if message == SEND_CLOSED and client.is_closed:
            failure_kind = "closed"
            problem = (
                f"Not yet: on call {call} of {len(ROUNDS)}, check_links raised "
                f"RuntimeError: {message} That client is the caller's (the check's), and "
                "something in the module closed it."
            )
            hint = (
                "The traceback shows where the closed client was used, not where it was "
                "closed. Follow the client from check_links through every helper it is "
                "passed to, and find what closes it."
            )
        elif message in (REOPEN, OPEN_TWICE):
            failure_kind = "with"
            problem = f"check_links raised RuntimeError: {message} (call {call} of {len(ROUNDS)})."
            hint = (
                "The module was given an open client: it must not open it (`with client:`) "
                "nor close it. Leave the caller's client to the caller."
            )
        else:
            problem, hint = (
                f"check_links raised {describe(exc)}",
                "Fix that error; the module only needs its lifetime bug fixed.",
            )
    except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
        problem, hint = (
            f"check_links raised {describe(exc)}",
            "Fix that error; the module only needs its lifetime bug fixed.",
        )
    evidence = _close_evidence(server) if failure_kind == "closed" else ""
    if failure_kind:
        STEPS.fail(failure_kind, problem + evidence, hint)
    raise CheckFailed(problem, hint)  # outside `except`: no learner frames kept alive


def _judge_results(got: object, urls: tuple[str, ...], base: str) -> None:
    expected = {base + path: _expected(path) for path in urls}
    if not isinstance(got, dict):
        STEPS.fail(
            "results",
            f"check_links returned {kind(got)}, not a dict.",
            "Keep what check_links returns: {url: 'ok' or 'broken (<status>)'}.",
        )
    if got != expected:
        wrong = next((url for url in expected if got.get(url) != expected[url]), None)
        if wrong is not None and "/flaky/" in wrong and str(got.get(wrong)).startswith("broken"):
            STEPS.fail(
                "retry-ignored",
                f"for {wrong.removeprefix(base)} check_links said {got.get(wrong)!r}, not 'ok': "
                "its first GET got a 5xx, its retry a 200, and the retry's answer was dropped.",
                "Keep the module's rule: a 5xx is asked once more, and the link gets the "
                "retry's status (status_of returns what retry_once returns).",
            )
        if wrong is None:
            STEPS.fail(
                "results",
                "check_links returned links it was not asked about.",
                "Return one entry per url it was given.",
            )
        STEPS.fail(
            "results",
            f"for {wrong.removeprefix(base)} check_links said {got.get(wrong)!r}, not "
            f"{expected[wrong]!r}.",
            "Keep what each link gets: 'ok' below 400, else 'broken (<status>)'.",
        )
    if list(got) != list(expected):  # equal dicts, in another order
        STEPS.fail(
            "results",
            "check_links returned the right entries, but not in the order of urls (first "
            f"{next(iter(got)).removeprefix(base)}, where urls starts with "
            f"{next(iter(expected)).removeprefix(base)}).",
            "Keep the module's order: one entry per url, in the order of urls (a dict keeps "
            "the order its keys were added in).",
        )


def _judge_retries(server: LabServer, paths: tuple[str, ...]) -> None:
    """Each 5xx was asked twice (the module's retry), every other link once."""
    asked = [r.path for r in server.requests]
    for path in paths:
        hiccup = _expected(path).startswith("broken (5") or path.startswith("/flaky/")
        times, want = asked.count(path), 2 if hiccup else 1
        if times != want:
            what = "a 5xx answer is asked once more" if want == 2 else "only a 5xx is asked again"
            STEPS.fail(
                "retry",
                f"the server saw {times} GET of {path}, not {want}: the module's rule is "
                f"that {what}.",
                "Keep the module's behaviour (its retry of a 5xx); fix only its bug.",
            )


@exercise_check
def check_linkcheck(candidate: CheckLinks) -> str:
    """`check_links(client, urls)`: works on every call with the caller's client, left open."""
    if not callable(candidate):
        STEPS.fail(
            "results",
            f"check_linkcheck needs the function check_links, not {kind(candidate)}.",
            "Call check_linkcheck(check_links).",
        )
    sent: list[httpx.Request] = []  # the caller's client notes each request it sends
    total = 0
    with CheckServer() as server:
        client = lib().Client(**server.client_kwargs(), **recorder(sent))
        try:
            for call, paths in enumerate(ROUNDS, 1):
                server.reset()
                got = _call(candidate, client, [server.url + path for path in paths], call, server)
                if client.is_closed:
                    STEPS.fail(
                        "closed",
                        f"check_links returned, but left the caller's client closed (call "
                        f"{call} of {len(ROUNDS)})." + _close_evidence(server),
                        "The client is the caller's: it opens and closes it. Find what "
                        "closes it in the module, and leave it open.",
                    )
                _judge_retries(server, paths)  # first: a retry not asked changes results too
                _judge_results(got, paths, server.url)
                asked = len(server.requests)
                total += asked
                opened = server.connections_opened
                if len(sent) != total:
                    STEPS.fail(
                        "connections",
                        f"{total - len(sent)} of the {asked} requests of call {call} were "
                        f"not sent on the client check_links was given (the server saw "
                        f"{opened} TCP connections).",
                        "Send every request, the retries too, on the caller's client: no "
                        "new client, no httpx.get().",
                    )
                if opened > (1 if call == 1 else 0) and closing(sent):
                    STEPS.fail(
                        "connection-close",
                        f"the server saw {opened} new TCP connections in call {call} for "
                        f"{asked} requests on one client: every request asked the server to "
                        "close its connection (a `Connection: close` header).",
                        "Leave the caller's client as it was given: no `Connection: close` "
                        "header on it (client.headers belongs to the caller). Without it, one "
                        "connection carries all these requests.",
                    )
                if opened > (1 if call == 1 else 0):
                    STEPS.fail(
                        "connections",
                        f"the server saw {opened} new TCP connections in call {call} for "
                        f"{asked} requests on one client: something emptied its pool.",
                        "Leave the client's pool alone: one client keeps one connection "
                        "for all these requests. There is nothing to forget: a pool never "
                        "reuses a connection the server has closed, it notices and opens "
                        "a new one by itself.",
                    )
        finally:
            client.close()
    STEPS.passed()
    return (
        f"check_links works: {len(ROUNDS)} calls, {total} requests (each 5xx asked twice) on "
        "one TCP connection, and the caller's client left open for its owner."
    )

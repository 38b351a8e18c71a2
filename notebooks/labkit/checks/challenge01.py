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
from ._kernel import CheckServer, describe, exercise_check, flunk, lib
from ._twins import closing

CheckLinks = Callable[[httpx.Client, list[str]], dict[str, str]]

# Two calls on one client, each with 5xx answers (retried once) among good and broken links;
# /flaky/502 answers 502, then 200 to the retry: a hiccup, so its link is "ok".
ROUNDS = (
    ("/status/200", "/status/503", "/status/404", "/", "/flaky/502", "/status/201"),
    ("/status/500", "/status/200", "/status/418"),
)


def _expected(path: str) -> str:
    status = 200 if path == "/" or path.startswith("/flaky/") else int(path.rsplit("/", 1)[1])
    return "ok" if status < 400 else f"broken ({status})"


def _close_evidence(server: LabServer) -> str:
    """When the client hung up, by the server: 'right after it answered the 2nd GET of ...'.
    Right after the hung-up connection's own last answer: the server can notice a hang-up late,
    after another connection's answer (a fresh client's, in an answer that swallows the error)."""
    server.wait_until_closed(1.0)
    hung_up = [(c.closed, c.id) for c in server.connections if c.closed_by == "client" and c.closed]
    if not hung_up:
        return ""
    closed, connection = min(hung_up)
    answered = sorted(
        (r for r in server.requests if r.finished <= closed), key=lambda r: r.finished
    )
    own = [r for r in answered if r.connection == connection]
    before = answered[: answered.index(own[-1]) + 1] if own else answered
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


def _call(candidate: CheckLinks, client: httpx.Client, server: LabServer, call: int) -> object:
    """Call `call`, on its ROUNDS; the lifetime errors get their own mistakes, others `c1.error`."""
    mistake, words = "c1.error", {}
    try:
        return candidate(client, [server.url + path for path in ROUNDS[call - 1]])
    except NotImplementedError:
        mistake = "c1.not-yet"
    except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
        message = str(exc) if isinstance(exc, RuntimeError) else ""
        words = {"error": describe(exc), "message": message, "call": call, "calls": len(ROUNDS)}
        if message == SEND_CLOSED and client.is_closed:
            mistake = "c1.closed"
        elif message in (REOPEN, OPEN_TWICE):
            mistake = "c1.with"
    if mistake == "c1.closed":
        words["evidence"] = _close_evidence(server)
    flunk(mistake, **words)  # outside `except`: no learner frames kept alive


def _judge_results(got: object, urls: tuple[str, ...], base: str) -> None:
    expected = {base + path: _expected(path) for path in urls}
    if not isinstance(got, dict):
        flunk("c1.not-a-dict", got=kind(got))
    if got != expected:
        wrong = next((url for url in expected if got.get(url) != expected[url]), None)
        if wrong is None:
            flunk("c1.extra-links")
        path, said = wrong.removeprefix(base), got.get(wrong)
        if "/flaky/" in wrong and str(said).startswith("broken"):
            flunk("c1.retry-ignored", path=path, got=said)
        flunk("c1.wrong-result", path=path, got=said, expected=expected[wrong])
    if list(got) != list(expected):  # equal dicts, in another order
        first, start = next(iter(got)), next(iter(expected))
        flunk("c1.order", first=first.removeprefix(base), start=start.removeprefix(base))


def _judge_retries(server: LabServer, paths: tuple[str, ...]) -> None:
    """Each 5xx was asked twice (the module's retry), every other link once."""
    asked = [r.path for r in server.requests]
    for path in paths:
        hiccup = _expected(path).startswith("broken (5") or path.startswith("/flaky/")
        times, want = asked.count(path), 2 if hiccup else 1
        if times != want:
            what = "a 5xx answer is asked once more" if want == 2 else "only a 5xx is asked again"
            flunk("c1.retry", times=times, path=path, want=want, what=what)


@exercise_check
def check_linkcheck(candidate: CheckLinks) -> str:
    """`check_links(client, urls)`: works on every call with the caller's client, left open."""
    if not callable(candidate):
        flunk("c1.not-the-function", got=kind(candidate))
    sent: list[httpx.Request] = []  # the caller's client notes each request it sends
    total = 0
    with CheckServer() as server:
        client = lib().Client(**server.client_kwargs(), **recorder(sent))
        try:
            for call, paths in enumerate(ROUNDS, 1):
                server.reset()
                got = _call(candidate, client, server, call)
                if client.is_closed:
                    evidence = _close_evidence(server)
                    flunk("c1.left-closed", call=call, calls=len(ROUNDS), evidence=evidence)
                _judge_retries(server, paths)  # first: a retry not asked changes results too
                _judge_results(got, paths, server.url)
                asked, opened = len(server.requests), server.connections_opened
                total += asked
                seen = {"asked": asked, "call": call, "opened": opened}
                if len(sent) != total:
                    flunk("c1.not-on-client", missing=total - len(sent), **seen)
                if opened > (1 if call == 1 else 0):
                    flunk("c1.connection-close" if closing(sent) else "c1.connections", **seen)
        finally:
            client.close()
    return (
        f"check_links works: {len(ROUNDS)} calls, {total} requests (each 5xx asked twice) on "
        "one TCP connection, and the caller's client left open for its owner."
    )

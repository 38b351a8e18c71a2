"""Check for 00_start_here: the first request, to show how checks work.

The check trusts evidence, not the answer's word: the client it gives notes every request it
sends (its own request hook), so a request sent by `httpx.get()`, by a client of the answer's
own or by one made elsewhere shows; and the lab server counts what reached it. Each ❌ names a
mistake of the catalogue (`_catalogue.py`, ids `00.*`), where its words are.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ._evidence import OPEN_TWICE, REOPEN, SEND_CLOSED, body_of, recorder
from ._kernel import (
    CheckServer,
    exercise_check,
    flunk,
    is_a,
    learner_call,
    lib,
    need_function,
    plural,
    readable,
)

# Three calls on one client: a second and a third show an answer that caches, closes the
# client or counts on something left from the first; each body names its delay.
CALLS = ("/delay/0.01", "/delay/0.02", "/delay/0.01")

# Errors whose message doesn't say what to change, and the mistake each shows.
SLIPS = (
    (OPEN_TWICE, "00.opened-given"),
    (REOPEN, "00.opened-given"),
    (SEND_CLOSED, "00.opened-given"),
    ("ResponseNotRead", "00.unread-stream"),
    ("JSONDecodeError", "00.json"),
    ("ConnectError", "00.refused"),
)


def _judge_text(got: object, body: str, what: str) -> None:
    """`got` must be the body as text: not the response, its bytes or another of its parts."""
    if is_a(got, "Response"):
        flunk("00.whole-response", what=what, text=body_of(got, what))  # unread: a verdict too
    if isinstance(got, bytes):
        flunk("00.bytes", what=what, got=got)
    if got is None:
        flunk("00.none", what=what)
    if isinstance(got, int) and not isinstance(got, bool):
        flunk("00.status-code", what=what, got=got)
    if not isinstance(got, str):
        flunk("00.not-text", what=what, got=readable(got))
    if got != body:
        flunk("00.wrong-text", what=what, got=got, body=body)


@exercise_check
def check_first_request(candidate: Callable[[httpx.Client, str], str]) -> str:
    """`first_request(client, url)` must return the body of GET url as text, using `client`."""
    need_function("check_first_request", "first_request", candidate)
    sent: list[httpx.Request] = []
    with (
        CheckServer() as server,
        lib().Client(**server.client_kwargs(), **recorder(sent)) as client,
    ):
        for number, path in enumerate(CALLS, 1):
            what = f"first_request (call {number} of {len(CALLS)})"
            url, body = server.url + path, f"waited {path.rsplit('/', 1)[-1]} s\n"
            already_sent, already_seen = len(sent), len(server.requests)
            got = learner_call(
                "first_request", candidate, client, url, mistake="00.other-error", slips=SLIPS
            )
            mine, seen = sent[already_sent:], len(server.requests) - already_seen
            wrong = [r for r in mine if r.method != "GET" or str(r.url) != url]
            if wrong:
                odd = f"{wrong[0].method} {wrong[0].url.raw_path.decode()}"
                flunk("00.wrong-request", what=what, odd=odd, path=path)
            _judge_text(got, body, what)
            if client.is_closed:
                flunk("00.closed-given", what=what)
            if not mine and seen:
                flunk("00.other-client", what=what, seen=plural(seen, "request"))
            if not mine:
                flunk("00.saved-answer", what=what)
            if len(mine) > 1 or seen > 1:
                flunk("00.extra-requests", what=what, count=plural(max(len(mine), seen), "request"))
    requests = plural(len(sent), "request")
    connections = plural(server.connections_opened, "TCP connection")
    return (
        f"first_request works: {len(CALLS)} calls, {requests}, all on the client you were "
        f"given ({connections})."
    )

"""Check for 00_start_here: the first request, to show how checks work.

The check trusts evidence, not the answer's word: the client it gives notes every request it
sends (its own request hook), so a request sent by `httpx.get()`, by a client of the answer's
own or by one made elsewhere shows; and the lab server counts what reached it.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ._evidence import OPEN_TWICE, REOPEN, SEND_CLOSED, body_of, recorder
from ._kernel import CheckServer, exercise_check, fail, learner_call, plural, readable

# Three calls on one client: a second and a third show an answer that caches, closes the
# client or counts on something left from the first; each body names its delay.
CALLS = ("/delay/0.01", "/delay/0.02", "/delay/0.01")

HINT = "Use client.get(url), then return the response's .text."
HINT_GIVEN = (
    "Call client.get(url) on the `client` parameter: the caller built and opened it "
    "(httpx.get() and a client of your own are other clients, each with new "
    "connections)."
)
HINT_OPENED = (
    "Use the client as it is, without `with client:` or client.close(): the caller "
    "opened it, and the caller closes it."
)
SLIPS = (
    (OPEN_TWICE, HINT_OPENED),
    (REOPEN, HINT_OPENED),
    (SEND_CLOSED, HINT_OPENED),
    (
        "ResponseNotRead",
        "Read a streamed body inside its `with client.stream(...)` block "
        "(response.read()), or simply use client.get(url).",
    ),
    ("JSONDecodeError", "The body is plain text, not JSON: return response.text."),
    ("ConnectError", HINT_GIVEN),
)


def _judge_text(got: object, body: str, what: str) -> None:
    """`got` must be the body as text: not the response, its bytes or another of its parts."""
    if isinstance(got, httpx.Response):
        text = body_of(got, what)  # a streamed response nobody read is a verdict too
        fail(
            f"{what} returned the whole response, not its text ({text!r}).", "Return response.text."
        )
    if isinstance(got, bytes):
        fail(
            f"{what} returned bytes ({got!r}), not text.",
            "Return response.text (a str), not response.content (bytes).",
        )
    if got is None:
        fail(
            f"{what} returned None, not the body as text.",
            "Return client.get(url).text (a `return` is missing?).",
        )
    if isinstance(got, int) and not isinstance(got, bool):
        fail(
            f"{what} returned the number {got}, the status code, not the body as text.",
            "Return response.text: response.status_code is the status, not the body.",
        )
    if not isinstance(got, str):
        fail(f"{what} returned {readable(got)}, not the body as text.", HINT)
    if got != body:
        fail(
            f"{what} returned {got!r}, not the body of GET url, {body!r}.",
            "Return client.get(url).text, as it is.",
        )


@exercise_check
def check_first_request(candidate: Callable[[httpx.Client, str], str]) -> str:
    """`first_request(client, url)` must return the body of GET url as text, using `client`."""
    sent: list[httpx.Request] = []
    with (
        CheckServer() as server,
        httpx.Client(**server.client_kwargs(), **recorder(sent)) as client,
    ):
        for number, path in enumerate(CALLS, 1):
            what = f"first_request (call {number} of {len(CALLS)})"
            url, body = server.url + path, f"waited {path.rsplit('/', 1)[-1]} s\n"
            already_sent, already_seen = len(sent), len(server.requests)
            got = learner_call("first_request", candidate, client, url, hint=HINT, slips=SLIPS)
            mine, seen = sent[already_sent:], len(server.requests) - already_seen
            wrong = [r for r in mine if r.method != "GET" or str(r.url) != url]
            if wrong:
                odd = f"{wrong[0].method} {wrong[0].url.raw_path.decode()}"
                fail(
                    f"{what} sent {odd}, not GET {path}.",
                    "Send GET to the url you were given, as it is: client.get(url).",
                )
            _judge_text(got, body, what)
            if client.is_closed:
                fail(f"{what} closed the client it was given.", HINT_OPENED)
            if not mine and seen:
                fail(
                    f"{what} sent its request on another client, not on the one it was given "
                    f"(the given client sent nothing; the server got {plural(seen, 'request')}).",
                    HINT_GIVEN,
                )
            if not mine:
                fail(
                    f"{what} returned the right text without sending a request: a saved answer?",
                    "Send GET url each time first_request is called.",
                )
            if len(mine) > 1 or seen > 1:
                fail(
                    f"{what} sent {plural(max(len(mine), seen), 'request')} for one call.",
                    "Send GET url once, and return the text of that one response.",
                )
    requests = plural(len(sent), "request")
    connections = plural(server.connections_opened, "TCP connection")
    return (
        f"first_request works: {len(CALLS)} calls, {requests}, all on the client you were "
        f"given ({connections})."
    )

"""Check for 07_when_pooled_connections_break: `send_with_retry`, one more try done right.

`check_send_with_retry(send_with_retry)` calls your function on clients of your library (httpx
or httpx2) in ten scenarios of trouble, in order, and judges by what each client sent and what
the lab servers saw. The first scenario that goes wrong gives the verdict (ids `07.*`).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import httpx

from ..server import LabServer, plain_trust
from ._evidence import OPEN_TWICE, SEND_CLOSED, recorder
from ._kernel import (
    CheckServer,
    describe,
    errors,
    exercise_check,
    flunk,
    is_a,
    kind,
    learner_call,
    lib,
    need_function,
)

__all__ = ["check_send_with_retry"]

SendWithRetry = Callable[..., httpx.Response]

IDLE = 0.1  # the racy servers' idle timeout, in seconds
READ_TIMEOUT = 0.2  # scenario 5's client gives up reading after this long...
SLOW = "/delay/2"  # ...on a request the server takes this long to answer

SLIPS = (
    (SEND_CLOSED, "07.closed-given"),
    (OPEN_TWICE, "07.opened-given"),
    ("HTTPStatusError", "07.raise-for-status"),
    ("unexpected keyword argument 'attempts'", "07.signature"),
)


class Outcome(NamedTuple):
    """What one call of send_with_retry gave: a response, or an httpx transport error."""

    tries: int  # requests the given client sent (its request hook saw them)
    response: Any = None
    error: type[BaseException] | None = None  # the transport error's class (no traceback)
    error_text: str = ""


@dataclass
class _Caller:
    """Calls send_with_retry on clients that note in `sent` each request they send: the tries."""

    candidate: SendWithRetry
    sent: list[Any] = field(default_factory=list)

    @contextmanager
    def client(
        self, server: LabServer | None = None, stale: bool = False, **settings: Any
    ) -> Iterator[Any]:
        """A client for `server` (or none); `stale`: with a pooled connection the server drops."""
        trust = server.client_kwargs() if server else {"verify": plain_trust()}
        with lib().Client(**trust, **settings, **recorder(self.sent)) as client:
            if stale and server:
                client.get(server.url + "/")  # one connection, now idle in the pool...
                time.sleep(IDLE * 1.5)  # ...longer than the server's idle timeout: staged
            yield client

    def on(self, client: Any, method: str, url: str, attempts: int) -> Outcome:
        """Run send_with_retry once; a transport error it raises is evidence, not a failure yet."""
        self.sent.clear()
        what = f"send_with_retry(client, {method!r}, url, attempts={attempts})"

        def call() -> Outcome:
            try:
                response = self.candidate(client, method, url, attempts=attempts)
            except errors("TransportError") as exc:  # words only: the traceback holds the frames
                return Outcome(len(self.sent), error=type(exc), error_text=describe(exc))
            return Outcome(len(self.sent), response=response)

        outcome = learner_call(what, call, mistake="07.error", slips=SLIPS)
        if client.is_closed:  # before the check sends on it again (its error would blame the check)
            flunk("07.closed-client", what=what)
        others = sorted({r.method for r in self.sent} - {method})
        if others:
            flunk("07.wrong-method", what=what, sent=" and ".join(others), method=method)
        return outcome

    def fresh(
        self, method: str, url: str, attempts: int, server: LabServer | None = None, **client: Any
    ) -> Outcome:
        """`on` a client of its own, closed after the call."""
        with self.client(server, **client) as given:
            return self.on(given, method, url, attempts)


def _closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: every connect is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


def _expect_response(outcome: Outcome, what: str, status: int) -> None:
    if outcome.error is not None:
        flunk("07.raised", what=what, error=outcome.error_text)
    response = outcome.response
    if not is_a(response, "Response"):
        flunk("07.not-a-response", what=what, got=kind(response))
    if not response.is_closed:  # a streamed response nobody read holds its connection
        response.close()
        flunk("07.unread-stream", what=what)
    if "http_version" not in response.extensions:  # made up, as in _expect_error
        flunk("07.error-swallowed", what=what, did=f"returned a {response.status_code}")
    if response.status_code != status:
        flunk("07.wrong-status", what=what, got=response.status_code, status=status)


def _expect_error(outcome: Outcome, what: str, error: str, mistake: str, once: str = "") -> None:
    """The outcome must be httpx.<error>, after one try if `once` says what more tries did."""
    response = outcome.response
    if once and outcome.tries > 1:
        flunk(mistake, what=what, did=once.format(tries=outcome.tries))
    if outcome.error is None:
        status = getattr(response, "status_code", None)
        got = f"{kind(response)}{f' (status {status})' if status else ''}"
        did = f"returned {got}: it should raise httpx.{error}"
        # A Response built in Python (`httpx.Response(503)`), not read from a server (that one
        # carries the HTTP version among its extensions): the error was caught and dropped.
        if is_a(response, "Response") and "http_version" not in response.extensions:
            flunk("07.error-swallowed", what=what, did=did)
        flunk(mistake, what=what, did=did)
    if not issubclass(outcome.error, errors(error)):
        flunk(mistake, what=what, did=f"raised {outcome.error_text} (expected httpx.{error})")


def _stale_get(calls: _Caller, racy: LabServer, face: str, plain: LabServer) -> None:
    """Scenarios 1 and 2: the retry of a GET whose connection went stale gets the answer, and
    the pool's other connection (to `plain`, as another thread's would be) stays in it."""
    racy.reset()
    with calls.client(racy, stale=True) as client:
        plain.reset()
        client.get(plain.url + "/")  # a healthy connection, idle in the same pool
        what = f"a GET whose pooled connection the server closed ({face}) as the request arrived"
        outcome = calls.on(client, "GET", racy.url + "/", 2)
        if outcome.error is not None and outcome.tries <= 1:
            # No retry at all, or one try short (range(1, attempts))? With attempts=3, an
            # answer one try short makes 2 tries, and the second gets the answer.
            again = calls.fresh("GET", racy.url + "/", 3, racy, stale=True)
            if again.error is None and again.tries == 2:
                flunk("07.one-try-short", what=what, tries=again.tries)
            flunk("07.no-retry", what=what, error=outcome.error_text)
        _expect_response(outcome, what, 200)
        raced = [c for c in racy.connections if c.reason.startswith("staged race")]
        if outcome.tries < 2 or not raced:
            flunk("07.own-client", what=what, tries=outcome.tries)
        if outcome.tries > 2:
            flunk("07.extra-tries", what=what, tries=outcome.tries)
        client.get(plain.url + "/")
        if plain.connections_opened > 1:
            flunk("07.pool-emptied", what=what)


@exercise_check
def check_send_with_retry(candidate: SendWithRetry) -> str:
    """`send_with_retry(client, method, url, *, attempts=2)`: one more try, only when safe."""
    need_function("check_send_with_retry", "send_with_retry", candidate)
    calls = _Caller(candidate)
    with (
        CheckServer(idle_timeout=IDLE, staged_race=True) as racy,
        CheckServer(idle_timeout=IDLE, staged_race="reset") as racy_reset,
        CheckServer() as plain,
    ):
        _stale_get(calls, racy, "a FIN", plain)
        _stale_get(calls, racy_reset, "a reset", plain)

        # 3. A 503 is an answer: returned as it is, after one request.
        plain.reset()
        outcome = calls.fresh("GET", plain.url + "/status/503", 2, plain)
        _expect_response(outcome, "GET /status/503", 503)
        if outcome.tries > 1 or len(plain.requests) > 1:
            flunk("07.retried-response", tries=outcome.tries)

        # 4. A POST is never retried: the server may have acted on it.
        what = "a POST whose pooled connection the server closed as it arrived"
        outcome = calls.fresh("POST", racy.url + "/", 2, racy, stale=True)
        once = "sent it {tries} times: it retried a POST"
        _expect_error(outcome, what, "RemoteProtocolError", "07.post-retried", once)

        # 5. A read timeout is raised, never retried: the server is still working.
        what = f"a GET that took longer than the client's read timeout ({READ_TIMEOUT:g} s)"
        timeout = lib().Timeout(5.0, read=READ_TIMEOUT)
        outcome = calls.fresh("GET", plain.url + SLOW, 2, plain, timeout=timeout)
        once = "sent it {tries} times: it retried a read timeout"
        _expect_error(outcome, what, "ReadTimeout", "07.timeout-retried", once)

        # 6. PUT is idempotent too, so it is retried (the lab server answers it 501: fine here).
        what = "a PUT whose pooled connection the server closed as it arrived"
        outcome = calls.fresh("PUT", racy.url + "/", 2, racy, stale=True)
        if outcome.error is not None:
            error, tries = outcome.error_text, outcome.tries
            flunk("07.put-not-retried", what=what, error=error, tries=tries)
        _expect_response(outcome, what, 501)

        # 7. A connect that fails is retried, up to `attempts` tries in all.
        what = "a GET to a port where nothing listens, with attempts=3"
        outcome = calls.fresh("GET", _closed_port_url(), 3)
        if outcome.tries != 3:
            mistake = "07.too-many-tries" if outcome.tries > 3 else "07.too-few-tries"
            flunk(mistake, what=what, tries=outcome.tries)
        _expect_error(outcome, what, "ConnectError", "07.last-error")

        # 8. attempts=1 means one try: the error is raised at once.
        what = "a GET on a stale connection with attempts=1"
        outcome = calls.fresh("GET", racy.url + "/", 1, racy, stale=True)
        _expect_error(outcome, what, "RemoteProtocolError", "07.one-attempt", "made {tries} tries")

        # 9. A POST is not retried, even after a connect failure.
        what = "a POST to a port where nothing listens, with attempts=3"
        outcome = calls.fresh("POST", _closed_port_url(), 3)
        once = "made {tries} tries: it retried a POST"
        _expect_error(outcome, what, "ConnectError", "07.post-connect-retried", once)

        # 10. An error that says nothing about the connection is not retried: it would come again.
        what = "a GET of ftp://127.0.0.1/ (httpx.UnsupportedProtocol), with attempts=3"
        outcome = calls.fresh("GET", "ftp://127.0.0.1/", 3)
        once = "made {tries} tries: it retried an error that is not a broken connection"
        _expect_error(outcome, what, "UnsupportedProtocol", "07.other-error-retried", once)
    return (
        "send_with_retry works: a stale connection or a failed connect is tried again, on "
        "the client you were given, for idempotent methods only and at most `attempts` "
        "times; responses, POSTs and read timeouts go back to the caller as they are."
    )

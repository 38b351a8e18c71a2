"""Check for 07_when_pooled_connections_break: `send_with_retry`, one more try done right.

`check_send_with_retry(send_with_retry)` calls your function on clients it gives you (of your
library: httpx or httpx2), against kinds of trouble, and judges by what each client sent (its
request hook) and what the lab servers saw, in ten scenarios (each function below says what it
expects; `check_send_with_retry`, at the end, plays them in order). The first that goes wrong
gives the verdict, a mistake of the catalogue (ids `07.*`).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class Outcome:
    """What one call of send_with_retry gave: a response, or an httpx transport error."""

    what: str  # the scenario, in words
    tries: int  # requests the given client sent (its request hook saw them)
    response: object = None
    error: type[BaseException] | None = None  # the transport error's class (no traceback)
    error_text: str = ""


def _call(
    candidate: SendWithRetry, client: Any, sent: list[Any], method: str, url: str, attempts: int
) -> Outcome:
    """Run send_with_retry once; a transport error it raises is evidence, not a failure yet."""
    sent.clear()
    what = f"send_with_retry(client, {method!r}, url, attempts={attempts})"

    def call() -> Outcome:
        try:
            response = candidate(client, method, url, attempts=attempts)
        except errors("TransportError") as exc:  # words only: the traceback holds the frames
            return Outcome(what, len(sent), error=type(exc), error_text=describe(exc))
        return Outcome(what, len(sent), response=response)

    outcome = learner_call(what, call, mistake="07.error", slips=SLIPS)
    if client.is_closed:  # before the check sends on it again (its error would blame the check)
        flunk("07.closed-client", what=what)
    others = sorted({r.method for r in sent} - {method})
    if others:
        flunk("07.wrong-method", what=what, sent=" and ".join(others), method=method)
    return outcome


def _is(outcome: Outcome, error: str) -> bool:
    """The outcome is `httpx.<error>` (of either library), or a subclass of it."""
    return outcome.error is not None and issubclass(outcome.error, errors(error))


@contextmanager
def _stale_client(server: LabServer, sent: list[Any]) -> Iterator[Any]:
    """A client whose pooled connection the racy server will drop at the next request."""
    with lib().Client(**server.client_kwargs(), **recorder(sent)) as client:
        client.get(server.url + "/")  # one connection, now idle in the pool...
        time.sleep(IDLE * 1.5)  # ...longer than the server's idle timeout: the race is staged
        yield client


def _closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: every connect is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _expect_response(outcome: Outcome, what: str, status: int) -> None:
    if outcome.error is not None:
        flunk("07.raised", what=what, error=outcome.error_text)
    response: Any = outcome.response
    if not is_a(response, "Response"):
        flunk("07.not-a-response", what=what, got=kind(response))
    if not response.is_closed:  # a streamed response nobody read holds its connection
        response.close()
        flunk("07.unread-stream", what=what)
    if response.status_code != status:
        flunk("07.wrong-status", what=what, got=response.status_code, status=status)


def _made_up(response: object) -> bool:
    """A Response built in Python (`httpx.Response(503)`), not received: a response the client
    read from a server carries the connection's HTTP version among its extensions."""
    return is_a(response, "Response") and "http_version" not in getattr(response, "extensions", {})


def _expect_error(outcome: Outcome, what: str, error: str, mistake: str, once: str = "") -> None:
    """The outcome must be `httpx.<error>` (after one try, if `once` says what more tries
    did); if not, `mistake` with what it did instead."""
    if once and outcome.tries > 1:
        flunk(mistake, what=what, did=once.format(tries=outcome.tries))
    if outcome.error is None:
        status = getattr(outcome.response, "status_code", None)
        got = f"{kind(outcome.response)}{f' (status {status})' if status else ''}"
        did = f"returned {got}: it should raise httpx.{error}"
        if _made_up(outcome.response):  # no server sent it: the error was caught and dropped
            flunk("07.error-swallowed", what=what, did=did)
        flunk(mistake, what=what, did=did)
    if not _is(outcome, error):
        flunk(mistake, what=what, did=f"raised {outcome.error_text} (expected httpx.{error})")


def _stale_get(candidate: SendWithRetry, racy: LabServer, face: str, plain: LabServer) -> None:
    """Scenarios 1 and 2: the retry of a GET whose connection went stale gets the answer, and
    the pool's other connection (to `plain`, as another thread's would be) stays in it."""
    sent: list[Any] = []
    racy.reset()
    with _stale_client(racy, sent) as client:
        plain.reset()
        client.get(plain.url + "/")  # a healthy connection, idle in the same pool
        what = f"a GET whose pooled connection the server closed ({face}) as the request arrived"
        outcome = _call(candidate, client, sent, "GET", racy.url + "/", 2)
        if outcome.error is not None and outcome.tries <= 1:
            _no_retry(candidate, racy, what, outcome)
        _expect_response(outcome, what, 200)
        raced = [c for c in racy.connections if c.reason.startswith("staged race")]
        if outcome.tries < 2 or not raced:
            flunk("07.own-client", what=what, tries=outcome.tries)
        if outcome.tries > 2:
            flunk("07.extra-tries", what=what, tries=outcome.tries)
        client.get(plain.url + "/")
        if plain.connections_opened > 1:
            flunk("07.pool-emptied", what=what)


def _no_retry(candidate: SendWithRetry, racy: LabServer, what: str, outcome: Outcome) -> None:
    """A GET that raised after one try: no retry at all, or one try short (range(1, attempts))?
    With attempts=3, an answer one try short makes 2, and the second gets the answer."""
    sent: list[Any] = []
    with _stale_client(racy, sent) as client:
        again = _call(candidate, client, sent, "GET", racy.url + "/", 3)
    if again.error is None and again.tries == 2:
        flunk("07.one-try-short", what=what, tries=again.tries)
    flunk("07.no-retry", what=what, error=outcome.error_text)


def _status_503(candidate: SendWithRetry, plain: LabServer) -> None:
    """Scenario 3: a 503 is an answer: returned as it is, after one request."""
    sent: list[Any] = []
    with lib().Client(**plain.client_kwargs(), **recorder(sent)) as client:
        plain.reset()
        outcome = _call(candidate, client, sent, "GET", plain.url + "/status/503", 2)
        _expect_response(outcome, "GET /status/503", 503)
        if outcome.tries > 1 or len(plain.requests) > 1:
            flunk("07.retried-response", tries=outcome.tries)


def _stale_post(candidate: SendWithRetry, racy: LabServer) -> None:
    """Scenario 4: a POST is never retried: the server may have acted on it."""
    sent: list[Any] = []
    with _stale_client(racy, sent) as client:
        what = "a POST whose pooled connection the server closed as it arrived"
        outcome = _call(candidate, client, sent, "POST", racy.url + "/", 2)
        once = "sent it {tries} times: it retried a POST"
        _expect_error(outcome, what, "RemoteProtocolError", "07.post-retried", once)


def _read_timeout(candidate: SendWithRetry, plain: LabServer) -> None:
    """Scenario 5: a read timeout is raised, never retried: the server is still working."""
    sent: list[Any] = []
    timeout = lib().Timeout(5.0, read=READ_TIMEOUT)
    with lib().Client(**plain.client_kwargs(), timeout=timeout, **recorder(sent)) as client:
        what = f"a GET that took longer than the client's read timeout ({READ_TIMEOUT:g} s)"
        outcome = _call(candidate, client, sent, "GET", plain.url + SLOW, 2)
        once = "sent it {tries} times: it retried a read timeout"
        _expect_error(outcome, what, "ReadTimeout", "07.timeout-retried", once)


def _stale_put(candidate: SendWithRetry, racy: LabServer) -> None:
    """Scenario 6: PUT is idempotent too, so it is retried (the lab server answers it 501)."""
    sent: list[Any] = []
    with _stale_client(racy, sent) as client:
        what = "a PUT whose pooled connection the server closed as it arrived"
        outcome = _call(candidate, client, sent, "PUT", racy.url + "/", 2)
        if outcome.error is not None:
            error, tries = outcome.error_text, outcome.tries
            flunk("07.put-not-retried", what=what, error=error, tries=tries)
        _expect_response(outcome, what, 501)  # the lab server doesn't implement PUT: fine here


def _connect_refused(candidate: SendWithRetry) -> None:
    """Scenario 7: a connect that fails is retried, up to `attempts` tries in all."""
    sent: list[Any] = []
    with lib().Client(verify=plain_trust(), **recorder(sent)) as client:
        what = "a GET to a port where nothing listens, with attempts=3"
        outcome = _call(candidate, client, sent, "GET", _closed_port_url(), 3)
        if outcome.tries > 3:
            flunk("07.too-many-tries", what=what, tries=outcome.tries)
        if outcome.tries < 3:
            flunk("07.too-few-tries", what=what, tries=outcome.tries)
        _expect_error(outcome, what, "ConnectError", "07.last-error")


def _one_attempt(candidate: SendWithRetry, racy: LabServer) -> None:
    """Scenario 8: attempts=1 means one try: the error is raised at once."""
    sent: list[Any] = []
    with _stale_client(racy, sent) as client:
        what = "a GET on a stale connection with attempts=1"
        outcome = _call(candidate, client, sent, "GET", racy.url + "/", 1)
        _expect_error(outcome, what, "RemoteProtocolError", "07.one-attempt", "made {tries} tries")


def _connect_refused_post(candidate: SendWithRetry) -> None:
    """Scenario 9: a POST is not retried, even after a connect failure."""
    sent: list[Any] = []
    with lib().Client(verify=plain_trust(), **recorder(sent)) as client:
        what = "a POST to a port where nothing listens, with attempts=3"
        outcome = _call(candidate, client, sent, "POST", _closed_port_url(), 3)
        once = "made {tries} tries: it retried a POST"
        _expect_error(outcome, what, "ConnectError", "07.post-connect-retried", once)


def _other_error(candidate: SendWithRetry) -> None:
    """Scenario 10: an error that says nothing about the connection is not retried: the same
    request gets the same error again (here, a URL whose scheme no client sends)."""
    sent: list[Any] = []
    with lib().Client(verify=plain_trust(), **recorder(sent)) as client:
        what = "a GET of ftp://127.0.0.1/ (httpx.UnsupportedProtocol), with attempts=3"
        outcome = _call(candidate, client, sent, "GET", "ftp://127.0.0.1/", 3)
        once = "made {tries} tries: it retried an error that is not a broken connection"
        _expect_error(outcome, what, "UnsupportedProtocol", "07.other-error-retried", once)


@exercise_check
def check_send_with_retry(candidate: SendWithRetry) -> str:
    """`send_with_retry(client, method, url, *, attempts=2)`: one more try, only when safe."""
    need_function("check_send_with_retry", "send_with_retry", candidate)
    with (
        CheckServer(idle_timeout=IDLE, staged_race=True) as racy,
        CheckServer(idle_timeout=IDLE, staged_race="reset") as racy_reset,
        CheckServer() as plain,
    ):
        _stale_get(candidate, racy, "a FIN", plain)
        _stale_get(candidate, racy_reset, "a reset", plain)
        _status_503(candidate, plain)
        _stale_post(candidate, racy)
        _read_timeout(candidate, plain)
        _stale_put(candidate, racy)
        _connect_refused(candidate)
        _one_attempt(candidate, racy)
        _connect_refused_post(candidate)
        _other_error(candidate)
    return (
        "send_with_retry works: a stale connection or a failed connect is tried again, on "
        "the client you were given, for idempotent methods only and at most `attempts` "
        "times; responses, POSTs and read timeouts go back to the caller as they are."
    )

"""Check for 07_when_pooled_connections_break: `send_with_retry`, one more try done right.

`check_send_with_retry(send_with_retry)` calls your function on a client it gives you, against
three kinds of trouble, and judges by what the client sent (its request hook) and what the lab
servers saw. In order, the first that goes wrong gives the verdict:

1. GET on a connection the server closes as the request arrives (the staged race): the retry,
   on the same client, gets the answer.
2. GET /status/503: the 503 comes back as it is, after one request.
3. POST on a stale connection: `httpx.RemoteProtocolError` is raised, after one try.
4. GET that outlives the read timeout: `httpx.ReadTimeout` is raised, after one try.
5. PUT on a stale connection: idempotent, so retried (the lab server answers 501 to a PUT).
6. GET to a port with nothing listening, attempts=3: `httpx.ConnectError` after 3 tries.
7. GET on a stale connection with attempts=1: no retry at all.
8. POST to a port with nothing listening, attempts=3: `httpx.ConnectError` after one try (the
   exercise retries idempotent methods only, whatever the error).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from ..server import LabServer, plain_trust
from ._evidence import OPEN_TWICE, SEND_CLOSED, kind, recorder
from ._kernel import CheckServer, describe, exercise_check, fail, learner_call

__all__ = ["check_send_with_retry"]

SendWithRetry = Callable[..., httpx.Response]

IDLE = 0.1  # the racy server's idle timeout, in seconds
READ_TIMEOUT = 0.2  # scenario 4's client gives up reading after this long...
SLOW = "/delay/2"  # ...on a request the server takes this long to answer

HINT_SHAPE = (
    "Try the request with client.request(method, url); on httpx.RemoteProtocolError "
    "or httpx.ConnectError, for an idempotent method, try again, up to `attempts` "
    "tries in all; re-raise the error when no try is left."
)
SLIPS = (
    (
        SEND_CLOSED,
        "Something in send_with_retry closed the client it was given (client.close(), or a `with "
        "client:` block that ended): leave it open, the caller closes it.",
    ),
    (
        OPEN_TWICE,
        "The client you were given is already open: don't write `with client:` in "
        "send_with_retry, just call client.request(method, url).",
    ),
    (
        "HTTPStatusError",
        "A response with any status code is returned as it is: no raise_for_status() here (the "
        "caller decides what a 503 means).",
    ),
    (
        "unexpected keyword argument 'attempts'",
        "Keep the signature: send_with_retry(client, method, url, *, attempts=2).",
    ),
)


@dataclass(frozen=True)
class Outcome:
    """What one call of send_with_retry gave: a response, or an httpx transport error."""

    tries: int  # requests the given client sent (its request hook saw them)
    response: object = None
    error: type[BaseException] | None = None
    error_text: str = ""


def _call(
    candidate: SendWithRetry,
    client: httpx.Client,
    sent: list[httpx.Request],
    method: str,
    url: str,
    attempts: int,
) -> Outcome:
    """Run send_with_retry once; a transport error it raises is evidence, not a failure yet."""
    sent.clear()

    def call() -> Outcome:
        try:
            response = candidate(client, method, url, attempts=attempts)
        except httpx.TransportError as exc:  # words only: the traceback would hold the frames
            return Outcome(len(sent), error=type(exc), error_text=describe(exc))
        return Outcome(len(sent), response=response)

    return learner_call(
        f"send_with_retry(client, {method!r}, url, attempts={attempts})",
        call,
        hint=HINT_SHAPE,
        slips=SLIPS,
    )


@contextmanager
def _stale_client(server: LabServer, sent: list[httpx.Request]) -> Iterator[httpx.Client]:
    """A client whose pooled connection the racy server will drop at the next request."""
    with httpx.Client(**server.client_kwargs(), **recorder(sent)) as client:
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
        fail(f"On {what}, send_with_retry raised {outcome.error_text}", HINT_SHAPE)
    if not isinstance(outcome.response, httpx.Response):
        fail(
            f"On {what}, send_with_retry returned {kind(outcome.response)}, not the "
            "httpx.Response.",
            "Return the response itself: `return response`.",
        )
    if outcome.response.status_code != status:
        fail(
            f"On {what}, send_with_retry returned a {outcome.response.status_code}, where "
            f"the server answered {status}.",
            "Return the response of the last try, as it is.",
        )


def _expect_error(outcome: Outcome, what: str, error: type[BaseException], why: str) -> None:
    if outcome.error is None:
        status = getattr(outcome.response, "status_code", None)
        fail(
            f"On {what}, send_with_retry returned {kind(outcome.response)}"
            f"{f' (status {status})' if status else ''}: it should raise "
            f"httpx.{error.__name__}.",
            why,
        )
    if not issubclass(outcome.error, error):
        fail(
            f"On {what}, send_with_retry raised {outcome.error_text} (expected "
            f"httpx.{error.__name__}).",
            why,
        )


def _stale_get(candidate: SendWithRetry, racy: LabServer) -> None:
    """Scenario 1: the retry of a GET whose connection went stale gets the answer."""
    sent: list[httpx.Request] = []
    racy.reset()
    with _stale_client(racy, sent) as client:
        what = "a GET whose pooled connection the server closed as the request arrived"
        outcome = _call(candidate, client, sent, "GET", racy.url + "/", 2)
        if outcome.error is httpx.RemoteProtocolError and outcome.tries <= 1:
            fail(
                f"On {what}, send_with_retry raised {outcome.error_text}: no retry.",
                "That error on a GET is the stale-connection race: catch "
                "httpx.RemoteProtocolError and send the request once more.",
            )
        _expect_response(outcome, what, 200)
        raced = [c for c in racy.connections if c.reason == "staged race"]
        if outcome.tries < 2 or not raced:
            fail(
                f"On {what}, send_with_retry sent {outcome.tries} of its 2 tries on the "
                "client it was given: a client of its own for the others?",
                "Send every try on the client you were given: its pool opens a fresh "
                "connection for the retry by itself. A new client per try loses the pool.",
            )
        if outcome.tries > 2:
            fail(
                f"On {what}, send_with_retry sent {outcome.tries} requests, where 2 were enough.",
                "Return as soon as a try gives a response.",
            )


def _status_503(candidate: SendWithRetry, plain: LabServer) -> None:
    """Scenario 2: a 503 is an answer: returned as it is, after one request."""
    sent: list[httpx.Request] = []
    with httpx.Client(**plain.client_kwargs(), **recorder(sent)) as client:
        plain.reset()
        outcome = _call(candidate, client, sent, "GET", plain.url + "/status/503", 2)
        _expect_response(outcome, "GET /status/503", 503)
        if outcome.tries > 1 or len(plain.requests) > 1:
            fail(
                f"send_with_retry sent GET /status/503 {outcome.tries} times: it retried a "
                "response (or kept trying after one came).",
                "A response with any status code is returned as it is, at once. Retrying "
                "a 5xx needs back-off and a budget: a policy beyond this function.",
            )


def _stale_post(candidate: SendWithRetry, racy: LabServer) -> None:
    """Scenario 3: a POST is never retried: the server may have acted on it."""
    sent: list[httpx.Request] = []
    with _stale_client(racy, sent) as client:
        what = "a POST whose pooled connection the server closed as it arrived"
        outcome = _call(candidate, client, sent, "POST", racy.url + "/", 2)
        why = (
            "Retry only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS). The server may "
            "have received and acted on the POST before the connection closed: sending it "
            "again could do it twice. Re-raise the error for a POST."
        )
        if outcome.tries > 1:
            fail(
                f"On {what}, send_with_retry sent it {outcome.tries} times: it retried a POST.", why
            )
        _expect_error(outcome, what, httpx.RemoteProtocolError, why)


def _read_timeout(candidate: SendWithRetry, plain: LabServer) -> None:
    """Scenario 4: a read timeout is raised, never retried: the server is still working."""
    sent: list[httpx.Request] = []
    timeout = httpx.Timeout(5.0, read=READ_TIMEOUT)
    with httpx.Client(**plain.client_kwargs(), timeout=timeout, **recorder(sent)) as client:
        what = f"a GET that took longer than the client's read timeout ({READ_TIMEOUT:g} s)"
        outcome = _call(candidate, client, sent, "GET", plain.url + SLOW, 2)
        why = (
            "Don't retry a timeout: the server got the request and may still be working on "
            "it, and waiting again doubles the wait. Catch only httpx.RemoteProtocolError "
            "and httpx.ConnectError, not httpx.TransportError or httpx.HTTPError."
        )
        if outcome.tries > 1:
            fail(
                f"On {what}, send_with_retry sent it {outcome.tries} times: it retried a "
                "read timeout.",
                why,
            )
        _expect_error(outcome, what, httpx.ReadTimeout, why)


def _stale_put(candidate: SendWithRetry, racy: LabServer) -> None:
    """Scenario 5: PUT is idempotent too, so it is retried (the lab server answers it 501)."""
    sent: list[httpx.Request] = []
    with _stale_client(racy, sent) as client:
        what = "a PUT whose pooled connection the server closed as it arrived"
        outcome = _call(candidate, client, sent, "PUT", racy.url + "/", 2)
        if outcome.error is not None:
            fail(
                f"On {what}, send_with_retry raised {outcome.error_text} after "
                f"{outcome.tries} try: PUT is idempotent, so it may be retried.",
                "Retry every idempotent method: GET, HEAD, PUT, DELETE, OPTIONS (sending the "
                "same PUT twice leaves the same result as once).",
            )
        _expect_response(outcome, what, 501)  # the lab server doesn't implement PUT: fine here


def _connect_refused(candidate: SendWithRetry) -> None:
    """Scenario 6: a connect that fails is retried, up to `attempts` tries in all."""
    sent: list[httpx.Request] = []
    url = _closed_port_url()
    with httpx.Client(verify=plain_trust(), **recorder(sent)) as client:
        what = "a GET to a port where nothing listens, with attempts=3"
        outcome = _call(candidate, client, sent, "GET", url, 3)
        if outcome.tries > 3:
            fail(
                f"On {what}, send_with_retry made {outcome.tries} tries: more than attempts.",
                "`attempts` counts every try, the first included: range(attempts) tries "
                "`attempts` times.",
            )
        if outcome.tries < 3:
            fail(
                f"On {what}, send_with_retry made {outcome.tries} of the 3 tries allowed.",
                "A connect that failed sent nothing to the server: retry it (for an "
                "idempotent method), up to `attempts` tries in all, not a fixed number.",
            )
        _expect_error(
            outcome, what, httpx.ConnectError, "After the last try, let the error out: `raise` it."
        )


def _connect_refused_post(candidate: SendWithRetry) -> None:
    """Scenario 8: a POST is not retried, even after a connect failure."""
    sent: list[httpx.Request] = []
    url = _closed_port_url()
    with httpx.Client(verify=plain_trust(), **recorder(sent)) as client:
        what = "a POST to a port where nothing listens, with attempts=3"
        outcome = _call(candidate, client, sent, "POST", url, 3)
        why = (
            "Retry only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS), whatever the "
            "error: check the method first, then the error. Re-raise the error for a POST."
        )
        if outcome.tries > 1:
            fail(
                f"On {what}, send_with_retry made {outcome.tries} tries: it retried a POST.",
                why,
            )
        _expect_error(outcome, what, httpx.ConnectError, why)


def _one_attempt(candidate: SendWithRetry, racy: LabServer) -> None:
    """Scenario 7: attempts=1 means one try: the error is raised at once."""
    sent: list[httpx.Request] = []
    with _stale_client(racy, sent) as client:
        what = "a GET on a stale connection with attempts=1"
        outcome = _call(candidate, client, sent, "GET", racy.url + "/", 1)
        why = "`attempts` counts every try, the first included: attempts=1 means no retry."
        if outcome.tries > 1:
            fail(f"On {what}, send_with_retry made {outcome.tries} tries.", why)
        _expect_error(outcome, what, httpx.RemoteProtocolError, why)


@exercise_check
def check_send_with_retry(candidate: SendWithRetry) -> str:
    """`send_with_retry(client, method, url, *, attempts=2)`: one more try, only when safe."""
    if not callable(candidate):
        fail(
            f"check_send_with_retry needs the function itself, not {kind(candidate)}.",
            "Call check_send_with_retry(send_with_retry): the function, without calling it.",
        )
    with CheckServer(idle_timeout=IDLE, staged_race=True) as racy, CheckServer() as plain:
        _stale_get(candidate, racy)
        _status_503(candidate, plain)
        _stale_post(candidate, racy)
        _read_timeout(candidate, plain)
        _stale_put(candidate, racy)
        _connect_refused(candidate)
        _one_attempt(candidate, racy)
        _connect_refused_post(candidate)
    return (
        "send_with_retry works: a stale connection or a failed connect is tried again, on "
        "the client you were given, for idempotent methods only and at most `attempts` "
        "times; responses, POSTs and read timeouts go back to the caller as they are."
    )

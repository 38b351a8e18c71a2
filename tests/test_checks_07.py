"""Lesson 07's check passes right answers in several styles and rejects the usual wrong ones."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from labkit import LabServer
from labkit.checks import check_send_with_retry
from tests.verdicts import assert_diagnosed, in_httpx2, in_libraries, load_solution
from tests.verdicts import verdict as _verdict

send_with_retry = load_solution("07_send_with_retry", "send_with_retry")
IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")


@pytest.mark.parametrize("library", ["httpx", "httpx2"])
def test_solution_passes(library: str, capfd: pytest.CaptureFixture[str]) -> None:
    solution = load_solution("07_send_with_retry", "send_with_retry", library=library)
    passed, out = _verdict(check_send_with_retry, solution, capfd)
    assert passed, out
    assert out.startswith("✅ send_with_retry works")


def test_the_solution_retries_the_staged_race_on_a_fresh_connection() -> None:
    """What the check relies on, seen from the server: the race, then one new connection."""
    with LabServer(idle_timeout=0.1, staged_race=True) as racy, httpx.Client() as client:
        client.get(racy.url + "/")
        time.sleep(0.15)
        response = send_with_retry(client, "GET", racy.url + "/")
        assert response.status_code == 200
        assert [c.reason for c in racy.connections] == ["staged race", ""]


# Right answers, in other styles.


def while_loop(client: httpx.Client, method: str, url: str, *, attempts: int = 2) -> httpx.Response:
    tries = 0
    while True:
        tries += 1
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT or tries >= attempts:
                raise


def recursive(client: httpx.Client, method: str, url: str, *, attempts: int = 2) -> httpx.Response:
    try:
        return client.send(client.build_request(method, url))
    except httpx.TransportError as exc:
        retryable = isinstance(
            exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.ConnectError
        )
        if retryable and method.upper() in IDEMPOTENT and attempts > 1:
            return recursive(client, method, url, attempts=attempts - 1)
        raise


def last_error_kept(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    error: Exception | None = None
    for _ in range(attempts):
        try:
            return client.request(method, url)
        except (
            httpx.RemoteProtocolError,
            httpx.ReadError,
            httpx.ConnectError,
            httpx.ConnectTimeout,
        ) as exc:
            if method not in IDEMPOTENT:
                raise
            error = exc
    assert error is not None
    raise error


RIGHT = {f.__name__: f for f in (while_loop, recursive, last_error_kept)}


@pytest.mark.parametrize(("name", "library"), in_libraries(list(RIGHT), {"while_loop"}))
def test_other_right_styles_pass(
    name: str, library: str, capfd: pytest.CaptureFixture[str]
) -> None:
    answer = in_httpx2(RIGHT[name]) if library == "httpx2" else RIGHT[name]
    passed, out = _verdict(check_send_with_retry, answer, capfd)
    assert passed, out


def network_errors(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.NetworkError):  # + WriteError, CloseError
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def test_catching_network_error_passes(capfd: pytest.CaptureFixture[str]) -> None:
    """Decided (H19b, walker's report): httpx.NetworkError adds WriteError and CloseError to
    ReadError and ConnectError: a connection that broke, as the prompt's three say, so
    safe to retry for an idempotent method; unlike a timeout or a bad URL, it is accepted."""
    passed, out = _verdict(check_send_with_retry, network_errors, capfd)
    assert passed, out


# Wrong answers, each as a learner might write it.


def no_retry(client: httpx.Client, method: str, url: str, *, attempts: int = 2) -> httpx.Response:
    return client.request(method, url)


def retries_everything(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.request(method, url)
        except httpx.HTTPError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def retries_a_post(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):  # any method
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def retries_a_post_after_a_connect_failure(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.request(method, url)
        except httpx.ConnectError:  # "nothing was sent, so any method is safe"
            if attempt == attempts - 1:
                raise
        except (httpx.RemoteProtocolError, httpx.ReadError):
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def retries_a_503(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    response = send_with_retry(client, method, url, attempts=attempts)
    for _ in range(attempts - 1):
        if response.status_code < 500:
            break
        response = client.request(method, url)
    return response  # type: ignore[no-any-return]


def new_client_per_attempt(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            with httpx.Client() as own:
                response = own.request(method, url)
                response.read()
                return response
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def new_client_for_the_retry(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    try:
        return client.request(method, url)
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
        if method not in IDEMPOTENT or attempts < 2:
            raise
        with httpx.Client() as fresh:  # "a clean client will do it"
            return send_with_retry(fresh, method, url, attempts=attempts - 1)  # type: ignore[no-any-return]


def one_try_too_many(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts + 1):  # "attempts retries"
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == attempts:
                raise
    raise AssertionError("unreachable")


def always_one_retry(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    try:
        return client.request(method, url)
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
        if method not in IDEMPOTENT:
            raise
        return client.request(method, url)


def retries_a_read_timeout(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.request(method, url)
        except httpx.TransportError:  # timeouts included
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def only_get(client: httpx.Client, method: str, url: str, *, attempts: int = 2) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method != "GET" or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def raises_for_status(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    response: httpx.Response = send_with_retry(client, method, url, attempts=attempts)
    return response.raise_for_status()


def closes_the_client(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    with client:
        return send_with_retry(client, method, url, attempts=attempts)  # type: ignore[no-any-return]


def returns_the_body(client: httpx.Client, method: str, url: str, *, attempts: int = 2) -> str:
    return send_with_retry(client, method, url, attempts=attempts).text  # type: ignore[no-any-return]


def stub(client: httpx.Client, method: str, url: str, *, attempts: int = 2) -> httpx.Response:
    raise NotImplementedError


def returns_an_unread_stream(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.send(client.build_request(method, url), stream=True)  # never read
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def retries_every_transport_error_but_timeouts(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.request(method, url)
        except httpx.TimeoutException:
            raise
        except httpx.TransportError:  # "anything else is the connection"
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def always_get(client: httpx.Client, method: str, url: str, *, attempts: int = 2) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.get(url)  # the method is forgotten
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def one_try_short(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(1, attempts):  # one try fewer than `attempts`
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
    raise httpx.ConnectError("no try left")


def only_the_fin_face(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ConnectError):  # not ReadError: the reset face
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def stub_then_more(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    if method != "GET":
        raise NotImplementedError("other methods")  # code of its own around it: not "Not yet"
    return send_with_retry(client, method, url, attempts=attempts)  # type: ignore[no-any-return]


def flushes_the_pool(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
            client._transport.close()  # "flush the pool": every connection in it goes
    raise AssertionError("unreachable")


def closes_it_after(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    try:
        return send_with_retry(client, method, url, attempts=attempts)  # type: ignore[no-any-return]
    finally:
        client.close()  # the caller's client


def swallows_the_last_error(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == attempts - 1:
                return httpx.Response(503, request=httpx.Request(method, url))  # made up
    raise AssertionError("unreachable")


def answers_for_the_server(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    """No retry at all: a failure becomes a 503 of its own ("the service is unavailable")."""
    try:
        return client.request(method, url)
    except httpx.TransportError:
        return httpx.Response(503, request=httpx.Request(method, url))


def asks_for_another_path(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    """Builds its own URL (an "index" path): the server answers 404 for a path it doesn't serve."""
    for attempt in range(attempts):
        try:
            return client.request(method, url.rstrip("/") + "/index")
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def closes_before_the_retry(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
            client.close()  # "drop the broken connection": the whole client goes
    raise AssertionError("unreachable")


def retries_instead_of_attempts(
    client: httpx.Client, method: str, url: str, retries: int = 1
) -> httpx.Response:
    for attempt in range(retries + 1):  # the keyword the caller passes is `attempts`
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == retries:
                raise
    raise AssertionError("unreachable")


def raises_an_error_the_retry_got_past(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    error: Exception | None = None
    for _ in range(attempts):
        try:
            response = client.request(method, url)  # no return: the loop goes on
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError) as exc:
            if method not in IDEMPOTENT:
                raise
            error = exc  # kept, even once a later try gets the answer
    if error is not None:
        raise error
    return response


def retries_in_the_except_block_too(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for attempt in range(attempts):
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
            client.request(method, url)  # "try again": its answer dropped, the loop sends again
    raise AssertionError("unreachable")


def falls_off_the_loop(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    for _ in range(attempts):
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT:
                raise
    return None  # type: ignore[return-value]  # every try failed: the error is lost


def at_least_one_retry(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    tries = max(attempts, 2)  # "attempts=1 would be no retry at all"
    for attempt in range(tries):
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


WRONG: dict[str, tuple[Any, str, list[str]]] = {
    # name: (answer, the mistake it must get, evidence the verdict must say)
    "no retry": (no_retry, "07.no-retry", ["(a FIN)"]),
    "retries everything": (retries_everything, "07.post-retried", ["it retried a POST"]),
    "retries a POST": (retries_a_post, "07.post-retried", []),
    "retries a 503": (retries_a_503, "07.retried-response", ["2 times"]),
    "a new client per attempt": (new_client_per_attempt, "07.own-client", []),
    "a new client for the retry": (new_client_for_the_retry, "07.own-client", []),
    "one try too many": (one_try_too_many, "07.too-many-tries", ["4 tries"]),
    "always one retry": (always_one_retry, "07.too-few-tries", ["2 of the 3"]),
    "retries a POST after a connect failure": (
        retries_a_post_after_a_connect_failure,
        "07.post-connect-retried",
        ["3 tries"],
    ),
    "retries a read timeout": (retries_a_read_timeout, "07.timeout-retried", []),
    "only GET": (only_get, "07.put-not-retried", []),
    "raise_for_status": (raises_for_status, "07.raise-for-status", []),
    "closes the client": (closes_the_client, "07.opened-given", []),
    "returns the body": (returns_the_body, "07.not-a-response", ["a str"]),
    "stub": (stub, "kernel.not-yet", []),
    # Kinds accepted or misdiagnosed before the catalogue (issue 19):
    "returns an unread stream": (returns_an_unread_stream, "07.unread-stream", []),
    "retries errors the prompt rules out": (
        retries_every_transport_error_but_timeouts,
        "07.other-error-retried",
        ["3 tries"],
    ),
    "sends GET for every method": (always_get, "07.wrong-method", ["sent GET, not POST"]),
    "range(1, attempts)": (one_try_short, "07.one-try-short", []),
    "only the FIN face of the race": (only_the_fin_face, "07.no-retry", ["(a reset)"]),
    "NotImplementedError past the stub": (stub_then_more, "07.error", []),
    "not the function": (None, "kernel.needs-function", []),
    # Accepted before the walker's report (H19b):
    "empties the pool before the retry": (flushes_the_pool, "07.pool-emptied", []),
    # Misjudged held-out answers (heldout2: 07_W10, 07_W11):
    "closes the client after the call": (closes_it_after, "07.closed-client", ["'GET'"]),
    "swallows the last error": (swallows_the_last_error, "07.error-swallowed", ["status 503"]),
    "answers for the server": (answers_for_the_server, "07.error-swallowed", ["returned a 503"]),
    "another path": (asks_for_another_path, "07.wrong-status", ["returned a 404"]),
    # Ids no test reached before (coverage run):
    "closes the client before the retry": (
        closes_before_the_retry,
        "07.closed-given",
        ["client has been closed"],
    ),
    "retries= for attempts=": (retries_instead_of_attempts, "07.signature", ["'attempts'"]),
    "raises an error the retry got past": (
        raises_an_error_the_retry_got_past,
        "07.raised",
        ["raised httpx.RemoteProtocolError"],
    ),
    "retries in the except block too": (
        retries_in_the_except_block_too,
        "07.extra-tries",
        ["sent 3 requests"],
    ),
    "falls off the loop after the last try": (falls_off_the_loop, "07.last-error", ["None"]),
    "at least one retry": (at_least_one_retry, "07.one-attempt", ["made 2 tries"]),
}
IN_HTTPX2 = ["no retry", "retries a POST", "retries a read timeout", "returns an unread stream"]
IN_HTTPX2 += ["range(1, attempts)", "only the FIN face of the race", "one try too many"]
IN_HTTPX2 += ["closes the client after the call", "swallows the last error"]
IN_HTTPX2 += ["closes the client before the retry", "falls off the loop after the last try"]


@pytest.mark.parametrize(("name", "library"), in_libraries(list(WRONG), IN_HTTPX2))
def test_wrong_answers_are_rejected(
    name: str, library: str, capfd: pytest.CaptureFixture[str]
) -> None:
    answer, mistake, evidence = WRONG[name]
    if library == "httpx2":
        answer = in_httpx2(answer)
    assert_diagnosed(check_send_with_retry, answer, mistake, capfd, evidence)

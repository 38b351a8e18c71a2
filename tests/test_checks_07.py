"""Lesson 07's check passes right answers in several styles and rejects the usual wrong ones."""

from __future__ import annotations

import time

import httpx
import pytest

from labkit import LabServer
from labkit.checks import check_send_with_retry
from tests.verdicts import assert_rejected, load_solution
from tests.verdicts import verdict as _verdict

send_with_retry = load_solution("07_send_with_retry", "send_with_retry")
IDEMPOTENT = ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")


def test_solution_passes(capfd: pytest.CaptureFixture[str]) -> None:
    passed, out = _verdict(check_send_with_retry, send_with_retry, capfd)
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
        except (httpx.RemoteProtocolError, httpx.ConnectError):
            if method not in IDEMPOTENT or tries >= attempts:
                raise


def recursive(client: httpx.Client, method: str, url: str, *, attempts: int = 2) -> httpx.Response:
    try:
        return client.send(client.build_request(method, url))
    except httpx.TransportError as exc:
        retryable = isinstance(exc, httpx.RemoteProtocolError | httpx.ConnectError)
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
        except (httpx.RemoteProtocolError, httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if method not in IDEMPOTENT:
                raise
            error = exc
    assert error is not None
    raise error


@pytest.mark.parametrize(
    "answer", [while_loop, recursive, last_error_kept], ids=lambda f: f.__name__
)
def test_other_right_styles_pass(answer: object, capfd: pytest.CaptureFixture[str]) -> None:
    passed, out = _verdict(check_send_with_retry, answer, capfd)
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
        except (httpx.RemoteProtocolError, httpx.ConnectError):  # any method
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
        except httpx.RemoteProtocolError:
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
        except (httpx.RemoteProtocolError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def new_client_for_the_retry(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    try:
        return client.request(method, url)
    except (httpx.RemoteProtocolError, httpx.ConnectError):
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
        except (httpx.RemoteProtocolError, httpx.ConnectError):
            if method not in IDEMPOTENT or attempt == attempts:
                raise
    raise AssertionError("unreachable")


def always_one_retry(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    try:
        return client.request(method, url)
    except (httpx.RemoteProtocolError, httpx.ConnectError):
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
        except (httpx.RemoteProtocolError, httpx.ConnectError):
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


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (no_retry, ["GET", "no retry", "RemoteProtocolError"]),
        (retries_everything, ["retried a POST"]),
        (retries_a_post, ["retried a POST", "idempotent"]),
        (retries_a_503, ["/status/503", "2 times"]),
        (new_client_per_attempt, ["client it was given"]),
        (new_client_for_the_retry, ["client it was given"]),
        (one_try_too_many, ["4 tries", "more than attempts"]),
        (always_one_retry, ["2 of the 3 tries", "for an idempotent method"]),
        (
            retries_a_post_after_a_connect_failure,
            ["a POST to a port where nothing listens", "3 tries: it retried a POST", "idempotent"],
        ),
        (retries_a_read_timeout, ["retried a read timeout"]),
        (only_get, ["PUT is idempotent"]),
        (raises_for_status, ["HTTPStatusError", "as it is"]),
        (closes_the_client, ["already open"]),
        (returns_the_body, ["a str", "httpx.Response"]),
        (stub, ["Not yet"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_wrong_answers_are_rejected(
    answer: object, words: list[str], capfd: pytest.CaptureFixture[str]
) -> None:
    assert_rejected(check_send_with_retry, answer, words, capfd)


def test_the_check_needs_the_function_itself(capfd: pytest.CaptureFixture[str]) -> None:
    assert_rejected(check_send_with_retry, None, ["the function itself"], capfd)

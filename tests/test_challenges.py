"""The challenges of lessons 01-05: each check accepts its solution and right answers in other
styles, rejects the wrong answers a learner is likely to write (with the words that teach), and
steps its hints: the second failure of a kind adds a pointer to the notebook."""

from __future__ import annotations

import asyncio
import contextvars
import copy
import functools
import itertools
import re
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from labkit.checks import (
    challenge01,
    challenge02,
    check_linkcheck,
    check_loop_clients,
    check_size_for_service,
    check_two_hosts,
    check_with_options,
)
from labkit.checks._catalogue import MISTAKES
from labkit.checks._kernel import last_mistake, reset_repeats
from labkit.server import ConnectionRecord, LabServer, RequestRecord, plain_trust
from tests.libraries import httpx_only, stage_pool_race
from tests.verdicts import assert_diagnosed, assert_rejected, load_solution, verdict

# Wrong answers' own clients pass verify=plain_trust(): tests/verdicts.py says why.

POINTER = "Still stuck?"


@pytest.fixture(autouse=True)
def fresh_hint_steps() -> Iterator[None]:
    reset_repeats()
    yield
    reset_repeats()


def accepted(check: Callable[[Any], bool], answer: Any, capsys: pytest.CaptureFixture[str]) -> str:
    passed, out = verdict(check, answer, capsys)
    assert passed, out
    return out


def rejected_twice(
    check: Callable[[Any], bool], answer: Any, words: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[str, str]:
    """A first ❌ without the pointer, the same ❌ again with it."""
    first = assert_rejected(check, answer, words, capsys)
    assert POINTER not in first, first
    second = assert_rejected(check, answer, words + [POINTER], capsys)
    return first, second


# --- 01: find and fix the lifetime bug in linkcheck ---------------------------------------------


class Linkcheck:
    """The teammate's module of Challenge 1.2, as a class: each function a method, so a learner's
    edit is a subclass overriding one of them. The answer checked is `Linkcheck().check_links`."""

    def check_links(self, client: httpx.Client, urls: list[str]) -> dict[str, str]:
        return {url: self.describe_status(self.status_of(client, url)) for url in urls}

    def describe_status(self, status: int) -> str:
        return "ok" if status < 400 else f"broken ({status})"

    def status_of(self, client: httpx.Client, url: str) -> int:
        response = client.get(url)
        if response.status_code >= 500:
            return self.retry_once(client, url)
        return response.status_code

    def retry_once(self, client: httpx.Client, url: str) -> int:
        response = client.get(url)
        if response.status_code >= 500:
            self.forget_broken_connections(client)
        return response.status_code

    def forget_broken_connections(self, client: httpx.Client) -> None:
        client.close()  # the bug: the client is the caller's


class HelperEmptied(Linkcheck):
    """The fix: the helper does nothing (httpx does it itself)."""

    def forget_broken_connections(self, client: httpx.Client) -> None:
        pass


class CallRemoved(Linkcheck):
    """The fix: the helper is no longer called."""

    def retry_once(self, client: httpx.Client, url: str) -> int:
        return client.get(url).status_code


class LoopStyle(HelperEmptied):
    def check_links(self, client: httpx.Client, urls: list[str]) -> dict[str, str]:
        report = {}
        for url in urls:
            report[url] = self.describe_status(self.status_of(client, url))
        return report


def test_01_solution_passes(capsys: pytest.CaptureFixture[str]) -> None:
    out = accepted(check_linkcheck, load_solution("01_linkcheck", "check_links"), capsys)
    assert "one TCP connection" in out


@pytest.mark.parametrize("answer", [CallRemoved, HelperEmptied, LoopStyle])
def test_01_right_answers_in_other_styles(
    answer: type[Linkcheck], capsys: pytest.CaptureFixture[str]
) -> None:
    accepted(check_linkcheck, answer().check_links, capsys)


def test_01_the_original_module_is_not_yet_and_points_at_the_retry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    evidence = ["❌ Not yet:", "Cannot send a request", "second GET of /status/503", "(a retry)"]
    first = assert_diagnosed(
        check_linkcheck, Linkcheck().check_links, "c1.closed", capsys, evidence
    )
    second = assert_diagnosed(check_linkcheck, Linkcheck().check_links, "c1.closed", capsys)
    assert POINTER not in first and POINTER in second
    assert "section “4.2" in second


class WithInCheckLinks(HelperEmptied):
    def check_links(self, client: httpx.Client, urls: list[str]) -> dict[str, str]:
        with client:
            return super().check_links(client, urls)


class FinallyClose(HelperEmptied):
    def check_links(self, client: httpx.Client, urls: list[str]) -> dict[str, str]:
        try:
            return super().check_links(client, urls)
        finally:
            client.close()


class SwallowAndNewClient(Linkcheck):
    """The bug kept; its error caught: "the client is closed? use a fresh one"."""

    def status_of(self, client: httpx.Client, url: str) -> int:
        try:
            response = client.get(url)
        except RuntimeError:
            with httpx.Client(verify=plain_trust()) as fresh:
                response = fresh.get(url)
        if response.status_code >= 500:
            return self.retry_once(client, url)
        return response.status_code


def test_01_the_hang_up_follows_its_own_connections_last_answer() -> None:
    """Staged: the server noticed connection 1's hang-up late, after connection 2 (the fresh
    client of an answer that swallows the error) had its answer. Seen beside the browser tests:
    the evidence named connection 2's GET, not the 503 whose retry closed the client."""

    class NoticedLate:
        requests = [
            RequestRecord(1, 5001, "/", 200, 0.5, 0.6),
            RequestRecord(1, 5001, "/status/503", 503, 0.9, 1.0),
            RequestRecord(2, 5002, "/status/404", 404, 1.02, 1.05),
        ]
        connections = [
            ConnectionRecord(1, 5001, 0.4, closed=1.1, closed_by="client"),
            ConnectionRecord(2, 5002, 1.01),
        ]

        def wait_until_closed(self, timeout: float) -> bool:
            return False

    said = challenge01._close_evidence(cast(LabServer, NoticedLate()))
    assert "right after it answered the first GET of /status/503, 2 requests into" in said, said


class RetryRemoved(Linkcheck):
    def status_of(self, client: httpx.Client, url: str) -> int:
        return client.get(url).status_code


class RetryOnAFreshClient(HelperEmptied):
    def retry_once(self, client: httpx.Client, url: str) -> int:
        with httpx.Client(verify=plain_trust()) as fresh:  # "retry on a fresh connection"
            return fresh.get(url).status_code


class PoolEmptied(Linkcheck):
    def forget_broken_connections(self, client: httpx.Client) -> None:
        client._transport.close()


class RetryIgnored(HelperEmptied):
    """The retry is sent, but the first answer is kept (accepted before H19b's report)."""

    def status_of(self, client: httpx.Client, url: str) -> int:
        response = client.get(url)
        if response.status_code >= 500:
            self.retry_once(client, url)
        return response.status_code


class StatusCodesReturned(HelperEmptied):
    def check_links(self, client: httpx.Client, urls: list[str]) -> dict[str, str]:
        return {url: self.status_of(client, url) for url in urls}  # type: ignore[misc]


class ResultsReversed(HelperEmptied):
    def check_links(self, client: httpx.Client, urls: list[str]) -> dict[str, str]:
        return super().check_links(client, urls[::-1])


class StubCheckLinks(Linkcheck):
    """The exercise's placeholder, before the teammate's module is loaded into its cell."""

    def check_links(self, client: httpx.Client, urls: list[str]) -> dict[str, str]:
        raise NotImplementedError


class WithAroundTheRetry(HelperEmptied):
    """close() swapped for a `with client:` around the retry ("the with closes it properly"):
    the client is open already, so the `with` itself raises."""

    def retry_once(self, client: httpx.Client, url: str) -> int:
        with client:
            return client.get(url).status_code


class RaisesForStatus(HelperEmptied):
    """raise_for_status() added "to catch errors early": the first 503 raises, never retried."""

    def status_of(self, client: httpx.Client, url: str) -> int:
        response = client.get(url)
        response.raise_for_status()
        return response.status_code


class ListOfDescriptions(HelperEmptied):
    """A list comprehension where the dict comprehension was: the statuses, without their urls."""

    def check_links(self, client: httpx.Client, urls: list[str]) -> dict[str, str]:
        statuses = [self.describe_status(self.status_of(client, url)) for url in urls]
        return statuses  # type: ignore[return-value]


class KeepsEarlierLinks(HelperEmptied):
    """One report for the module's whole life (a module-level dict): each call's answer holds
    every link any earlier call was asked about too."""

    def __init__(self) -> None:
        self.report: dict[str, str] = {}

    def check_links(self, client: httpx.Client, urls: list[str]) -> dict[str, str]:
        for url in urls:
            self.report[url] = self.describe_status(self.status_of(client, url))
        return self.report


@pytest.mark.parametrize(
    ("answer", "mistake", "evidence"),
    [
        (WithInCheckLinks, "c1.left-closed", []),
        (FinallyClose, "c1.left-closed", []),
        (SwallowAndNewClient, "c1.closed", ["hang up right after", "/status/503"]),
        (RetryRemoved, "c1.retry", ["1 GET of /status/503, not 2"]),
        (RetryOnAFreshClient, "c1.not-on-client", []),
        (PoolEmptied, "c1.connections", ["new TCP connections"]),
        (RetryIgnored, "c1.retry-ignored", ["/flaky/502", "'broken (502)', not 'ok'"]),
        (StatusCodesReturned, "c1.wrong-result", ["said 200, not 'ok'"]),
        (ResultsReversed, "c1.order", ["first /status/201", "starts with /status/200"]),
        (StubCheckLinks, "c1.not-yet", ["Not yet:"]),
        (WithAroundTheRetry, "c1.with", ["Cannot open a client instance more than once"]),
        (RaisesForStatus, "c1.error", ["httpx.HTTPStatusError", "503"]),
        (ListOfDescriptions, "c1.not-a-dict", ["returned a list"]),
        (KeepsEarlierLinks, "c1.extra-links", []),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_01_wrong_answers_are_rejected(
    answer: type[Linkcheck], mistake: str, evidence: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert_diagnosed(check_linkcheck, answer().check_links, mistake, capsys, evidence)


def test_01_the_module_given_whole_is_not_the_function(capsys: pytest.CaptureFixture[str]) -> None:
    """`check_linkcheck(linkcheck)`: the teammate's module (here the class's instance), not its
    check_links, must be named as such, not fail inside the check."""
    evidence = ["not a HelperEmptied object"]
    assert_diagnosed(check_linkcheck, HelperEmptied(), "c1.not-the-function", capsys, evidence)


def test_01_the_pointer_comes_with_the_second_failure_of_a_kind_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = assert_diagnosed(check_linkcheck, Linkcheck().check_links, "c1.closed", capsys)
    other = assert_diagnosed(check_linkcheck, RetryRemoved().check_links, "c1.retry", capsys)
    assert POINTER not in first and POINTER not in other  # two kinds, once each
    again = assert_diagnosed(check_linkcheck, Linkcheck().check_links, "c1.closed", capsys)
    assert POINTER in again and "section “4.2" in again
    accepted(check_linkcheck, load_solution("01_linkcheck", "check_links"), capsys)
    after_a_pass = assert_diagnosed(check_linkcheck, Linkcheck().check_links, "c1.closed", capsys)
    assert POINTER not in after_a_pass  # a pass forgets


# --- 02: two hosts, a limit for each -------------------------------------------------------------


def _host_of(limits: dict[str, int], url: str) -> str:
    return next(base for base in limits if url.startswith(base + "/"))


def per_host_semaphores(urls: list[str], limits: dict[str, int]) -> list[str]:
    """One client, one pool as big as the job, a semaphore per host."""
    gates = {base: threading.Semaphore(limit) for base, limit in limits.items()}
    with httpx.Client(verify=plain_trust()) as client:

        def fetch(url: str) -> str:
            with gates[_host_of(limits, url)]:
                return client.get(url).text

        with ThreadPoolExecutor(max_workers=len(urls)) as pool:
            return list(pool.map(fetch, urls))


def client_per_host_with_limits(urls: list[str], limits: dict[str, int]) -> list[str]:
    """A client per host, its pool capped at the host's limit; one thread pool for all."""
    with ExitStack() as stack:
        clients = {
            base: stack.enter_context(
                httpx.Client(
                    limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
                )
            )
            for base, limit in limits.items()
        }
        with ThreadPoolExecutor(max_workers=sum(limits.values())) as pool:
            return list(pool.map(lambda url: clients[_host_of(limits, url)].get(url).text, urls))


def pool_and_client_per_host(urls: list[str], limits: dict[str, int]) -> list[str]:
    """A client and a thread pool per host, results put back in order by index."""
    bodies: list[str] = [""] * len(urls)
    with ExitStack() as stack:
        for base, limit in limits.items():
            client = stack.enter_context(httpx.Client(verify=plain_trust()))
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=limit))
            mine = [i for i, url in enumerate(urls) if _host_of(limits, url) == base]
            for i, body in zip(
                mine,
                pool.map(lambda u, c=client: c.get(u).text, [urls[i] for i in mine]),
                strict=True,
            ):
                bodies[i] = body
    return bodies


def test_02_solution_passes(capsys: pytest.CaptureFixture[str]) -> None:
    accepted(check_two_hosts, load_solution("02_two_hosts", "fetch_from_hosts"), capsys)


@pytest.mark.parametrize(
    "answer", [per_host_semaphores, client_per_host_with_limits, pool_and_client_per_host]
)
def test_02_right_answers_in_other_styles(answer: Any, capsys: pytest.CaptureFixture[str]) -> None:
    accepted(check_two_hosts, answer, capsys)


@httpx_only("httpx2's pool keeps a snapshot of the connections it may give out: no such race")
def test_02_a_connection_replaced_by_the_pools_own_race_is_no_mistake(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Staged: host A's own client, capped at A's limit of 3, gets requests from 5 workers, so
    they queue in its pool, where httpcore 1.0.9 can replace a connection in a race of its own
    (tests/libraries.py): 4 opened, never more than 3 at once. The answer still passes."""
    raced = stage_pool_race(monkeypatch, capped_at=3)
    passed, out = verdict(check_two_hosts, client_per_host_with_limits, capsys)
    assert raced and passed, out


def one_pool_for_both(urls: list[str], limits: dict[str, int]) -> list[str]:
    with (
        httpx.Client(verify=plain_trust()) as client,
        ThreadPoolExecutor(max_workers=sum(limits.values())) as pool,
    ):
        return list(pool.map(lambda url: client.get(url).text, urls))


def client_per_request(urls: list[str], limits: dict[str, int]) -> list[str]:
    def fetch(url: str) -> str:
        with httpx.Client(verify=plain_trust()) as own:
            return own.get(url).text

    with ExitStack() as stack:
        pools = {
            base: stack.enter_context(ThreadPoolExecutor(max_workers=limit))
            for base, limit in limits.items()
        }
        futures = [pools[_host_of(limits, url)].submit(fetch, url) for url in urls]
    return [future.result() for future in futures]


_MODULE_CLIENT: dict[str, httpx.Client] = {}


def module_client_never_closed(urls: list[str], limits: dict[str, int]) -> list[str]:
    client = _MODULE_CLIENT.setdefault("client", httpx.Client(verify=plain_trust()))
    with ExitStack() as stack:
        pools = {
            base: stack.enter_context(ThreadPoolExecutor(max_workers=limit))
            for base, limit in limits.items()
        }
        futures = [pools[_host_of(limits, url)].submit(client.get, url) for url in urls]
    return [future.result().text for future in futures]


def one_at_a_time(urls: list[str], limits: dict[str, int]) -> list[str]:
    with httpx.Client(verify=plain_trust()) as client:
        return [client.get(url).text for url in urls]


def grouped_by_host(urls: list[str], limits: dict[str, int]) -> list[str]:
    bodies: list[str] = []
    with httpx.Client(verify=plain_trust()) as client:
        for base, limit in limits.items():
            with ThreadPoolExecutor(max_workers=limit) as pool:
                bodies += pool.map(
                    lambda url: client.get(url).text,
                    [url for url in urls if url.startswith(base + "/")],
                )
    return bodies


def pools_outlive_the_client(urls: list[str], limits: dict[str, int]) -> list[str]:
    pools = {base: ThreadPoolExecutor(max_workers=limit) for base, limit in limits.items()}
    with httpx.Client(verify=plain_trust()) as client:
        futures = [pools[_host_of(limits, url)].submit(client.get, url) for url in urls]
    for pool in pools.values():
        pool.shutdown(wait=True)
    return [future.result().text for future in futures]


def base_without_the_port(urls: list[str], limits: dict[str, int]) -> list[str]:
    """A semaphore per host, each URL's host worked out as scheme://host: without the port that
    limits' keys carry, the look-up raises KeyError."""
    gates = {base: threading.Semaphore(limit) for base, limit in limits.items()}

    def fetch(url: str) -> str:
        parts = httpx.URL(url)
        with gates[f"{parts.scheme}://{parts.host}"]:
            return client.get(url).text

    with (
        httpx.Client(verify=plain_trust()) as client,
        ThreadPoolExecutor(max_workers=len(urls)) as pool,
    ):
        return list(pool.map(fetch, urls))


def semaphores_and_connection_close(urls: list[str], limits: dict[str, int]) -> list[str]:
    """A semaphore per host on one client, right, but the client sends `Connection: close`
    ("so that no connection is left open"): each request opens a connection of its own."""
    gates = {base: threading.Semaphore(limit) for base, limit in limits.items()}

    def fetch(url: str) -> str:
        with gates[_host_of(limits, url)]:
            return client.get(url).text

    with (
        httpx.Client(headers={"Connection": "close"}) as client,
        ThreadPoolExecutor(max_workers=len(urls)) as pool,
    ):
        return list(pool.map(fetch, urls))


@pytest.mark.parametrize(
    ("answer", "mistake"),
    [
        (one_pool_for_both, "c2.over"),
        (client_per_request, "c2.connections"),
        (module_client_never_closed, "c2.open"),
        (one_at_a_time, "c2.serial"),
        (grouped_by_host, "c2.grouped"),
        (pools_outlive_the_client, "c2.closed"),
        (base_without_the_port, "c2.error"),
        (semaphores_and_connection_close, "c2.connection-close"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_02_wrong_answers_are_rejected(
    answer: Any, mistake: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        assert_diagnosed(check_two_hosts, answer, mistake, capsys)
    finally:
        if "client" in _MODULE_CLIENT:
            _MODULE_CLIENT.pop("client").close()


def test_02_stub_and_steps(capsys: pytest.CaptureFixture[str]) -> None:
    def stub(urls: list[str], limits: dict[str, int]) -> list[str]:
        raise NotImplementedError

    assert_rejected(check_two_hosts, stub, ["❌ Not yet:"], capsys)
    words = ["of your requests", "Cap each host on its own"]
    first, second = rejected_twice(check_two_hosts, one_pool_for_both, words, capsys)
    mistake = last_mistake()
    assert mistake is not None
    pointer = MISTAKES[mistake].pointer
    assert pointer is not None and str(pointer) in second and str(pointer) not in first


def one_sized_client_no_cap(urls: list[str], limits: dict[str, int]) -> list[str]:
    total = sum(limits.values())
    limits_ = httpx.Limits(max_connections=total, max_keepalive_connections=total)
    with (
        httpx.Client(verify=plain_trust(), limits=limits_) as client,
        ThreadPoolExecutor(max_workers=total) as pool,
    ):
        return list(pool.map(lambda url: client.get(url).text, urls))


@pytest.mark.parametrize("answer", [one_pool_for_both, one_sized_client_no_cap])
def test_02_one_shared_client_is_never_told_to_share_one(
    answer: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """However the server's in-flight count falls, a shared client over a host's limit hears
    about the per-host limit, never "don't make one per request"."""
    for _ in range(3):
        out = assert_rejected(check_two_hosts, answer, [], capsys)
        assert last_mistake() in {"c2.over", "c2.evicted", "c2.few-keepalive"}, (
            out
        )  # per-host limits
        assert "one per request" not in out, out


def one_client_min_limit(urls: list[str], limits: dict[str, int]) -> list[str]:
    """One pool for both hosts, capped at the smaller limit, with a thread per URL: the requests
    queue in the pool, each host's in turn, so a full pool closes one host's idle connection to
    open one to the other. (With only `low` threads the hosts' requests rarely meet in the
    pool: on a loaded machine no eviction may happen, and host A's three requests in a row are
    then judged "one at a time".)"""
    low = min(limits.values())
    limits_ = httpx.Limits(max_connections=low, max_keepalive_connections=low)
    with (
        httpx.Client(verify=plain_trust(), limits=limits_) as client,
        ThreadPoolExecutor(max_workers=len(urls)) as pool,
    ):
        return list(pool.map(lambda url: client.get(url).text, urls))


def one_client_no_keepalive(urls: list[str], limits: dict[str, int]) -> list[str]:
    low = min(limits.values())
    limits_ = httpx.Limits(max_connections=low, max_keepalive_connections=0)
    with (
        httpx.Client(verify=plain_trust(), limits=limits_) as client,
        ThreadPoolExecutor(max_workers=low) as pool,
    ):
        return list(pool.map(lambda url: client.get(url).text, urls))


def clients_keeping_one_alive(urls: list[str], limits: dict[str, int]) -> list[str]:
    with ExitStack() as stack:
        clients = {
            base: stack.enter_context(
                httpx.Client(
                    verify=plain_trust(),
                    limits=httpx.Limits(max_connections=n, max_keepalive_connections=1),
                )
            )
            for base, n in limits.items()
        }
        pools = {
            base: stack.enter_context(ThreadPoolExecutor(max_workers=n))
            for base, n in limits.items()
        }
        futures = [
            pools[_host_of(limits, url)].submit(clients[_host_of(limits, url)].get, url)
            for url in urls
        ]
        return [future.result().text for future in futures]


def clients_expiring_at_once(urls: list[str], limits: dict[str, int]) -> list[str]:
    """A client per host at its limit, as the solution, but `keepalive_expiry=0` ("no idle
    connection left behind"): each connection closes as soon as its answer is read."""
    with ExitStack() as stack:
        clients = {
            base: stack.enter_context(
                httpx.Client(
                    verify=plain_trust(), limits=httpx.Limits(max_connections=n, keepalive_expiry=0)
                )
            )
            for base, n in limits.items()
        }
        with ThreadPoolExecutor(max_workers=sum(limits.values())) as pool:
            return list(pool.map(lambda url: clients[_host_of(limits, url)].get(url).text, urls))


def one_pool_keeping_one_alive(urls: list[str], limits: dict[str, int]) -> list[str]:
    """One pool for both hosts, big enough for both, a semaphore per host (all right), but
    max_keepalive_connections=1, far below the sum: httpcore 1.0.9 closes a connection as it
    turns idle while the pool holds more than that (03's honest note), room enough or not. (One
    short of the sum churned only when all five were in flight at once: on a loaded machine,
    not always.)"""
    total = sum(limits.values())
    gates = {base: threading.Semaphore(n) for base, n in limits.items()}
    limits_ = httpx.Limits(max_connections=total, max_keepalive_connections=1)
    with (
        httpx.Client(verify=plain_trust(), limits=limits_) as client,
        ThreadPoolExecutor(max_workers=total) as pool,
    ):

        def get(url: str) -> str:
            with gates[_host_of(limits, url)]:
                return client.get(url).text

        return list(pool.map(get, urls))


def clients_reading_one_chunk(urls: list[str], limits: dict[str, int]) -> list[str]:
    """A client per host at its limit, as the solution, but each body taken from a stream's
    first chunk: leaving `with client.stream(...)` before the end closes the connection."""
    with ExitStack() as stack:
        clients = {
            base: stack.enter_context(
                httpx.Client(
                    verify=plain_trust(),
                    limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
                )
            )
            for base, n in limits.items()
        }

        def get(url: str) -> str:
            with clients[_host_of(limits, url)].stream("GET", url) as response:
                for chunk in response.iter_text():
                    return chunk
            return ""

        with ThreadPoolExecutor(max_workers=sum(limits.values())) as pool:
            return list(pool.map(get, urls))


@pytest.mark.parametrize(
    ("answer", "mistake", "evidence"),
    [
        (one_client_min_limit, "c2.evicted", ["all from one client"]),
        (one_client_no_keepalive, "c2.churn", ["all from one client"]),
        (clients_keeping_one_alive, "c2.few-keepalive", ["max_keepalive_connections=1"]),
        (clients_expiring_at_once, "c2.keepalive-expiry", ["all from one client"]),
        (one_pool_keeping_one_alive, "c2.few-keepalive", ["max_keepalive_connections=1"]),
        (clients_reading_one_chunk, "c2.closed-early", ["its own, set to keep them alive"]),
    ],
    ids=[
        "min_limit",
        "no_keepalive",
        "keepalive_1",
        "expiry_0",
        "shared_keepalive_short",
        "stream_cut_short",
    ],
)
def test_02_one_client_churning_connections(
    answer: Any, mistake: str, evidence: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # One pool for both hosts, full: under load httpcore 1.0.9's own race can show the eviction
    # first (seen: a ReadError on a connection the pool closed as it handed it out), which the
    # check names c2.pool-race, with the same hint.
    also = ("c2.pool-race",) if answer is one_client_min_limit else ()
    assert_diagnosed(check_two_hosts, answer, mistake, capsys, evidence, also=also)


def test_02_a_shared_pool_short_of_keepalive_is_named_when_the_clocks_miss_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen in CI, under load: the servers' times showed too few connections open at once to
    tell, and the answer was told "one pool for both hosts". A pool with room for both hosts'
    limits never evicts: staged here, the connections' times see one at a time."""
    monkeypatch.setattr(challenge02, "_peak_open", lambda *servers: 1)
    evidence = ["max_keepalive_connections=1"]
    assert_diagnosed(
        check_two_hosts, one_pool_keeping_one_alive, "c2.few-keepalive", capsys, evidence
    )


def pool_closes_a_connection_under_a_request(urls: list[str], limits: dict[str, int]) -> list[str]:
    """One pool for both hosts, where a request's connection is closed by the pool itself, the
    client still open: the symptom of httpcore 1.0.9's race (a full pool closes an idle
    connection just after giving it to a request). Staged, on the fourth request."""
    low = min(limits.values())
    sent = itertools.count(1)

    class Racing(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if next(sent) == 4:
                raise httpx.ReadError("[Errno 9] Bad file descriptor", request=request)
            return super().handle_request(request)

    transport = Racing(limits=httpx.Limits(max_connections=low, max_keepalive_connections=low))
    with httpx.Client(transport=transport) as client, ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(lambda url: client.get(url).text, urls))


def test_02_a_connection_closed_by_its_own_pool_is_not_a_client_closed_early(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert_diagnosed(
        check_two_hosts, pool_closes_a_connection_under_a_request, "c2.pool-race", capsys
    )
    assert_diagnosed(check_two_hosts, pools_outlive_the_client, "c2.closed", capsys)


# --- 03: sizes from a described service ----------------------------------------------------------


def sizes(connections: int, keepalive: int, timeout: Any, **extra: Any) -> Callable[[], Any]:
    answer = {
        "max_connections": connections,
        "max_keepalive_connections": keepalive,
        "pool_timeout": timeout,
        **extra,
    }
    return lambda: answer


def test_03_solution_passes(capsys: pytest.CaptureFixture[str]) -> None:
    out = accepted(
        check_size_for_service, load_solution("03_size_for_service", "size_for_service"), capsys
    )
    assert "longer than the 0.5 s pool timeout" in out


@pytest.mark.parametrize("answer", [sizes(4, 4, 0.4), sizes(4, 8, 0.45)], ids=["0.4", "keep-8"])
def test_03_right_answers_in_other_styles(answer: Any, capsys: pytest.CaptureFixture[str]) -> None:
    accepted(check_size_for_service, answer, capsys)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            sizes(4, 4, 1.0),
            ["over the 0.5 s budget", "really fail?"],
        ),  # covers the whole queue wait
        (sizes(4, 4, 5.0), ["over the 0.5 s budget"]),  # httpx's default, left as it is
        (sizes(20, 20, 0.5), ["more connections than the service allows (4)", "queue in the pool"]),
        (sizes(4, 4, 0.2), ["comes free only every 0.25 s", "PoolTimeout"]),
        (sizes(3, 3, 0.5), ["7 rounds", "over the 1.5 s deadline"]),
        (sizes(4, 2, 0.5), ["max_keepalive_connections=2", "closed connections between calls"]),
        # Both: calls that gave up opened no connection, so no churn to show; the timeouts first.
        (sizes(4, 2, 0.2), ["comes free only every 0.25 s", "PoolTimeout"]),
        (sizes(4, 4, 0.5, workers=20), ["extra keys workers", "not yours to choose"]),
        (lambda: httpx.Limits(max_connections=4), ["httpx objects"]),
    ],
    ids=[
        "budget-1.0",
        "default-5",
        "cap",
        "timeouts",
        "deadline",
        "keepalive",
        "keepalive-and-timeouts",
        "workers",
        "limits",
    ],
)
def test_03_wrong_answers_are_rejected(
    answer: Any, words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert_rejected(check_size_for_service, answer, words, capsys)


def validated_with_httpx_limits() -> dict[str, Any]:
    """The settings "validated" by building httpx.Limits from them: pool_timeout is
    httpx.Timeout's, so Limits raises TypeError."""
    settings: dict[str, Any] = {
        "max_connections": 4,
        "max_keepalive_connections": 4,
        "pool_timeout": 0.4,
    }
    httpx.Limits(**settings)
    return settings


def three_numbers_as_a_tuple() -> Any:
    """The three numbers, in the prompt's order, but as a tuple."""
    return 4, 4, 0.4


def connections_worked_out_by_division() -> dict[str, Any]:
    """max_connections worked out as threads / rounds: 20 / 5 is the float 4.0, not a count."""
    return {"max_connections": 20 / 5, "max_keepalive_connections": 4, "pool_timeout": 0.4}


def no_pool_timeout() -> dict[str, Any]:
    """pool_timeout None, httpx's "wait as long as it takes": no seconds, so no budget kept."""
    return {"max_connections": 4, "max_keepalive_connections": 4, "pool_timeout": None}


@pytest.mark.parametrize(
    ("answer", "mistake", "evidence"),
    [
        (validated_with_httpx_limits, "c3.raised", ["TypeError", "pool_timeout"]),
        (three_numbers_as_a_tuple, "c3.not-a-dict", ["returned tuple"]),
        (connections_worked_out_by_division, "c3.not-whole", ["max_connections is 4.0"]),
        (no_pool_timeout, "c3.bad-timeout", ["pool_timeout is None"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_03_answers_of_the_wrong_shape_get_their_ids(
    answer: Any, mistake: str, evidence: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert_diagnosed(check_size_for_service, answer, mistake, capsys, evidence)


def test_03_a_pool_timeout_without_the_notes_room_is_timeouts_and_the_note_states_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """0.3 s is over the 0.25 s between releases, but not by the room the prompt asks for
    (walker's report, H19b): the check and Challenge 3.2's note must say the same margin."""
    import nbformat

    from labkit.checks.challenge03 import LATENCY, MARGIN

    assert_diagnosed(
        check_size_for_service, sizes(4, 4, LATENCY + MARGIN / 2), "c3.timeouts", capsys
    )
    accepted(check_size_for_service, sizes(4, 4, LATENCY + MARGIN), capsys)
    path = Path(__file__).parents[1] / "notebooks" / "03_pool_sizes_explorer.ipynb"
    notebook = nbformat.read(path, as_version=4)
    prompt = next(c.source for c in notebook.cells if "## Challenge 3.2" in c.source)
    assert f"The {LATENCY:g} s is typical" in prompt
    assert f"at least {MARGIN:g} s of room above it" in prompt


def test_03_stub_and_steps(capsys: pytest.CaptureFixture[str]) -> None:
    def stub() -> dict[str, Any]:
        raise NotImplementedError

    assert_rejected(check_size_for_service, stub, ["❌ Not yet:"], capsys)
    first, second = rejected_twice(check_size_for_service, sizes(4, 4, 1.0), ["budget"], capsys)
    assert "not a deadline" in second


def test_03_the_shape_hints_suggest_values_the_check_accepts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A wrong type gets an example: taken as it is, that example must pass."""
    wrong_types = [
        (sizes(4.0, 4, 0.4), "max_connections"),  # type: ignore[arg-type]
        (sizes(4, "4", 0.4), "max_keepalive_connections"),  # type: ignore[arg-type]
        (sizes(4, 4, "0.4"), "pool_timeout"),
    ]
    fixed = {"max_connections": 4, "max_keepalive_connections": 4, "pool_timeout": 0.4}
    for answer, key in wrong_types:
        out = assert_rejected(check_size_for_service, answer, [f"Give {key}"], capsys)
        example = re.search(r"e\.g\. ([0-9.]+)\.", out)
        assert example, out
        fixed[key] = float(example.group(1)) if key == "pool_timeout" else int(example.group(1))
    accepted(check_size_for_service, lambda: fixed, capsys)


# --- 04: Fetcher.with_options ---------------------------------------------------------------------

Fetcher = load_solution("04_with_options", "Fetcher")
Fetcher41 = load_solution("04_fetcher", "Fetcher")


def test_04_solution_passes(capsys: pytest.CaptureFixture[str]) -> None:
    accepted(check_with_options, Fetcher, capsys)


class BorrowingCopy(Fetcher41):  # type: ignore[misc, valid-type]
    """Exercise 4.1's Fetcher; with_options makes a Fetcher that borrows the same client."""

    _options: dict[str, Any] = {}

    def with_options(self, **overrides: Any) -> BorrowingCopy:
        if self._closed:
            raise RuntimeError("closed")
        derived = type(self)(self._client)
        derived._options = {**self._options, **overrides}
        return derived

    def fetch(self, url: str) -> httpx.Response:
        if self._closed:
            raise RuntimeError("closed")
        response = self._client.get(url, **self._options)
        response.raise_for_status()
        return response


class _View:
    """A separate small class: a view on a Fetcher's client with per-request settings."""

    def __init__(self, client: httpx.Client, options: dict[str, Any]) -> None:
        self._client, self._options, self._closed = client, options, False
        self.owns_client = False

    def with_options(self, **overrides: Any) -> _View:
        return _View(self._client, {**self._options, **overrides})

    def fetch(self, url: str) -> httpx.Response:
        if self._closed or self._client.is_closed:
            raise RuntimeError("this view is closed")
        response = self._client.get(url, **self._options)
        response.raise_for_status()
        return response

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> _View:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ViewStyle(Fetcher41):  # type: ignore[misc, valid-type]
    def with_options(self, **overrides: Any) -> _View:
        return _View(self._client, dict(overrides))


@pytest.mark.parametrize("answer", [BorrowingCopy, ViewStyle])
def test_04_right_answers_in_other_styles(answer: type, capsys: pytest.CaptureFixture[str]) -> None:
    accepted(check_with_options, answer, capsys)


class ChangesItself(BorrowingCopy):
    def with_options(self, **overrides: Any) -> ChangesItself:
        self._options = {**self._options, **overrides}
        return self


class CopyKeepsOwnership(BorrowingCopy):
    def with_options(self, **overrides: Any) -> CopyKeepsOwnership:
        derived = copy.copy(self)  # _owns_client copied too: two owners of one client
        derived._options = {**self._options, **overrides}
        return derived


class CopyKeepsOwnershipHidden(CopyKeepsOwnership):
    """The same, with owns_client reporting False: the close still closes the shared client."""

    @property
    def owns_client(self) -> bool:
        return False


class NewClient(Fetcher41):  # type: ignore[misc, valid-type]
    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)
        self._settings = client_kwargs

    def with_options(self, **overrides: Any) -> NewClient:
        return type(self)(**{**self._settings, **overrides})


class ChangesTheSharedClient(BorrowingCopy):
    def with_options(self, **overrides: Any) -> BorrowingCopy:
        self._client.headers.update(overrides.get("headers", {}))
        self._client.timeout = httpx.Timeout(overrides.get("timeout", 5.0))
        return type(self)(self._client)


class IgnoresOverrides(BorrowingCopy):
    def with_options(self, **overrides: Any) -> BorrowingCopy:
        return type(self)(self._client)


class SettingsOnABorrowedClient(Fetcher41):  # type: ignore[misc, valid-type]
    def with_options(self, **overrides: Any) -> Any:
        return type(self)(self._client, **overrides)  # rule 6 refuses it: TypeError


class SharesTheTransport(Fetcher41):  # type: ignore[misc, valid-type]
    def with_options(self, **overrides: Any) -> Any:
        return type(self)(transport=self._client._transport, **overrides)


class MisspelledWithOptions(Fetcher41):  # type: ignore[misc, valid-type]
    """with_option, singular: the check finds no with_options to call."""

    def with_option(self, **overrides: Any) -> BorrowingCopy:
        derived = BorrowingCopy(self._client)
        derived._options = dict(overrides)
        return derived


class OptionsOnlyOnFacades(Fetcher41):  # type: ignore[misc, valid-type]
    """_options set only on the facades with_options makes, never in __init__: the original
    Fetcher's own fetch() raises AttributeError."""

    def with_options(self, **overrides: Any) -> OptionsOnlyOnFacades:
        derived = type(self)(self._client)
        derived._options = dict(overrides)
        return derived

    def fetch(self, url: str) -> httpx.Response:
        if self._closed:
            raise RuntimeError("closed")
        response = self._client.get(url, **self._options)
        response.raise_for_status()
        return response


class AsTheSDKsDo(Fetcher):  # type: ignore[misc, valid-type]
    """client.with_options(...), as openai-python's client has: httpx.Client has none."""

    def with_options(self, **overrides: Any) -> Any:
        derived = copy.copy(self)
        derived._owns_client = False
        derived._client = self._client.with_options(**overrides)
        return derived


class ForgetsToReturn(Fetcher):  # type: ignore[misc, valid-type]
    """The facade made, but no `return`: with_options gives None."""

    def with_options(self, **overrides: Any) -> None:
        derived = copy.copy(self)
        derived._owns_client, derived._closed = False, False
        derived._options = {**self._options, **overrides}


class ExitClosesTheClient(Fetcher):  # type: ignore[misc, valid-type]
    """__exit__ closes the client itself, not through close(): right for the owner, but the end
    of a facade's `with` closes the client it shares."""

    def __exit__(self, *exc_info: object) -> None:
        self._closed = True
        self._client.close()


class NobodyClosesASharedClient(Fetcher):  # type: ignore[misc, valid-type]
    """Once shared, the client is taken for "nobody's to close": with_options takes ownership
    from the Fetcher that made it too, so its close() leaves the client open."""

    def with_options(self, **overrides: Any) -> Any:
        self._owns_client = False
        return super().with_options(**overrides)


class FetcherClosedError(Exception):
    """A learner's own error for a closed facade: not a RuntimeError."""


class OwnClosedError(Fetcher):  # type: ignore[misc, valid-type]
    """A closed client refused with an error class of its own, not a RuntimeError."""

    def fetch(self, url: str) -> httpx.Response:
        if self._closed or self._client.is_closed:
            raise FetcherClosedError("this Fetcher's client is closed")
        return super().fetch(url)  # type: ignore[no-any-return]


class ClosesEvenABorrowedClient(ViewStyle):
    """Exercise 4.1's close() closes the client whoever made it; with_options's views never
    close it: an owned client passes, a borrowed one is closed by its Fetcher."""

    def close(self) -> None:
        self._closed = True
        self._client.close()


class OwnClientWhenBorrowing(Fetcher):  # type: ignore[misc, valid-type]
    """Rule 6 read as "a borrowed client takes no settings": a borrowing Fetcher's with_options
    makes a Fetcher with a client of its own, another pool, closed by nobody."""

    def with_options(self, **overrides: Any) -> Any:
        if self.owns_client:
            return super().with_options(**overrides)
        return type(self)(**overrides)


class DeepCopies(Fetcher):  # type: ignore[misc, valid-type]
    """copy.deepcopy(self) "so that the copy cannot change the original": the client's locks
    cannot be copied (and a copied client would be another pool)."""

    def with_options(self, **overrides: Any) -> Any:
        derived = copy.deepcopy(self)
        derived._owns_client = False
        derived._options = {**self._options, **overrides}
        return derived


class _ViewWithoutWith:
    """A light view on a Fetcher: fetch() with the overrides, close() that does nothing."""

    def __init__(self, fetcher: Any, overrides: dict[str, Any]) -> None:
        self._fetcher, self._overrides = fetcher, overrides

    def fetch(self, url: str) -> httpx.Response:
        response = self._fetcher._client.get(url, **self._overrides)
        response.raise_for_status()
        return response

    def close(self) -> None:
        pass


class ViewWithoutWith(Fetcher):  # type: ignore[misc, valid-type]
    """A view with fetch() and close(), but no `with` support."""

    def with_options(self, **overrides: Any) -> _ViewWithoutWith:
        return _ViewWithoutWith(self, overrides)


class _FetchOnly:
    def __init__(self, fetcher: Any, overrides: dict[str, Any]) -> None:
        self._fetcher, self._overrides = fetcher, overrides

    def fetch(self, url: str) -> httpx.Response:
        return self._fetcher._client.get(url, **self._overrides)


class ViewWithoutClose(Fetcher):  # type: ignore[misc, valid-type]
    """A view with fetch() alone: "nothing to close, it owns nothing"."""

    def with_options(self, **overrides: Any) -> _FetchOnly:
        return _FetchOnly(self, overrides)


@pytest.mark.parametrize(
    ("answer", "mistake", "evidence"),
    [
        (ChangesItself, "c4.same-fetcher", []),
        (CopyKeepsOwnership, "c4.owns", ["is True"]),
        (CopyKeepsOwnershipHidden, "c4.closed-shared", []),
        (NewClient, "c4.pool", ["2 TCP connections"]),
        (ChangesTheSharedClient, "c4.leak", []),
        (IgnoresOverrides, "c4.overrides", ["without the X-Team header and timeout=2.5"]),
        (SettingsOnABorrowedClient, "c4.settings-on-client", ["TypeError"]),
        (SharesTheTransport, "c4.other-client", ["only 2 of the 3 requests"]),
        (MisspelledWithOptions, "c4.no-method", []),
        (OptionsOnlyOnFacades, "c4.fetcher-error", ["Fetcher(...).fetch()", "AttributeError"]),
        (AsTheSDKsDo, "c4.error", ["AttributeError", "with_options"]),
        (ForgetsToReturn, "c4.not-a-facade", ["returned None"]),
        (DeepCopies, "c4.error", ["cannot pickle"]),
        (
            ViewWithoutWith,
            "c4.not-a-facade",
            ["a _ViewWithoutWith object", "no __enter__() or __exit__()"],
        ),
        (ViewWithoutClose, "c4.not-a-facade", ["no close() or __enter__() or __exit__()"]),
        (ExitClosesTheClient, "c4.closed-by-with", ["Cannot send a request"]),
        (NobodyClosesASharedClient, "c4.unclosed", ["1 TCP connection open"]),
        (OwnClosedError, "c4.after", ["raised FetcherClosedError", "not RuntimeError"]),
        (ClosesEvenABorrowedClient, "c4.closed-borrowed", []),
        (OwnClientWhenBorrowing, "c4.borrowed-pool", ["the client's hook 1 request of 3"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_04_wrong_answers_are_rejected(
    answer: type, mistake: str, evidence: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert_diagnosed(check_with_options, answer, mistake, capsys, evidence)


def test_04_stub_and_steps(capsys: pytest.CaptureFixture[str]) -> None:
    class Stub(Fetcher41):  # type: ignore[misc, valid-type]
        def with_options(self, **overrides: Any) -> Any:
            raise NotImplementedError

    class Unsolved41:  # Exercise 4.1 still a stub: the challenge says "Not yet" too
        def __init__(self, client: Any = None, **client_kwargs: Any) -> None:
            raise NotImplementedError

        def with_options(self, **overrides: Any) -> Any:
            raise NotImplementedError

    assert_rejected(check_with_options, Stub, ["❌ Not yet:", "with_options"], capsys)
    assert_rejected(check_with_options, Unsolved41, ["❌ Not yet:"], capsys)
    assert_rejected(check_with_options, Fetcher41, ["❌ Not yet:", "no with_options"], capsys)
    first, second = rejected_twice(
        check_with_options, CopyKeepsOwnershipHidden, ["closed the client"], capsys
    )
    assert "section “Rules 3 and 4" in second
    first, second = rejected_twice(
        check_with_options, SettingsOnABorrowedClient, ["TypeError", "per request"], capsys
    )
    assert "Still stuck?" not in first and "Rule 6" in second.split("Still stuck?")[1]


# --- 05: a client per event loop ------------------------------------------------------------------


def test_05_solution_passes(capsys: pytest.CaptureFixture[str]) -> None:
    accepted(check_loop_clients, load_solution("05_loop_clients", "LoopClients"), capsys)


class DictPoppedByAclose:
    """A plain dict keyed by the loop object; aclose() removes the entry."""

    def __init__(self, **client_kwargs: Any) -> None:
        self._kwargs = client_kwargs
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    def current(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            self._clients[loop] = httpx.AsyncClient(**self._kwargs)
        return self._clients[loop]

    async def aclose(self) -> None:
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


class AsyncCurrentById:
    """`async def current()`, keyed by id(loop), popped in aclose (so a reused id is harmless)."""

    def __init__(self, **client_kwargs: Any) -> None:
        self._kwargs = client_kwargs
        self._clients: dict[int, httpx.AsyncClient] = {}

    async def current(self) -> httpx.AsyncClient:
        return self._clients.setdefault(
            id(asyncio.get_running_loop()), httpx.AsyncClient(**self._kwargs)
        )

    async def aclose(self) -> None:
        client = self._clients.pop(id(asyncio.get_running_loop()), None)
        if client is not None:
            await client.aclose()


@pytest.mark.parametrize("answer", [DictPoppedByAclose, AsyncCurrentById])
def test_05_right_answers_in_other_styles(answer: type, capsys: pytest.CaptureFixture[str]) -> None:
    accepted(check_loop_clients, answer, capsys)


class OneClient:
    """The notebook's pitfall: one client for every loop."""

    def __init__(self, **client_kwargs: Any) -> None:
        self._client = httpx.AsyncClient(**client_kwargs)

    def current(self) -> httpx.AsyncClient:
        return self._client

    async def aclose(self) -> None:
        await self._client.aclose()


class PerThread:
    """threading.local: one client per thread, but both asyncio.run()s run in one thread."""

    def __init__(self, **client_kwargs: Any) -> None:
        self._kwargs, self._local = client_kwargs, threading.local()

    def current(self) -> httpx.AsyncClient:
        if not hasattr(self._local, "client"):
            self._local.client = httpx.AsyncClient(**self._kwargs)
        client: httpx.AsyncClient = self._local.client
        return client

    async def aclose(self) -> None:
        await self.current().aclose()


class NeverCloses(DictPoppedByAclose):
    async def aclose(self) -> None:
        self._clients.pop(asyncio.get_running_loop(), None)  # forgotten, never closed


class KeepsClosedClients(DictPoppedByAclose):
    async def aclose(self) -> None:
        await self._clients[asyncio.get_running_loop()].aclose()  # closed, but kept (and the loop)


class NewClientEachTime(DictPoppedByAclose):
    def current(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(**self._kwargs)
        self._clients[asyncio.get_running_loop()] = client
        return client


class Cached:
    """functools.cache on a factory: the first client, forever."""

    def __init__(self, **client_kwargs: Any) -> None:
        self._make = functools.cache(lambda: httpx.AsyncClient(**client_kwargs))

    def current(self) -> httpx.AsyncClient:
        return self._make()

    async def aclose(self) -> None:
        await self._make().aclose()


class IgnoresItsSettings(DictPoppedByAclose):
    def current(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            self._clients[loop] = httpx.AsyncClient(verify=plain_trust())  # client_kwargs forgotten
        return self._clients[loop]


class LockMadeInInit(DictPoppedByAclose):
    """An asyncio.Lock made once, in __init__: it belongs to the first loop that waits on it."""

    def __init__(self, **client_kwargs: Any) -> None:
        super().__init__(**client_kwargs)
        self._lock = asyncio.Lock()

    async def current(self) -> httpx.AsyncClient:  # type: ignore[override]
        async with self._lock:
            await asyncio.sleep(0)  # "whatever we await, only one task makes the client"
            return super().current()


class LoopTakenInInit(DictPoppedByAclose):
    """The running loop looked up once, in __init__: made outside any loop, it raises."""

    def __init__(self, **client_kwargs: Any) -> None:
        super().__init__(**client_kwargs)
        self._loop = asyncio.get_running_loop()


class WeakKeysById(DictPoppedByAclose):
    """Weak keys, as the solution's, so a finished loop's entry goes, but keyed by id(loop), as
    another right answer is: an int can't be weakly referenced, so current() raises TypeError."""

    def __init__(self, **client_kwargs: Any) -> None:
        super().__init__(**client_kwargs)
        self._clients = weakref.WeakKeyDictionary()  # type: ignore[assignment]

    def current(self) -> httpx.AsyncClient:
        loop = id(asyncio.get_running_loop())
        if loop not in self._clients:
            self._clients[loop] = httpx.AsyncClient(**self._kwargs)  # type: ignore[index]
        return self._clients[loop]  # type: ignore[index]


class AcloseByAsyncioRun(DictPoppedByAclose):
    """aclose() a plain def ("close it from anywhere") that runs the client's aclose() with
    asyncio.run: inside a running loop that raises, and the aclose() coroutine is never
    awaited. The check must leave no socket of it for a later cell's collection."""

    def aclose(self) -> None:  # type: ignore[override]
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            asyncio.run(client.aclose())


class CurrentAsAContextManager(DictPoppedByAclose):
    """current() an async context manager ("a client is used in `async with`"): it gives a
    context manager, not the client."""

    @asynccontextmanager
    async def current(self) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[override]
        yield super().current()


class NoKeepAlive(DictPoppedByAclose):
    """No connection kept alive ("so none outlives its loop"): each request opens its own."""

    def current(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            limits = httpx.Limits(max_keepalive_connections=0)
            self._clients[loop] = httpx.AsyncClient(**self._kwargs, limits=limits)
        return self._clients[loop]


class AsyncRetryOnOverload(httpx.AsyncBaseTransport):
    """Lesson 07's RetryOnOverload made async, its close() not carried over as aclose():
    AsyncBaseTransport's does nothing, so the inner transport's pool is never closed."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if response.status_code in {502, 503, 504}:  # once more
            await response.aread()
            await response.aclose()
            response = await self.inner.handle_async_request(request)
        return response


class RetryingTransport(DictPoppedByAclose):
    """Each loop's client sends through lesson 07's retry transport, made async without aclose()."""

    def current(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            transport = AsyncRetryOnOverload(httpx.AsyncHTTPTransport())
            self._clients[loop] = httpx.AsyncClient(**self._kwargs, transport=transport)
        return self._clients[loop]


@pytest.mark.parametrize(
    ("answer", "mistake", "evidence"),
    [
        (IgnoresItsSettings, "c5.settings", ["in event loop 1", "0 of its 3 requests"]),
        (LockMadeInInit, "c5.bound", ["in event loop 2", "bound to a different event loop"]),
        (OneClient, "c5.one-client", ["in event loop 2", "event loop 1's"]),
        (PerThread, "c5.one-client", ["in event loop 2", "event loop 1's"]),
        (Cached, "c5.one-client", ["in event loop 2", "event loop 1's"]),
        (NeverCloses, "c5.open", ["in event loop 1"]),
        (KeepsClosedClients, "c5.left", []),
        (NewClientEachTime, "c5.same", ["two calls in one task gave another client each time"]),
        (LoopTakenInInit, "c5.init-error", ["LoopClients(...)", "no running event loop"]),
        (WeakKeysById, "c5.error", ["in event loop 1", "TypeError: cannot create weak"]),
        (AcloseByAsyncioRun, "c5.error", ["asyncio.run() cannot be called"]),
        (CurrentAsAContextManager, "c5.not-a-client", ["not an httpx.AsyncClient"]),
        (NoKeepAlive, "c5.connections", ["3 TCP connections for 3 requests"]),
        (RetryingTransport, "c5.open-connections", ["after event loop 1", "1 TCP connection"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_05_wrong_answers_are_rejected(
    answer: type, mistake: str, evidence: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert_diagnosed(check_loop_clients, answer, mistake, capsys, evidence)


def test_05_stub_and_steps(capsys: pytest.CaptureFixture[str]) -> None:
    class Stub:
        def __init__(self, **client_kwargs: Any) -> None:
            raise NotImplementedError

    assert_rejected(check_loop_clients, Stub, ["❌ Not yet:"], capsys)
    first, second = rejected_twice(check_loop_clients, OneClient, ["event loop 1's"], capsys)
    assert "section “4. The pitfall" in second


def test_05_the_solution_frees_each_finished_loop() -> None:
    """What the check's "nothing left behind" relies on: a finished loop can be collected."""
    import gc

    clients = load_solution("05_loop_clients", "LoopClients")()
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def main() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        clients.current()
        await clients.aclose()

    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(asyncio.run, main()).result()
    gc.collect()
    assert loops[0]() is None


# --- every challenge's solution, written with `import httpx2 as httpx`: the same verdict -------

SOLUTIONS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "01_linkcheck": ("check_links", check_linkcheck),
    "02_two_hosts": ("fetch_from_hosts", check_two_hosts),
    "03_size_for_service": ("size_for_service", check_size_for_service),
    "04_with_options": ("Fetcher", check_with_options),
    "05_loop_clients": ("LoopClients", check_loop_clients),
}


@pytest.mark.parametrize("stem", SOLUTIONS)
def test_each_solution_passes_in_httpx2(stem: str, capsys: pytest.CaptureFixture[str]) -> None:
    name, check = SOLUTIONS[stem]
    accepted(check, load_solution(stem, name, library="httpx2"), capsys)


# --- 05: kinds accepted before (issue 19), each with the id it must get ------------------------

_PER_TASK: contextvars.ContextVar[httpx.AsyncClient] = contextvars.ContextVar("per_task")


class PerTaskContextVariable:
    """A context variable: each task that sets it gets a client of its own; none is closed."""

    def __init__(self, **client_kwargs: Any) -> None:
        self._kwargs = client_kwargs

    def current(self) -> httpx.AsyncClient:
        client = _PER_TASK.get(None)
        if client is None:
            client = httpx.AsyncClient(**self._kwargs)
            _PER_TASK.set(client)
        return client

    async def aclose(self) -> None:
        pass  # "each task's client goes away with its task"


class ReplacedWhenClosed:
    """One client at a time, replaced once closed: right for loops one after the other, but two
    loops running at once, in two threads, share it."""

    def __init__(self, **client_kwargs: Any) -> None:
        self._kwargs = client_kwargs
        self._client: httpx.AsyncClient | None = None

    def current(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(**self._kwargs)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        self._client = None


class RacesAcrossAnAwait(DictPoppedByAclose):
    """Keyed by the loop, but an `await` between the look-up and the store lets tasks race."""

    async def current(self) -> httpx.AsyncClient:  # type: ignore[override]
        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            await asyncio.sleep(0)  # "an async set-up step"
            self._clients[loop] = httpx.AsyncClient(**self._kwargs)
        return self._clients[loop]


class WeakValues(DictPoppedByAclose):
    """Keyed by the loop, but the clients held weakly: with `await clients.current().get(url)`
    nothing else holds the client, so each request makes a new one, closed by nobody."""

    def __init__(self, **client_kwargs: Any) -> None:
        super().__init__(**client_kwargs)
        self._clients = weakref.WeakValueDictionary()  # type: ignore[assignment]

    def current(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = httpx.AsyncClient(**self._kwargs)
        return client


class AcloseClosesEveryLoops(DictPoppedByAclose):
    """aclose() closes every loop's client, not only the running loop's: a loop running at the
    same time, in another thread, loses the client it is using."""

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()


@pytest.mark.parametrize(
    ("answer", "mistake"),
    [
        (PerTaskContextVariable, "c5.per-task"),
        (RacesAcrossAnAwait, "c5.race"),  # said "per task" before the walker's report (H19b)
        (ReplacedWhenClosed, "c5.concurrent"),
        (WeakValues, "c5.not-kept"),  # accepted before (held-out 05lc_W9)
        (AcloseClosesEveryLoops, "c5.closed-other"),  # accepted 3 runs in 8 (held-out 05lc_W8)
        (NeverCloses, "c5.open"),
        (NewClientEachTime, "c5.same"),
        (OneClient, "c5.one-client"),
    ],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_05_each_kind_gets_its_id(
    answer: type, mistake: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_diagnosed(check_loop_clients, answer, mistake, capsys)


# --- 01 and 02: kinds misdiagnosed before (issue 19), each with the id it must get ------------

_linkcheck = load_solution("01_linkcheck", "check_links")


def closes_every_connection(client: httpx.Client, urls: list[str]) -> dict[str, str]:
    """The fix, plus a permanent `Connection: close` on the caller's client ("to be safe")."""
    client.headers["Connection"] = "close"
    return _linkcheck(client, urls)  # type: ignore[no-any-return]


_KEPT_CLIENT: list[httpx.Client] = []


def module_level_client(urls: list[str], limits: dict[str, int]) -> list[str]:
    """One client made once (as at module level), closed at the end of the first call."""
    if not _KEPT_CLIENT:
        _KEPT_CLIENT.append(httpx.Client(verify=plain_trust()))
    client = _KEPT_CLIENT[0]
    pools = {base: ThreadPoolExecutor(max_workers=limit) for base, limit in limits.items()}
    futures = [
        pools[next(b for b in limits if url.startswith(b + "/"))].submit(client.get, url)
        for url in urls
    ]
    for pool in pools.values():
        pool.shutdown(wait=True)
    client.close()
    return [future.result().text for future in futures]


def the_smaller_limit(urls: list[str], limits: dict[str, int]) -> list[str]:
    """One cap for both hosts: the smaller limit ("never more than either allows")."""
    with (
        httpx.Client(verify=plain_trust()) as client,
        ThreadPoolExecutor(max_workers=min(limits.values())) as pool,
    ):
        return [response.text for response in pool.map(client.get, urls)]


def semaphore_per_call(urls: list[str], limits: dict[str, int]) -> list[str]:
    """A semaphore per host's limit, but made inside each call: it caps nothing."""

    def get(url: str) -> str:
        host = next(host for host in limits if url.startswith(host))
        with threading.Semaphore(limits[host]):
            return client.get(url).text

    with (
        httpx.Client(verify=plain_trust()) as client,
        ThreadPoolExecutor(max_workers=sum(limits.values())) as pool,
    ):
        return list(pool.map(get, urls))


def keepalive_as_the_cap(urls: list[str], limits: dict[str, int]) -> list[str]:
    """A client per host, but its limit given as max_keepalive_connections, not max_connections."""
    clients = {
        h: httpx.Client(verify=plain_trust(), limits=httpx.Limits(max_keepalive_connections=n))
        for h, n in limits.items()
    }
    try:
        with ThreadPoolExecutor(max_workers=sum(limits.values())) as pool:
            host = {url: next(h for h in limits if url.startswith(h)) for url in urls}
            return list(pool.map(lambda url: clients[host[url]].get(url).text, urls))
    finally:
        for client in clients.values():
            client.close()


@pytest.mark.parametrize(
    ("check", "answer", "mistake"),
    [
        (check_linkcheck, closes_every_connection, "c1.connection-close"),
        (check_linkcheck, RetryIgnored().check_links, "c1.retry-ignored"),
        (check_two_hosts, module_level_client, "c2.kept-client"),
        (check_two_hosts, the_smaller_limit, "c2.serial"),
        (check_two_hosts, semaphore_per_call, "c2.semaphore-per-call"),
        (check_two_hosts, keepalive_as_the_cap, "c2.keepalive-cap"),
    ],
    ids=[
        "Connection: close on the caller's client",
        "the retry's answer ignored",
        "a module-level client",
        "min() of limits",
        "a semaphore made per call",
        "max_keepalive_connections as the cap",
    ],
)
def test_01_02_each_kind_gets_its_id(
    check: Callable[[Any], bool], answer: Any, mistake: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        assert_diagnosed(check, answer, mistake, capsys)
    finally:
        _KEPT_CLIENT.clear()


@pytest.mark.parametrize("connections_too", [False, True], ids=["clocks", "clocks and connections"])
def test_02_keepalive_as_the_cap_is_named_when_the_servers_clocks_miss_the_overlap(
    connections_too: bool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a loaded machine the server's clocks can see one request at a time while the pool
    still opened more connections than the limit: the same mistake must get the same id."""
    # Two at once seen by the clocks: within every limit but call 2's host A (limit 1), whose
    # three requests, sent together, still open three connections.
    monkeypatch.setattr(challenge02, "peak_in_flight", lambda requests: 2)
    if connections_too:  # and the connections' own times miss it too (seen once, under load)
        monkeypatch.setattr(challenge02, "_peak_open", lambda *servers: 1)
    try:
        assert_diagnosed(check_two_hosts, keepalive_as_the_cap, "c2.keepalive-cap", capsys)
    finally:
        _KEPT_CLIENT.clear()


class DropsTheParentsOverrides(Fetcher):  # type: ignore[valid-type,misc]
    """with_options keeps only the overrides it is given: a facade of a facade loses its
    parent's."""

    def with_options(self, **overrides: Any) -> Any:
        derived = super().with_options(**overrides)
        derived._options = dict(overrides)
        return derived


def test_04_a_facade_of_a_facade_that_drops_its_parents_overrides_is_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert_diagnosed(check_with_options, DropsTheParentsOverrides, "c4.dropped", capsys)


class MergesTheWrongWayRound(Fetcher):  # type: ignore[valid-type,misc]
    """with_options merges `{**overrides, **self._options}`: a setting given twice keeps its
    first value, though the later one must win, as a dict merge does (held-out 04wo_W7)."""

    def with_options(self, **overrides: Any) -> Any:
        derived = super().with_options(**overrides)
        derived._options = {**overrides, **self._options}
        return derived


def test_04_a_setting_given_twice_that_keeps_its_first_value_is_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    evidence = ["X-Team: 'lab'"]
    assert_diagnosed(check_with_options, MergesTheWrongWayRound, "c4.merge-order", capsys, evidence)

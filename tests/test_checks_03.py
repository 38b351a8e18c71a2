"""check_choose_pool passes the solution and rejects each wrong choice of limits with a telling hint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from labkit.checks import check_choose_pool
from tests.verdicts import assert_rejected, load_solution, verdict



def _solution() -> Any:
    return load_solution("03_choose_pool", "choose_pool")


def _verdict(candidate: Any, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    return verdict(check_choose_pool, candidate, capsys)


def test_the_solution_passes(capsys: pytest.CaptureFixture[str]) -> None:
    passed, out = _verdict(_solution(), capsys)
    assert passed, out
    assert out.startswith("✅ 24 requests in 3 rounds of 0.2 s = 0.6 s, within the 0.7 s target")
    assert "on 8 TCP connections (budget 8)" in out and out.count("\n") == 1


def test_more_workers_than_connections_also_passes(capsys: pytest.CaptureFixture[str]) -> None:
    passed, out = _verdict(lambda: {"max_connections": 8, "max_keepalive_connections": 8, "workers": 24}, capsys)
    assert passed, out


def _limits(max_connections: int, keepalive: int, workers: int) -> Callable[[], dict[str, int]]:
    return lambda: {"max_connections": max_connections, "max_keepalive_connections": keepalive, "workers": workers}


def stub() -> dict[str, int]:
    raise NotImplementedError  # your code here


def raises() -> dict[str, int]:
    raise ValueError("oops, a typo")


WRONG: dict[str, tuple[Callable[[], Any], list[str]]] = {
    # name: (answer, words the verdict must contain)
    "too few connections": (_limits(4, 4, 4), [
        "at most 4 requests in flight: 6 rounds of 0.2 s = 1.2 s", "over the 0.7 s target",
        "0.7 s holds 3 whole rounds of 0.2 s", "how many requests must be in flight at once"]),
    "one short": (_limits(7, 7, 7), ["at most 7 requests in flight: 4 rounds of 0.2 s = 0.8 s"]),
    "workers below connections": (_limits(8, 8, 4), [
        "only 4 workers, so at most 4 requests in flight", "at least as many workers as connections"]),
    "over the budget": (_limits(12, 12, 12), [
        "max_connections=12 lets the pool open up to 12 TCP connections, over the budget of 8",
        "(this run opened 12)", "Make the pool enforce the budget"]),
    "over the budget, but few workers": (_limits(16, 16, 8), [
        "max_connections=16", "over the budget of 8", "whatever the number of workers"]),
    "no keep-alive": (_limits(8, 0, 8), [
        "the server saw 24 TCP connections for 24 requests", "max_keepalive_connections=0", "churn",
        "max_keepalive_connections equal to max_connections"]),
    "keep-alive below max_connections": (_limits(8, 4, 8), [
        "TCP connections opened in all (never more than", "over the budget of 8",
        "max_keepalive_connections=4 below max_connections=8",
        "httpcore 1.0.9 counts busy connections too"]),
    "not a dict": (lambda: (8, 8, 8), ["choose_pool returned tuple, not a dict."]),
    "return forgotten": (lambda: None, ["choose_pool returned None: is its `return` missing?"]),
    "an httpx.Limits": (lambda: {"limits": httpx.Limits(max_connections=8, max_keepalive_connections=8),
                                 "workers": 8}, ["choose_pool returned an httpx.Limits", "no httpx.Limits"]),
    "only an httpx.Limits": (lambda: httpx.Limits(max_connections=8, max_keepalive_connections=8),
                             ["choose_pool returned an httpx.Limits"]),
    "a key missing": (lambda: {"max_connections": 8, "workers": 8}, [
        "has no max_keepalive_connections", "Return exactly these keys"]),
    "an extra key": (lambda: {"max_connections": 8, "max_keepalive_connections": 8, "workers": 8, "timeout": 1},
                     ["has extra keys timeout"]),
    "a float": (_limits(8, 8, 8.0), ["workers is 8.0, not a whole number."]),  # type: ignore[arg-type]
    "out of range": (_limits(8, 8, 0), [
        "those settings cannot run: workers must be a whole number from 1 to 64, not 0."]),
    "stub": (stub, ["❌ Not yet: choose_pool still raises NotImplementedError."]),
    "another exception": (raises, ["choose_pool raised ValueError: oops, a typo"]),
}


@pytest.mark.parametrize("name", WRONG)
def test_each_wrong_answer_is_rejected_with_a_telling_verdict(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_rejected(check_choose_pool, *WRONG[name], capsys)

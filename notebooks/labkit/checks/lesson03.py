"""Check for 03_pool_sizes_explorer: `choose_pool`, limits and workers that meet a target."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from ..pool import MAX_CONNECTIONS, PoolReport, ideal_elapsed, run_pool_experiment
from ._kernel import exercise_check, fail, learner_call, plural, readable

# The task: REQUESTS requests that each take the server LATENCY seconds, done within DEADLINE
# seconds (judged by queueing theory's count of rounds, so a busy machine cannot fail a right
# answer), on at most BUDGET TCP connections in all, opened once and reused (judged by the lab
# server's own count of connections opened).
# The numbers leave a wide margin on both sides: 8 connections plan 3 rounds (0.6 s), 7 plan 4
# (0.8 s), so a right answer measures well under the target and a wrong one well over it.
REQUESTS = 24
LATENCY = 0.2
DEADLINE = 0.7
BUDGET = 8
KEYS = ("max_connections", "max_keepalive_connections", "workers")
# Settings that plan longer than this are judged by the plan alone, not run: a check stays quick.
LONGEST_RUN = 1.0

RETURN = 'Return {"max_connections": ..., "max_keepalive_connections": ..., "workers": ...}.'


def _settings(got: Any) -> dict[str, int]:
    """The learner's answer as three whole numbers, or a verdict saying what is off."""
    if got is None:
        fail("choose_pool returned None: is its `return` missing?", f"End it: {RETURN}")
    if isinstance(got, httpx.Limits) or (
        isinstance(got, Mapping) and any(isinstance(v, httpx.Limits) for v in got.values())
    ):
        fail(
            "choose_pool returned an httpx.Limits: the check builds the client (and its Limits) "
            "itself, from plain numbers.",
            'Return three whole numbers in a dict: {"max_connections": 8, ...}, no httpx.Limits.',
        )
    if not isinstance(got, Mapping):
        fail(f"choose_pool returned {readable(got)}, not a dict.", RETURN)
    missing = [key for key in KEYS if key not in got]
    extra = sorted(str(key) for key in got if key not in KEYS)
    if missing or extra:
        what = "no " + ", ".join(missing) if missing else "extra keys " + ", ".join(extra)
        fail(f"choose_pool's dict has {what}.", f"Return exactly these keys: {', '.join(KEYS)}.")
    if got["max_connections"] is None:
        fail(
            f"max_connections=None means no limit at all: the pool may open as many TCP "
            f"connections as there are workers, over the budget of {BUDGET}.",
            "Make the pool enforce the budget: give max_connections a number.",
        )
    for key in KEYS:
        value = got[key]
        if not isinstance(value, int) or isinstance(value, bool):
            fail(
                f"{key} is {value!r} ({type(value).__name__}), not a whole number (an int).",
                f"Give {key} as a plain int: no quotes, no decimal point, no None.",
            )
    settings = {key: int(got[key]) for key in KEYS}
    lowest = {"max_connections": 1, "max_keepalive_connections": 0, "workers": 1}
    for key, low in lowest.items():
        if settings[key] < low:
            fail(
                f"{key}={settings[key]} cannot work: it must be at least {low}.",
                f"{key} counts {'threads' if key == 'workers' else 'connections'}: "
                f"give it {low} or more.",
            )
    return settings


def _run(settings: dict[str, int], planned: float) -> PoolReport | None:
    """The experiment, or None when its plan alone already says it is too slow.

    Workers beyond the number of requests never get one, so at most REQUESTS threads run: the
    same experiment, within `run_pool_experiment`'s bounds.
    """
    if planned > LONGEST_RUN or settings["max_connections"] > MAX_CONNECTIONS:
        return None
    workers = min(settings["workers"], REQUESTS)
    return run_pool_experiment(
        max_connections=settings["max_connections"],
        max_keepalive_connections=min(settings["max_keepalive_connections"], MAX_CONNECTIONS),
        workers=workers,
        requests=REQUESTS,
        latency=LATENCY,
    )


def _measured(report: PoolReport | None) -> str:
    if report is None:
        return "too long to be worth running here"
    return f"measured {report.elapsed:.2f} s"


@exercise_check
def check_choose_pool(candidate: Callable[[], dict[str, int]]) -> str:
    """`choose_pool()`: limits and workers for 24 requests of 0.2 s in 0.7 s, on <= 8
    connections."""
    if isinstance(candidate, Mapping) or not callable(candidate):
        what = "the dict it returns" if isinstance(candidate, Mapping) else readable(candidate)
        fail(
            f"check_choose_pool needs the function choose_pool itself, not {what}.",
            "Pass the function, without calling it: check_choose_pool(choose_pool).",
        )
    settings = _settings(
        learner_call(
            "choose_pool",
            candidate,
            hint="choose_pool takes no arguments and returns a dict of three whole numbers.",
        )
    )
    max_connections = settings["max_connections"]
    keepalive = settings["max_keepalive_connections"]
    workers = settings["workers"]
    in_flight = min(workers, max_connections)
    planned = ideal_elapsed(
        max_connections=max_connections, workers=workers, requests=REQUESTS, latency=LATENCY
    )  # queueing theory's plan: whole rounds of LATENCY
    rounds = round(planned / LATENCY)
    report = _run(settings, planned)
    opened = report.connections_opened if report is not None else None
    if max_connections > BUDGET:
        seen = f" (this run opened {opened})" if opened is not None else ""
        fail(
            f"max_connections={max_connections} lets the pool open up to "
            f"{plural(max_connections, 'TCP connection')}, over the budget of {BUDGET}{seen}.",
            f"Make the pool enforce the budget: max_connections={BUDGET} at most, whatever the "
            "number of workers.",
        )
    if planned > DEADLINE + 1e-9:
        timing = (
            f"{rounds} rounds of {LATENCY:g} s = {planned:.1f} s ({_measured(report)}), "
            f"over the {DEADLINE:g} s target"
        )
        if workers < max_connections:
            fail(
                f"only {plural(workers, 'worker')}, so at most "
                f"{plural(workers, 'request')} in flight: {timing}.",
                f"Each worker thread sends one request at a time: give the pool at least as many "
                f"workers as connections ({max_connections} connections sit partly unused).",
            )
        fail(
            f"at most {plural(max_connections, 'request')} in flight: {timing}.",
            f"{DEADLINE:g} s holds {math.floor(DEADLINE / LATENCY + 1e-9)} whole rounds of "
            f"{LATENCY:g} s (a round cannot be split): how many requests must be in flight at "
            f"once to finish {REQUESTS} in that many rounds? The budget allows {BUDGET}.",
        )
    assert report is not None and opened is not None  # a plan within the target always runs
    if keepalive == 0:
        fail(
            f"the server saw {plural(opened, 'TCP connection')} for {REQUESTS} requests: with "
            "max_keepalive_connections=0 every connection is closed after its request "
            "(connection churn).",
            "Let the pool keep its connections between requests: max_keepalive_connections "
            "equal to max_connections.",
        )
    if opened > BUDGET or keepalive < in_flight:
        this_run = (
            f"the server saw {plural(opened, 'TCP connection')} opened in all (never "
            f"more than {report.peak_in_flight} at once), over the budget of {BUDGET}"
            if opened > BUDGET
            else f"this run happened to stay within {plural(opened, 'TCP connection')}, but "
            "another may not"
        )
        fail(
            f"{this_run}: with max_keepalive_connections={keepalive} below max_connections="
            f"{max_connections} ({in_flight} requests in flight), the pool closes connections "
            "between requests and opens new ones.",
            "Set max_keepalive_connections to max_connections (httpcore 1.0.9 counts busy "
            "connections too, so a lower value closes connections you still need).",
        )
    if report.ok != REQUESTS:
        fail(
            f"only {report.ok} of {REQUESTS} requests got an answer "
            f"({plural(report.pool_timeouts, 'pool timeout')}).",
            "Run the cell again; if it persists, re-run the notebook from the top.",
        )
    busy = " (this machine is busy: the plan is what counts)" if report.elapsed > DEADLINE else ""
    return (
        f"{REQUESTS} requests in {rounds} rounds of {LATENCY:g} s = {planned:.1f} s, "
        f"within the {DEADLINE:g} s target (measured {report.elapsed:.2f} s{busy}), on "
        f"{plural(opened, 'TCP connection')} (budget {BUDGET})."
    )

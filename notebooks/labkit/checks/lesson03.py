"""Check for 03_pool_sizes_explorer: `choose_pool`, limits and workers that meet a target."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx

from ..pool import run_pool_experiment
from ._framework import exercise_check, fail, learner_call

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


def _settings(got: Any) -> dict[str, int]:
    """The learner's answer as three whole numbers, or a verdict saying what is off."""
    if got is None:
        fail("choose_pool returned None: is its `return` missing?",
             'End it with return {"max_connections": ..., "max_keepalive_connections": ..., '
             '"workers": ...}.')
    if isinstance(got, httpx.Limits) or (
            isinstance(got, dict) and any(isinstance(v, httpx.Limits) for v in got.values())):
        fail("choose_pool returned an httpx.Limits: the check builds the client (and its Limits) "
             "itself, from plain numbers.",
             'Return three whole numbers in a dict: {"max_connections": 8, ...}, no httpx.Limits.')
    if not isinstance(got, dict):
        fail(f"choose_pool returned {type(got).__name__}, not a dict.",
             'Return {"max_connections": ..., "max_keepalive_connections": ..., "workers": ...}.')
    missing = [key for key in KEYS if key not in got]
    extra = sorted(str(key) for key in got if key not in KEYS)
    if missing or extra:
        what = "no " + ", ".join(missing) if missing else "extra keys " + ", ".join(extra)
        fail(f"choose_pool's dict has {what}.", f"Return exactly these keys: {', '.join(KEYS)}.")
    for key in KEYS:
        if not isinstance(got[key], int) or isinstance(got[key], bool):
            fail(f"{key} is {got[key]!r}, not a whole number.", f"Give {key} as an int, e.g. 4.")
    return {key: got[key] for key in KEYS}


@exercise_check
def check_choose_pool(candidate: Callable[[], dict[str, int]]) -> str:
    """`choose_pool()`: limits and workers for 24 requests of 0.2 s in 0.7 s, on <= 8 connections."""
    settings = _settings(learner_call(
        "choose_pool", candidate,
        hint="choose_pool takes no arguments and returns a dict of three whole numbers."))
    max_connections = settings["max_connections"]
    keepalive = settings["max_keepalive_connections"]
    workers = settings["workers"]
    try:
        report = run_pool_experiment(**settings, requests=REQUESTS, latency=LATENCY)
    except ValueError as exc:
        fail(f"those settings cannot run: {exc}.",
             f"Pick small whole numbers: the budget is {BUDGET} connections.")
    opened = report.connections_opened
    if max_connections > BUDGET:
        fail(f"max_connections={max_connections} lets the pool open up to {max_connections} TCP "
             f"connections, over the budget of {BUDGET} (this run opened {opened}).",
             f"Make the pool enforce the budget: max_connections={BUDGET} at most, whatever the "
             "number of workers.")
    if keepalive == 0:
        fail(f"the server saw {opened} TCP connections for {REQUESTS} requests: with "
             "max_keepalive_connections=0 every connection is closed after its request "
             "(connection churn).",
             "Let the pool keep its connections between requests: max_keepalive_connections "
             "equal to max_connections.")
    if opened > BUDGET:
        fail(f"the server saw {opened} TCP connections opened in all (never more than "
             f"{report.peak_in_flight} at once), over the budget of {BUDGET}: with "
             f"max_keepalive_connections={keepalive} below max_connections={max_connections}, the "
             "pool closed connections between requests and opened new ones.",
             "Set max_keepalive_connections to max_connections (httpcore 1.0.9 counts busy "
             "connections too, so a lower value closes connections you still need).")
    if report.ok != REQUESTS:
        fail(f"only {report.ok} of {REQUESTS} requests got an answer "
             f"({report.pool_timeouts} pool timeouts).",
             "Run the cell again; if it persists, re-run the notebook from the top.")
    planned = report.ideal_elapsed  # queueing theory's plan: whole rounds of LATENCY
    rounds = round(planned / LATENCY)
    if planned > DEADLINE + 1e-9:
        if workers < max_connections:
            fail(f"only {workers} workers, so at most {workers} requests in flight: {rounds} rounds "
                 f"of {LATENCY:g} s = {planned:.1f} s (measured {report.elapsed:.2f} s), "
                 f"over the {DEADLINE:g} s target.",
                 f"Each worker thread sends one request at a time: give the pool at least as many "
                 f"workers as connections ({max_connections} connections sit partly unused).")
        fail(f"at most {max_connections} requests in flight: {rounds} rounds of {LATENCY:g} s = "
             f"{planned:.1f} s (measured {report.elapsed:.2f} s), over the {DEADLINE:g} s "
             "target.",
             f"{DEADLINE:g} s holds {math.floor(DEADLINE / LATENCY + 1e-9)} whole rounds of "
             f"{LATENCY:g} s (a round cannot be split): how many requests must be in flight at "
             f"once to finish {REQUESTS} in that many rounds? The budget allows {BUDGET}.")
    busy = " (this machine is busy: the plan is what counts)" if report.elapsed > DEADLINE else ""
    return (f"{REQUESTS} requests in {rounds} rounds of {LATENCY:g} s = {planned:.1f} s, "
            f"within the {DEADLINE:g} s target (measured {report.elapsed:.2f} s{busy}), on {opened} "
            f"TCP connections (budget {BUDGET}).")

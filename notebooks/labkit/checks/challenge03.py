"""Challenge for 03_pool_sizes_explorer: size a pool from a service's description.

The service allows CAP connections and answers in LATENCY seconds; the app's THREADS request
threads call it all at once (REQUESTS calls), which must all be answered within DEADLINE
seconds; and a call that cannot get a connection must give up within BUDGET seconds (the pool
timeout). The naive answer stretches the pool timeout over the whole queue wait (over the
budget), or raises max_connections so nobody waits (over the cap): the pool timeout is not a
deadline, and a connection comes free every LATENCY seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx

from ..pool import run_pool_experiment
from ._kernel import exercise_check, learner_call
from .challenge_hints import HintSteps

CAP = 4
LATENCY = 0.25
THREADS = REQUESTS = 20
DEADLINE = 1.5
BUDGET = 0.5
# A pool timeout must outlast the gap between freed connections (LATENCY) with room to spare on
# a busy machine; judged by plan, so a loaded machine cannot fail a right answer.
MARGIN = 0.1
KEYS = ("max_connections", "max_keepalive_connections", "pool_timeout")

STEPS = HintSteps(
    "check_size_for_service",
    {
        "budget": "Section 6, 'The pool timeout is not a deadline', runs a case like this one.",
        "timeouts": "Section 6 runs two cases side by side, patient and impatient: which one is "
        "yours, and what made the difference?",
        "cap": "Section 7, 'Choosing sizes', point 1.",
        "keepalive": "Section 7, 'Choosing sizes', point 3, and the honest note after it.",
        "deadline": "Section 2: queueing theory's ideal time, in rounds.",
        "shape": "",
    },
    prefix="c3",
)


def _settings(got: Any) -> tuple[int, int, float]:
    if isinstance(got, (httpx.Limits, httpx.Timeout)) or (
        isinstance(got, dict)
        and any(isinstance(v, (httpx.Limits, httpx.Timeout)) for v in got.values())
    ):
        STEPS.fail(
            "shape",
            "size_for_service returned httpx objects: the check builds the "
            "client itself, from plain numbers.",
            "Return {'max_connections': ..., 'max_keepalive_connections': ..., "
            "'pool_timeout': ...}: two whole numbers and seconds.",
        )
    if not isinstance(got, dict):
        STEPS.fail(
            "shape",
            f"size_for_service returned {type(got).__name__}, not a dict.",
            "Return {'max_connections': ..., 'max_keepalive_connections': ..., "
            "'pool_timeout': ...}.",
        )
    missing = [key for key in KEYS if key not in got]
    extra = sorted(str(key) for key in got if key not in KEYS)
    if missing or extra:
        what = "no " + ", ".join(missing) if missing else "extra keys " + ", ".join(extra)
        why = " (the threads are the app's: 20, not yours to choose)" if "workers" in extra else ""
        STEPS.fail(
            "shape",
            f"size_for_service's dict has {what}{why}.",
            f"Return exactly these keys: {', '.join(KEYS)}.",
        )
    for key in KEYS[:2]:
        if not isinstance(got[key], int) or isinstance(got[key], bool) or got[key] < 1:
            STEPS.fail(
                "shape",
                f"{key} is {got[key]!r}, not a whole number of 1 or more.",
                f"Give {key} as an int, e.g. {CAP}.",
            )
    timeout = got["pool_timeout"]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        STEPS.fail(
            "shape",
            f"pool_timeout is {timeout!r}, not seconds above 0.",
            f"Give pool_timeout in seconds, as a float, e.g. {LATENCY + MARGIN + 0.05:g}.",
        )
    return got["max_connections"], got["max_keepalive_connections"], float(timeout)


@exercise_check
def check_size_for_service(candidate: Callable[[], dict[str, Any]]) -> str:
    """`size_for_service()`: limits and a pool timeout that keep the cap, deadline and budget."""
    connections, keepalive, timeout = _settings(
        learner_call(
            "size_for_service",
            candidate,
            hint="size_for_service takes no arguments and returns a dict of three numbers.",
        )
    )
    if timeout > BUDGET + 1e-9:
        STEPS.fail(
            "budget",
            f"pool_timeout={timeout:g} is over the {BUDGET:g} s budget: if the service "
            f"stalled, a call would wait {timeout:g} s for a connection before giving up.",
            f"Keep pool_timeout at {BUDGET:g} s or less. If you chose it to cover the "
            "longest wait in the queue: does a call that waits in the queue longer than "
            "the pool timeout really fail?",
        )
    report = run_pool_experiment(
        max_connections=min(connections, 64),
        max_keepalive_connections=min(keepalive, 64),
        workers=THREADS,
        requests=REQUESTS,
        latency=LATENCY,
        pool_timeout=timeout,
    )
    opened, failed = report.connections_opened, report.pool_timeouts
    if connections > CAP:
        STEPS.fail(
            "cap",
            f"max_connections={connections} lets the pool open more connections than the "
            f"service allows ({CAP}); this run opened {opened}.",
            f"The cap is the service's: max_connections={CAP} at most. Calls beyond it "
            "queue in the pool; the pool timeout decides whether they may.",
        )
    if keepalive < connections:
        STEPS.fail(
            "keepalive",
            f"the server saw {opened} TCP connections for max_connections={connections}: "
            f"with max_keepalive_connections={keepalive}, the pool closed connections "
            "between calls and opened new ones.",
            "Keep every connection between calls: max_keepalive_connections equal to "
            "max_connections.",
        )
    rounds = math.ceil(REQUESTS / min(THREADS, connections))
    if rounds * LATENCY > DEADLINE + 1e-9:
        STEPS.fail(
            "deadline",
            f"at most {connections} calls in flight: {rounds} rounds of {LATENCY:g} s = "
            f"{rounds * LATENCY:.2f} s (measured {report.elapsed:.2f} s), over the "
            f"{DEADLINE:g} s deadline.",
            f"How many calls must be in flight at once to finish {REQUESTS} within "
            f"{DEADLINE:g} s? The service allows {CAP}.",
        )
    if timeout < LATENCY + MARGIN:
        seen = (
            f"{failed} of {REQUESTS} calls failed with httpx.PoolTimeout in this run"
            if failed
            else "no PoolTimeout in this run, but a slower answer or a busy machine gives them"
        )
        STEPS.fail(
            "timeouts",
            f"pool_timeout={timeout:g}: a waiting call gives up unless a connection comes "
            f"free within {timeout:g} s, and one comes free only every {LATENCY:g} s (the "
            f"service's latency); {seen}.",
            f"Give a waiting call time to see the next connection come free, with the room "
            f"the service's note asks for ({MARGIN:g} s above {LATENCY:g} s: at least "
            f"{LATENCY + MARGIN:g} s), while staying within the {BUDGET:g} s budget.",
        )
    STEPS.passed()
    longer = (
        f", longer than the {timeout:g} s pool timeout" if report.longest_wait > timeout else ""
    )
    busy = (
        f"; {failed} PoolTimeouts on this busy machine, where the plan is what counts"
        if failed
        else ""
    )
    return (
        f"{REQUESTS} calls in {rounds} rounds of {LATENCY:g} s = {rounds * LATENCY:.2f} s, "
        f"within the {DEADLINE:g} s deadline, on {opened} TCP connections (cap {CAP}); the "
        f"longest wait for a connection was {report.longest_wait:.2f} s{longer}, and a "
        f"connection came free every {LATENCY:g} s{busy}."
    )

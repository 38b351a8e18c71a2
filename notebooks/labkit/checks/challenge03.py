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
from ._kernel import exercise_check, flunk, learner_call

CAP = 4
LATENCY = 0.25
THREADS = REQUESTS = 20
DEADLINE = 1.5
BUDGET = 0.5
# A pool timeout must outlast the gap between freed connections (LATENCY) with room to spare on
# a busy machine; judged by plan, so a loaded machine cannot fail a right answer.
MARGIN = 0.1
KEYS = ("max_connections", "max_keepalive_connections", "pool_timeout")


def _settings(candidate: Callable[[], dict[str, Any]]) -> tuple[int, int, float]:
    """The answer's three numbers, once they are a dict of the right keys and types."""
    got: Any = learner_call("size_for_service", candidate, mistake="c3.raised")
    values = got.values() if isinstance(got, dict) else [got]
    if any(isinstance(value, (httpx.Limits, httpx.Timeout)) for value in values):
        flunk("c3.httpx-objects")
    if not isinstance(got, dict):
        flunk("c3.not-a-dict", got=type(got).__name__)
    missing = [key for key in KEYS if key not in got]
    extra = sorted(str(key) for key in got if key not in KEYS)
    if missing or extra:
        what = "no " + ", ".join(missing) if missing else "extra keys " + ", ".join(extra)
        why = " (the threads are the app's: 20, not yours to choose)" if "workers" in extra else ""
        flunk("c3.keys", what=what, why=why, keys=", ".join(KEYS))
    for key in KEYS[:2]:
        if not isinstance(got[key], int) or isinstance(got[key], bool) or got[key] < 1:
            flunk("c3.not-whole", key=key, got=repr(got[key]), example=CAP)
    timeout = got["pool_timeout"]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        flunk("c3.bad-timeout", got=repr(timeout), example=f"{LATENCY + MARGIN + 0.05:g}")
    return got["max_connections"], got["max_keepalive_connections"], float(timeout)


@exercise_check
def check_size_for_service(candidate: Callable[[], dict[str, Any]]) -> str:
    """`size_for_service()`: limits and a pool timeout that keep the cap, deadline and budget."""
    connections, keepalive, timeout = _settings(candidate)
    # The service's numbers and the answer's, as every verdict writes them.
    words = {"timeout": f"{timeout:g}", "connections": connections, "requests": REQUESTS}
    words |= {"latency": f"{LATENCY:g}", "deadline": f"{DEADLINE:g}", "budget": f"{BUDGET:g}"}
    words |= {"cap": CAP, "margin": f"{MARGIN:g}", "least": f"{LATENCY + MARGIN:g}"}
    if timeout > BUDGET + 1e-9:
        flunk("c3.budget", **words)
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
        flunk("c3.cap", opened=opened, **words)
    rounds = math.ceil(REQUESTS / min(THREADS, connections))
    ideal = rounds * LATENCY
    if ideal > DEADLINE + 1e-9:
        elapsed = f"{report.elapsed:.2f}"
        flunk("c3.deadline", rounds=rounds, ideal=f"{ideal:.2f}", elapsed=elapsed, **words)
    if timeout < LATENCY + MARGIN:
        seen = (
            f"{failed} of {REQUESTS} calls failed with httpx.PoolTimeout in this run"
            if failed
            else "no PoolTimeout in this run, but a slower answer or a busy machine gives them"
        )
        flunk("c3.timeouts", seen=seen, **words)
    # After the timeouts: calls that gave up opened no connection, so the count shows no churn.
    if keepalive < connections:
        flunk("c3.keepalive", opened=opened, keepalive=keepalive, **words)
    wait = report.longest_wait
    longer = f", longer than the {timeout:g} s pool timeout" if wait > timeout else ""
    busy = f"; {failed} PoolTimeouts on this busy machine, where the plan is what counts"
    return (
        f"{REQUESTS} calls in {rounds} rounds of {LATENCY:g} s = {ideal:.2f} s, within the "
        f"{DEADLINE:g} s deadline, on {opened} TCP connections (cap {CAP}); the longest wait "
        f"for a connection was {wait:.2f} s{longer}, and a connection came free every "
        f"{LATENCY:g} s{busy if failed else ''}."
    )

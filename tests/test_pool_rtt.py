"""Pool experiments across a simulated round trip: the ideal counts the handshakes, the
timeline draws them, and the explorer's round-trip slider reaches the experiment.

No timing upper bound is asserted (the bench measures how close runs come); what is held is the
floor the round trips set, and which requests opened connections.
"""

from __future__ import annotations

import math

import pytest

from labkit import explore_pool, run_pool_experiment
from labkit.pool import RequestOutcome, ideal_elapsed, waiting_steps


@pytest.mark.parametrize(
    ("tls", "requests", "expected"),
    [
        (False, 6, 3 * (0.1 + 0.05) + 0.05),  # 3 rounds, each a round trip more; TCP's once
        (True, 6, 3 * (0.1 + 0.05) + 2 * 0.05),  # and TLS 1.3's round trip
        (True, 1, 1 * (0.1 + 0.05) + 2 * 0.05),
        (True, 0, 0.0),  # no request, no connection
    ],
)
def test_the_ideal_counts_round_trips_and_one_handshake_per_lane(
    tls: bool, requests: int, expected: float
) -> None:
    ideal = ideal_elapsed(
        max_connections=2, workers=4, requests=requests, latency=0.1, rtt=0.05, tls=tls
    )
    assert ideal == pytest.approx(expected)


def test_a_cold_pool_pays_its_handshakes_and_the_timeline_shows_them() -> None:
    rtt = 0.04
    report = run_pool_experiment(
        max_connections=2,
        max_keepalive_connections=2,
        workers=2,
        requests=4,
        latency=0.02,
        tls=True,
        rtt=rtt,
    )
    # Two lanes: two connections (one, if a worker started a whole request late: a busy machine).
    assert report.ok == 4 and report.connections_opened in (1, 2)
    assert report.ideal_elapsed == pytest.approx(2 * (0.02 + rtt) + 2 * rtt)
    assert report.elapsed >= report.ideal_elapsed * 0.95  # round trips are a floor
    opened = [r for r in report.records if r.connecting is not None]
    assert len(opened) == report.connections_opened  # the first requests opened them ...
    for record in opened:
        assert record.connected is not None and record.sent == record.connected
        # ... and each waited TCP's and TLS's round trips before it could leave.
        assert record.connected - record.connecting >= 2 * rtt * 0.95
    reused = [r for r in report.records if r.connecting is None]
    assert all(r.connected is None and r.sent is not None for r in reused)
    figure = report.plot()
    assert len(figure.axes[0].patches) == 4 + len(opened)  # a bar per request and per handshake
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert "opening the connection (handshakes)" in legend
    assert "across a 40 ms round trip" in figure.get_suptitle()
    assert report.summary_lines()[-1] == (
        "round trip: 40 ms; a new connection waits 2 round trips (0.08 s) before its first "
        f"request: {len(opened)} opened, the ideal counts 2 (one per lane, opened side by side)"
    )
    assert repr(report).startswith("PoolReport: 4 requests of 0.02 s over HTTPS across a 40 ms")


def test_churn_pays_a_handshake_for_every_connection_it_reopens() -> None:
    rtt = 0.03
    report = run_pool_experiment(
        max_connections=2,
        max_keepalive_connections=0,
        workers=2,
        requests=4,
        latency=0.0,
        rtt=rtt,
    )
    assert report.connections_opened == 4
    assert all(r.connecting is not None for r in report.records)
    # Two lanes, two requests each, every one behind a handshake: the ideal counts only one.
    assert report.elapsed >= 2 * (rtt + rtt) * 0.95
    assert len(report.plot().axes[0].patches) == 4 + 4


def test_on_loopback_no_handshake_is_drawn() -> None:
    report = run_pool_experiment(
        max_connections=2, max_keepalive_connections=2, workers=2, requests=2, latency=0.0
    )
    # One bar per request and none for a handshake, however many connections the two workers
    # opened (with answers of 0 s, one connection can serve both on a loaded machine).
    assert report.rtt == 0.0 and report.connections_opened >= 1
    assert len(report.plot().axes[0].patches) == report.requests == 2
    assert not any(line.startswith("round trip") for line in report.summary_lines())


@pytest.mark.parametrize("rtt", [-0.01, math.nan, 0.6, True, "0.05"])
def test_a_bad_rtt_is_refused_naming_it(rtt: object) -> None:
    with pytest.raises(ValueError) as raised:
        run_pool_experiment(
            max_connections=1,
            max_keepalive_connections=1,
            workers=1,
            requests=1,
            latency=0.0,
            rtt=rtt,  # type: ignore[arg-type]
        )
    assert str(raised.value) == f"rtt must be a number of seconds from 0 up to 0.5, not {rtt!r}"


def test_the_round_trip_slider_reaches_the_estimate_and_the_experiment() -> None:
    panel = explore_pool()
    slider = panel.controls["rtt_ms"]
    assert (slider.description, slider.min, slider.max, slider.value) == (
        "round trip (ms)",
        0,
        100,
        0,
    )
    for name, value in {"requests": 4, "latency_ms": 0, "workers": 2, "max_connections": 2}.items():
        panel.controls[name].value = value
    assert "handshakes" not in panel.estimate.value
    slider.value = 30
    panel.protocol.value = True
    assert panel.settings()["rtt"] == 0.03
    # 2 rounds of a round trip, after TCP's and TLS's: 0.12 s.
    assert "first connections' handshakes (2 x 0.03 s)" in panel.estimate.value
    assert "about 0.12 s" in panel.estimate.value
    panel.run_button.click()
    report = panel.last_report
    assert report is not None and (report.rtt, report.tls) == (0.03, True)
    assert "round trip: 30 ms" in panel.summary.value


def test_the_queue_panel_counts_a_request_opening_a_connection_as_served() -> None:
    # Asked at 0, began its handshakes at 0.1, reached the server at 0.3: it waited 0.1 s for
    # the pool; the handshakes are drawn on its lane, not counted in the queue.
    opening = RequestOutcome(0, 1, 0.0, 0.3, 0.4, "ok", connecting=0.1, connected=0.25, sent=0.25)
    pooled = RequestOutcome(1, 1, 0.0, 0.5, 0.6, "ok", sent=0.45)
    assert waiting_steps([opening, pooled]) == [(0.0, 2), (0.1, 1), (0.5, 0)]


def test_a_new_http_connection_connects_a_round_trip_after_it_began() -> None:
    """Over HTTP, a new connection's handshake is one round trip on its lane: it is connected
    an rtt after it began connecting, and its request leaves then."""
    report = run_pool_experiment(
        max_connections=1, max_keepalive_connections=1, workers=1, requests=2, latency=0, rtt=0.1
    )
    first = report.records[0]
    assert first.connecting is not None and first.connected is not None
    assert first.connected - first.connecting >= 0.1 - 1e-9
    assert first.sent == first.connected

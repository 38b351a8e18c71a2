"""The explorer's wiring: each slider reaches the experiment as its own setting.

Driven through the widget object, as a person would (set sliders, click Run), no browser. The
sliders are set to *unequal* values, so a setting read from the wrong slider shows, and it is
judged by what the lab server saw (connections opened, requests in flight), not by the report's
echo of its arguments.
"""

from __future__ import annotations

from typing import Any

import pytest

import labkit.widgets
from labkit import PoolReport
from tests.explorer import explorer_with


@pytest.fixture(autouse=True)
def no_timeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The timeline PNG is tested in test_pool.py; drawing it here would cost 1-5 s a run."""

    def summary_only(report: PoolReport) -> dict[str, Any]:
        return {"output_type": "display_data", "data": {"text/plain": ""}, "metadata": {}}

    monkeypatch.setattr(labkit.widgets, "_figure_output", summary_only)


def test_each_slider_reaches_its_own_setting() -> None:
    panel = explorer_with(
        max_connections=3, max_keepalive_connections=0, workers=2, requests=4, latency_ms=100
    )
    panel.run_button.click()
    report = panel.last_report
    assert report is not None and report.ok == 4
    # max_keepalive_connections=0: every connection closes after its answer, one per request
    # (read from the max_connections slider, 3, the pool would keep them and open only 2).
    assert report.connections_opened == 4
    assert sorted(r.connection or 0 for r in report.records) == [1, 2, 3, 4]  # None: never sent
    # workers=2 under max_connections=3: never more than 2 in flight at the server.
    assert 1 <= report.peak_in_flight <= 2
    assert report.latency == 0.1 and all(
        r.finished - r.started >= 0.1 for r in report.records if r.started is not None
    )


def test_max_connections_caps_what_the_server_sees_below_workers_and_keepalive() -> None:
    panel = explorer_with(
        max_connections=1, max_keepalive_connections=3, workers=3, requests=3, latency_ms=50
    )
    panel.run_button.click()
    report = panel.last_report
    assert report is not None and report.ok == 3
    assert report.peak_in_flight == 1 and report.connections_opened == 1


def test_the_pool_timeout_slider_reaches_the_client() -> None:
    """One connection, two workers, a request of 0.5 s: the second waits, and with the slider's
    0.1 s pool timeout it gives up (at the 5 s default it would be served). Margins: a loaded
    machine makes the first request slower, so the wait only longer; the second worker would
    have to start 0.4 s after the first to find the connection free."""
    panel = explorer_with(
        max_connections=1,
        max_keepalive_connections=1,
        workers=2,
        requests=2,
        latency_ms=500,
        pool_timeout=0.1,
    )
    panel.run_button.click()
    report = panel.last_report
    assert report is not None and (report.ok, report.pool_timeouts) == (1, 1)


def test_the_prediction_names_the_smaller_of_workers_and_max_connections() -> None:
    panel = explorer_with(max_connections=3, workers=2, requests=5)
    assert "at most 2 requests in flight at once" in panel.estimate.value
    assert "3 rounds of 0.1 s" in panel.estimate.value  # ceil(5 / 2)
    panel.controls["workers"].value = 9
    assert "at most 3 requests in flight at once" in panel.estimate.value


def test_a_run_of_exactly_the_cap_may_start() -> None:
    """The cap is the longest run the explorer starts: 16 rounds of 0.5 s = 8 s is allowed."""
    panel = explorer_with(max_connections=1, workers=1, requests=16, latency_ms=500)
    assert "about 8.00 s" in panel.estimate.value and not panel.run_button.disabled
    panel.controls["requests"].value = 17
    assert panel.run_button.disabled


def test_the_progress_bar_moves_one_answer_at_a_time() -> None:
    panel = explorer_with(requests=5, workers=1, latency_ms=0)
    seen: list[int] = []
    panel.progress.observe(lambda change: seen.append(change["new"]), names="value")
    panel.run_button.click()
    assert seen == [0, 1, 2, 3, 4, 5] or seen == [1, 2, 3, 4, 5], seen

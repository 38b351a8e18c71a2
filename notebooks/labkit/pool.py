"""Pool experiments: many threads, one shared client, a pool of a chosen size, and what happened.

`run_pool_experiment` sends `requests` GETs of `/delay/<latency>` from `workers` threads that
share one `httpx.Client` with the `httpx.Limits` you choose, against a LabServer of its own. The
server is the witness: it counts the TCP connections and records when it served each request,
so the report says what the pool *did*, not what we hoped. Queueing theory says what it should
do: `workers` threads but only `max_connections` connections means at most
`min(workers, max_connections)` requests in flight, so `requests` of them take
`ceil(requests / min(workers, max_connections))` rounds of `latency` seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx

from .server import LabServer, RequestRecord

if TYPE_CHECKING:  # matplotlib loads only when a report is plotted
    from matplotlib.figure import Figure

__all__ = ["PoolReport", "RequestOutcome", "peak_in_flight", "run_pool_experiment"]

# Upper bounds that keep one experiment short (a lesson cell, a widget click, a test).
MAX_CONNECTIONS = 100
MAX_WORKERS = 64
MAX_REQUESTS = 1000
MAX_LATENCY = 2.0  # seconds the server waits per request
MAX_POOL_TIMEOUT = 30.0
MAX_IDEAL_ELAPSED = 30.0  # ceil(requests / min(workers, max_connections)) * latency

OK = "ok"
POOL_TIMEOUT = "pool timeout"


@dataclass(frozen=True)
class RequestOutcome:
    """One request of an experiment. Times are seconds since the experiment started.

    `asked`: when a worker called `client.get`; `started`: when the server began to serve it
    (None if it never got there); `finished`: when the worker had the answer (or the error).
    From `asked` to `started` the request waited for a connection (and opened one if it was new).
    """

    index: int
    connection: int | None  # the server's number for the TCP connection; None: it never arrived
    asked: float
    started: float | None
    finished: float
    outcome: str  # "ok", "pool timeout", or the name of another error

    @property
    def waited(self) -> float:
        """Seconds from asking to being served: the wait for a connection (and its set-up)."""
        return (self.started if self.started is not None else self.finished) - self.asked


@dataclass(frozen=True)
class PoolReport:
    """What one `run_pool_experiment` did. Its repr is a readable summary; `.plot()` draws it."""

    max_connections: int
    max_keepalive_connections: int
    workers: int
    requests: int
    latency: float
    tls: bool
    pool_timeout: float
    connections_opened: int  # counted by the server
    elapsed: float  # seconds from the first request asked to the last one answered
    ideal_elapsed: float  # what queueing theory says, with no overhead at all
    peak_in_flight: int  # most requests the server was serving at once, from its records
    pool_timeouts: int
    records: tuple[RequestOutcome, ...] = field(repr=False)

    @property
    def ok(self) -> int:
        """How many requests got their answer."""
        return sum(record.outcome == OK for record in self.records)

    @property
    def ratio(self) -> float:
        """elapsed / ideal_elapsed: 1.0 is queueing theory exactly (inf if the ideal is 0)."""
        return self.elapsed / self.ideal_elapsed if self.ideal_elapsed else math.inf

    def summary_lines(self) -> list[str]:
        """The report's figures, one per line; the first is always `connections opened: N`."""
        failed = len(self.records) - self.ok - self.pool_timeouts
        return [
            f"connections opened: {self.connections_opened} (max_connections="
            f"{self.max_connections}, max_keepalive_connections={self.max_keepalive_connections})",
            f"elapsed: {self.elapsed:.2f} s, ideal {self.ideal_elapsed:.2f} s "
            f"(ratio {self.ratio:.2f})",
            f"peak in flight: {self.peak_in_flight} (workers={self.workers})",
            f"answered: {self.ok} of {self.requests}; pool timeouts: {self.pool_timeouts}"
            + (f"; other errors: {failed}" if failed else ""),
        ]

    def __repr__(self) -> str:
        scheme = "HTTPS" if self.tls else "HTTP"
        head = (f"PoolReport: {self.requests} requests of {self.latency:g} s over {scheme}, "
                f"{self.workers} workers, pool timeout {self.pool_timeout:g} s")
        return "\n  ".join([head, *self.summary_lines()])

    def plot(self) -> Figure:
        """A timeline: one lane per TCP connection, one bar per request, waits drawn apart.

        A plain `matplotlib.figure.Figure` (not pyplot): nothing is left open or shown behind
        your back. Show it as a cell's last expression, or `fig.savefig(...)`.
        """
        return plot_report(self)


def peak_in_flight(records: Sequence[RequestRecord]) -> int:
    """The most requests the server was serving at the same moment, from its own records."""
    events = sorted([(r.started, 1) for r in records] + [(r.finished, -1) for r in records])
    peak = current = 0
    for _, change in events:  # at equal times, -1 sorts first: back-to-back is not overlap
        current += change
        peak = max(peak, current)
    return peak


def ideal_elapsed(*, max_connections: int, workers: int, requests: int, latency: float) -> float:
    """Queueing theory: ceil(requests / min(workers, max_connections)) rounds of latency."""
    return math.ceil(requests / min(workers, max_connections)) * latency


def _whole(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return value


def _seconds(name: str, value: object, low: float, high: float, *, low_open: bool = False) -> float:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    seconds = float(value) if number else math.nan  # type: ignore[arg-type]
    too_low = seconds <= low if low_open else seconds < low
    if not math.isfinite(seconds) or too_low or seconds > high:
        bound = f"more than {low:g}" if low_open else f"from {low:g}"
        raise ValueError(f"{name} must be a number of seconds {bound} up to {high:g}, not {value!r}")
    return seconds


def _request_index(path: str) -> int | None:
    """`/delay/0.1?i=7` -> 7: how the server's records are matched to our requests."""
    values = parse_qs(urlsplit(path).query).get("i")
    return int(values[0]) if values and values[0].isdigit() else None


def run_pool_experiment(
    *,
    max_connections: int,
    max_keepalive_connections: int,
    workers: int,
    requests: int,
    latency: float,
    tls: bool = False,
    pool_timeout: float = 5.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> PoolReport:
    """Send `requests` GETs of `/delay/<latency>` from `workers` threads sharing one client.

    The client has `httpx.Limits(max_connections, max_keepalive_connections)` and
    `httpx.Timeout(10.0, pool=pool_timeout)`. A `PoolTimeout` is counted, not raised. The lab
    server is started for this run and closed before returning. `on_progress(done, total)` is
    called in the calling thread after each request (for a progress bar).

    Bounds, so one run stays short: max_connections 1-100, max_keepalive_connections 0-100,
    workers 1-64, requests 0-1000, latency 0-2 s, pool_timeout up to 30 s, and an ideal
    elapsed time of at most 30 s.
    """
    _whole("max_connections", max_connections, 1, MAX_CONNECTIONS)
    _whole("max_keepalive_connections", max_keepalive_connections, 0, MAX_CONNECTIONS)
    _whole("workers", workers, 1, MAX_WORKERS)
    _whole("requests", requests, 0, MAX_REQUESTS)
    latency = _seconds("latency", latency, 0.0, MAX_LATENCY)
    pool_timeout = _seconds("pool_timeout", pool_timeout, 0.0, MAX_POOL_TIMEOUT, low_open=True)
    if not isinstance(tls, bool):
        raise ValueError(f"tls must be True or False, not {tls!r}")
    if on_progress is not None and not callable(on_progress):
        raise ValueError(f"on_progress must be a function (done, total) or None, "
                         f"not {on_progress!r}")
    ideal = ideal_elapsed(max_connections=max_connections, workers=workers, requests=requests,
                          latency=latency)
    if ideal > MAX_IDEAL_ELAPSED:
        raise ValueError(
            f"requests={requests}, latency={latency:g}, workers={workers}, max_connections="
            f"{max_connections} would take about {ideal:g} s (at most {MAX_IDEAL_ELAPSED:g} s): "
            "send fewer or shorter requests, or allow more at once")

    limits = httpx.Limits(max_connections=max_connections,
                          max_keepalive_connections=max_keepalive_connections)
    timeout = httpx.Timeout(10.0, pool=pool_timeout)
    asked: dict[int, float] = {}
    answered: dict[int, tuple[float, str]] = {}

    with LabServer(tls=tls) as server:
        url = f"{server.url}/delay/{latency:g}"
        with httpx.Client(limits=limits, timeout=timeout, **server.client_kwargs()) as client:

            def one_request(index: int) -> None:
                asked[index] = time.perf_counter()
                try:
                    client.get(url, params={"i": index}).raise_for_status()
                    outcome = OK
                except httpx.PoolTimeout:
                    outcome = POOL_TIMEOUT
                except Exception as exc:  # noqa: BLE001 - any other failure is part of the report
                    outcome = type(exc).__name__
                answered[index] = (time.perf_counter(), outcome)

            start = time.perf_counter()
            with ThreadPoolExecutor(workers, thread_name_prefix="pool-experiment") as pool:
                futures = [pool.submit(one_request, index) for index in range(requests)]
                for done, future in enumerate(as_completed(futures), start=1):
                    future.result()
                    if on_progress is not None:
                        on_progress(done, requests)
            elapsed = time.perf_counter() - start if requests else 0.0
        seen = {_request_index(record.path): record for record in server.requests}
        opened = server.connections_opened

    records = []
    for index in range(requests):
        finished, outcome = answered[index]
        served = seen.get(index)
        records.append(RequestOutcome(
            index=index,
            connection=served.connection if served else None,
            asked=asked[index] - start,
            started=served.started - start if served else None,
            finished=finished - start,
            outcome=outcome,
        ))
    return PoolReport(
        max_connections=max_connections,
        max_keepalive_connections=max_keepalive_connections,
        workers=workers,
        requests=requests,
        latency=latency,
        tls=tls,
        pool_timeout=pool_timeout,
        connections_opened=opened,
        elapsed=elapsed,
        ideal_elapsed=ideal,
        peak_in_flight=peak_in_flight(list(seen.values())),
        pool_timeouts=sum(record.outcome == POOL_TIMEOUT for record in records),
        records=tuple(records),
    )


WAIT_COLOUR = "#b0bec5"
WAIT_EDGE = "#607d8b"
FLIGHT_COLOUR = "#2e86c1"
TIMEOUT_COLOUR = "#c0392b"


def plot_report(report: PoolReport) -> Figure:
    """Draw `report` as a timeline (see `PoolReport.plot`)."""
    from matplotlib.figure import Figure  # heavy: loaded only when something is drawn
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    connections = sorted({r.connection for r in report.records if r.connection is not None})
    lanes = {connection: lane for lane, connection in enumerate(connections)}
    stranded = [r for r in report.records if r.connection is None]
    labels = [f"connection {c}" for c in connections] + (["no connection"] if stranded else [])
    figure = Figure(figsize=(8, 1.9 + 0.35 * max(len(labels), 1)), layout="constrained")
    axes = figure.add_subplot()
    # Each lane: a thin strip on top for the waits of the requests this connection served
    # (translucent, so waits that overlap look darker), and the requests in flight below it.
    for record in report.records:
        if record.connection is None or record.started is None:
            continue
        lane = lanes[record.connection]
        axes.barh(lane - 0.3, record.started - record.asked, left=record.asked, height=0.16,
                  color=WAIT_COLOUR, alpha=0.6, hatch="////", edgecolor=WAIT_EDGE, linewidth=0)
        axes.barh(lane + 0.1, record.finished - record.started, left=record.started, height=0.5,
                  color=FLIGHT_COLOUR, edgecolor="white", linewidth=1)
    if stranded:
        lane = len(connections)
        for record in stranded:
            axes.barh(lane - 0.3, record.finished - record.asked, left=record.asked, height=0.16,
                      color=WAIT_COLOUR, alpha=0.6, hatch="////", edgecolor=WAIT_EDGE, linewidth=0)
        axes.plot([r.finished for r in stranded], [lane + 0.1] * len(stranded), "x",
                  color=TIMEOUT_COLOUR, markersize=9, markeredgewidth=2)
    axes.set_yticks(range(len(labels)), labels)
    axes.set_ylim(len(labels) - 0.5, -0.5)  # connection 1 on top
    axes.set_xlim(left=0)
    axes.set_xlabel("seconds since the first request was asked for")
    axes.grid(axis="x", alpha=0.3)
    handles = [
        Patch(facecolor=WAIT_COLOUR, hatch="////", edgecolor=WAIT_EDGE, label="waiting for a connection"),
        Patch(facecolor=FLIGHT_COLOUR, label="in flight (one bar per request)"),
    ]
    if stranded:
        gave_up = "gave up: " + ", ".join(sorted({r.outcome for r in stranded}))
        handles.append(Line2D([], [], marker="x", color=TIMEOUT_COLOUR, linestyle="",
                              markeredgewidth=2, label=gave_up))
    figure.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8,
                  frameon=False)
    r = report
    axes.set_title(
        f"{r.requests} requests of {r.latency:g} s, {r.workers} workers, max_connections="
        f"{r.max_connections}, max_keepalive={r.max_keepalive_connections}\n"
        f"{r.connections_opened} TCP connections, {r.elapsed:.2f} s (ideal {r.ideal_elapsed:.2f} s), "
        f"peak in flight {r.peak_in_flight}, pool timeouts {r.pool_timeouts}",
        fontsize=9,
    )
    return figure

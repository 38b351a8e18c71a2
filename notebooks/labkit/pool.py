"""Pool experiments: many threads, one shared client, a pool of a chosen size, and what happened.

`run_pool_experiment` sends `requests` GETs of `/delay/<latency>` from `workers` threads that
share one `httpx.Client` with the `httpx.Limits` you choose, against a LabServer of its own. The
server is the witness: it counts the TCP connections and records when it served each request,
so the report says what the pool *did*, not what we hoped. Queueing theory says what it should
do: `workers` threads but only `max_connections` connections means at most
`min(workers, max_connections)` requests in flight, so `requests` of them take
`ceil(requests / min(workers, max_connections))` rounds of `latency` seconds.

With `rtt=` the server sits across a simulated network (`LabServer(rtt=...)`): every request
also waits one round trip, and every new connection its handshakes (TCP's round trip, and TLS
1.3's over HTTPS) before its first request can leave. Queueing theory's ideal then counts the
round trips and one handshake per lane (a cold pool opens its connections side by side); a pool
that closes and reopens connections pays more, and the timeline shows each handshake.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx

from .server import LabServer, RequestRecord, plain_trust

if TYPE_CHECKING:  # matplotlib loads only when a report is plotted
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

__all__ = ["PoolReport", "RequestOutcome", "peak_in_flight", "run_pool_experiment", "waiting_steps"]

# Upper bounds that keep one experiment short (a lesson cell, a widget click, a test).
MAX_CONNECTIONS = 100
MAX_WORKERS = 64
MAX_REQUESTS = 1000
MAX_LATENCY = 2.0  # seconds the server waits per request
MAX_POOL_TIMEOUT = 30.0
MAX_IDEAL_ELAPSED = 30.0  # ceil(requests / min(workers, max_connections)) * latency
MAX_RTT = 0.5  # seconds per round trip of the simulated network

OK = "ok"
POOL_TIMEOUT = "pool timeout"
# httpcore's trace events: a request began to open a connection; a request left the client.
CONNECTING = "connection.connect_tcp.started"
SENDING = "http11.send_request_headers.started"


@dataclass(frozen=True)
class RequestOutcome:
    """One request of an experiment. Times are seconds since the experiment started.

    `asked`: when a worker called `client.get`; `started`: when the server began to serve it
    (None if it never got there); `finished`: when the worker had the answer (or the error).
    From `asked` to `started` the request waited for a connection (and opened one if it was new).
    `connecting` and `connected`: when the request began to open a new connection and when its
    handshakes were done (None if it took a pooled connection); `sent`: when it left the client
    on its connection (None if it never did). Over a simulated network (`rtt`), TCP's round trip
    is the relay's to hold, so a connection counts as connected one round trip after it began,
    or when its TLS handshake ended, whichever is later.
    """

    index: int
    connection: int | None  # the server's number for the TCP connection; None: it never arrived
    asked: float
    started: float | None
    finished: float
    outcome: str  # "ok", "pool timeout", or the name of another error
    connecting: float | None = None
    connected: float | None = None
    sent: float | None = None

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
    records: tuple[RequestOutcome, ...] = field(repr=False)
    rtt: float = 0.0  # the simulated network's round trip, seconds (0: loopback)

    @property
    def handshake(self) -> float:
        """Seconds a new connection waits before its first request leaves, by the round-trip
        model: TCP's round trip, plus TLS 1.3's over HTTPS."""
        return handshake_round_trips(self.tls) * self.rtt

    @property
    def ok(self) -> int:
        """How many requests got their answer."""
        return sum(record.outcome == OK for record in self.records)

    @property
    def pool_timeouts(self) -> int:
        """How many requests gave up waiting for a connection (`httpx.PoolTimeout`)."""
        return sum(record.outcome == POOL_TIMEOUT for record in self.records)

    @property
    def ratio(self) -> float:
        """elapsed / ideal_elapsed: 1.0 is queueing theory exactly (inf if the ideal is 0)."""
        return self.elapsed / self.ideal_elapsed if self.ideal_elapsed else math.inf

    @property
    def longest_wait(self) -> float:
        """The longest any request waited for a connection, in seconds (0.0 with no requests)."""
        return max((record.waited for record in self.records), default=0.0)

    def summary_lines(self) -> list[str]:
        """The report's figures in plain words, one a line (the first: `connections opened: N`)."""
        failed = len(self.records) - self.ok - self.pool_timeouts
        limit = min(self.workers, self.max_connections)
        if self.ok == self.requests and not self.ideal_elapsed:
            timing = (
                f"elapsed: {self.elapsed:.2f} s; queueing theory's ideal: 0 s (with no "
                "latency, all that is left is overhead)"
            )
        elif self.ok == self.requests:
            timing = (
                f"elapsed: {self.elapsed:.2f} s; queueing theory's ideal: "
                f"{self.ideal_elapsed:.2f} s (elapsed is {self.ratio:.2f} x the ideal)"
            )
        else:  # requests that gave up early make a run look faster than any ideal
            timing = (
                f"elapsed: {self.elapsed:.2f} s; not comparable with queueing theory's "
                f"{self.ideal_elapsed:.2f} s, which assumes every request is answered "
                f"({self.requests - self.ok} were not)"
            )
        network = []
        if self.rtt:
            lanes = min(limit, self.requests)
            network = [
                f"round trip: {self.rtt * 1000:g} ms; a new connection waits "
                f"{_count(handshake_round_trips(self.tls), 'round trip')} ({self.handshake:.2f} s) "
                f"before its first request: {self.connections_opened} opened, the ideal counts "
                f"{lanes} (one per lane, opened side by side)"
            ]
        return [
            f"connections opened: {self.connections_opened} for {self.requests} requests "
            f"(max_connections={self.max_connections}, "
            f"max_keepalive_connections={self.max_keepalive_connections})",
            timing,
            f"peak in flight: {self.peak_in_flight} at once (at most min(workers={self.workers}, "
            f"max_connections={self.max_connections}) = {limit})",
            f"longest wait for a connection: {self.longest_wait:.2f} s "
            f"(pool timeout {self.pool_timeout:g} s)",
            f"answered: {self.ok} of {self.requests}; pool timeouts: {self.pool_timeouts}"
            + (f"; other errors: {failed}" if failed else ""),
            *network,
        ]

    def __repr__(self) -> str:
        scheme = "HTTPS" if self.tls else "HTTP"
        if self.rtt:
            scheme += f" across a {self.rtt * 1000:g} ms round trip"
        head = (
            f"PoolReport: {self.requests} requests of {self.latency:g} s over {scheme}, "
            f"{self.workers} workers, pool timeout {self.pool_timeout:g} s"
        )
        return "\n  ".join([head, *self.summary_lines()])

    def plot(self) -> Figure:
        """A timeline: one lane per TCP connection, one bar per request; above it, the queue.

        The top panel counts the requests waiting for a connection at each moment; a request
        that gave up (a pool timeout) is a red cross on a "no connection" lane.

        A plain `matplotlib.figure.Figure` (not pyplot): nothing is left open or shown behind
        your back. Show it as a cell's last expression, or `fig.savefig(...)`.
        """
        return plot_report(self)


def peak_in_flight(records: Sequence[RequestRecord]) -> int:
    """The most requests the server was serving at the same moment, from its own records."""
    if (
        isinstance(records, (str, bytes))
        or not isinstance(records, Sequence)
        or not all(isinstance(record, RequestRecord) for record in records)
    ):
        raise ValueError(
            f"records must be a list of RequestRecord (e.g. server.requests), not {records!r}"
        )
    return most_at_once([(r.started, r.finished) for r in records])


def most_at_once(spans: Sequence[tuple[float, float]]) -> int:
    """The most (start, end) spans that overlap at one moment; back-to-back is not overlap."""
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    peak = current = 0
    for _, change in events:  # at equal times, -1 sorts first
        current += change
        peak = max(peak, current)
    return peak


def handshake_round_trips(tls: bool) -> int:
    """Round trips a new connection waits before its request: TCP's 1, plus TLS 1.3's 1."""
    return 2 if tls else 1


def ideal_elapsed(
    *,
    max_connections: int,
    workers: int,
    requests: int,
    latency: float,
    rtt: float = 0.0,
    tls: bool = False,
) -> float:
    """Queueing theory: ceil(requests / min(workers, max_connections)) rounds of latency.

    Across a round trip `rtt`, each round also waits one round trip, and the first round the
    handshakes of a cold pool's connections (opened side by side, so paid once).
    """
    rounds = math.ceil(requests / min(workers, max_connections))
    handshakes = handshake_round_trips(tls) * rtt if requests else 0.0
    return rounds * (latency + rtt) + handshakes


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
        raise ValueError(
            f"{name} must be a number of seconds {bound} up to {high:g}, not {value!r}"
        )
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
    rtt: float = 0.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> PoolReport:
    """Send `requests` GETs of `/delay/<latency>` from `workers` threads sharing one client.

    The client has `httpx.Limits(max_connections, max_keepalive_connections)` and
    `httpx.Timeout(10.0, pool=pool_timeout)`. A `PoolTimeout` is counted, not raised. The lab
    server is started for this run and closed before returning. `on_progress(done, total)` is
    called in the calling thread after each request (for a progress bar). The workers' first
    requests leave together, from a starting line: the timeline shows the pool, not how long the
    threads took to start (on a loaded machine, longer than a request).

    Bounds, so one run stays short: max_connections 1-100, max_keepalive_connections 0-100,
    workers 1-64, requests 0-1000, latency 0-2 s, pool_timeout up to 30 s, and an ideal
    elapsed time of at most 30 s. `rtt` (0 to 0.5 s) puts the server across a simulated
    network with that round-trip time (`LabServer(rtt=...)`).
    """
    _whole("max_connections", max_connections, 1, MAX_CONNECTIONS)
    _whole("max_keepalive_connections", max_keepalive_connections, 0, MAX_CONNECTIONS)
    _whole("workers", workers, 1, MAX_WORKERS)
    _whole("requests", requests, 0, MAX_REQUESTS)
    latency = _seconds("latency", latency, 0.0, MAX_LATENCY)
    pool_timeout = _seconds("pool_timeout", pool_timeout, 0.0, MAX_POOL_TIMEOUT, low_open=True)
    rtt = _seconds("rtt", rtt, 0.0, MAX_RTT)
    if not isinstance(tls, bool):
        raise ValueError(f"tls must be True or False, not {tls!r}")
    if on_progress is not None and not callable(on_progress):
        raise ValueError(
            f"on_progress must be a function (done, total) or None, not {on_progress!r}"
        )
    ideal = ideal_elapsed(
        max_connections=max_connections,
        workers=workers,
        requests=requests,
        latency=latency,
        rtt=rtt,
        tls=tls,
    )
    if ideal > MAX_IDEAL_ELAPSED:
        raise ValueError(
            f"requests={requests}, latency={latency:g}, workers={workers}, max_connections="
            f"{max_connections} would take about {ideal:g} s (at most {MAX_IDEAL_ELAPSED:g} s): "
            "send fewer or shorter requests, or allow more at once"
        )

    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_keepalive_connections
    )
    timeout = httpx.Timeout(10.0, pool=pool_timeout)
    asked: dict[int, float] = {}
    answered: dict[int, tuple[float, str]] = {}
    traced: dict[int, dict[str, float]] = {}

    with LabServer(tls=tls, rtt=rtt) as server:
        url = f"{server.url}/delay/{latency:g}"
        # The experiment is about the pool, not about building a client: over plain HTTP it
        # borrows the process's one loaded CA bundle (plain_trust) instead of loading it again
        # for every run (tens of milliseconds of CPU each; the explorer runs it at every click).
        trust = server.client_kwargs() or {"verify": plain_trust()}
        with httpx.Client(limits=limits, timeout=timeout, **trust) as client:
            # A thread pool starts its threads one by one, as work comes: the first `starters`
            # requests each get a thread of their own, and wait there until all have one.
            starters = min(workers, requests)
            line = threading.Barrier(max(starters, 1))

            def one_request(index: int) -> None:
                if index < starters:
                    line.wait(timeout=30)
                marks = traced[index] = {}

                def trace(event_name: str, info: object) -> None:
                    if event_name in (CONNECTING, SENDING):
                        marks.setdefault(event_name, time.perf_counter())

                asked[index] = time.perf_counter()
                try:
                    client.get(
                        url, params={"i": index}, extensions={"trace": trace}
                    ).raise_for_status()
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
            # From the records, not the clock now: time spent in on_progress (the explorer
            # drawing its progress bar) or in shutting the pool down is no request's.
            last = max((finished for finished, _ in answered.values()), default=start)
            elapsed = last - min(asked.values(), default=start)
        seen = {_request_index(record.path): record for record in server.requests}
        opened = server.connections_opened

    records = []
    for index in range(requests):
        finished, outcome = answered[index]
        served = seen.get(index)
        marks = {name: moment - start for name, moment in traced[index].items()}
        connecting = marks.get(CONNECTING)
        sent = marks.get(SENDING)
        connected = None
        if connecting is not None and sent is not None:
            # TCP's round trip is held by the relay on the first bytes, not in connect().
            connected = sent = max(sent, connecting + rtt)
        records.append(
            RequestOutcome(
                index=index,
                connection=served.connection if served else None,
                asked=asked[index] - start,
                started=served.started - start if served else None,
                finished=finished - start,
                outcome=outcome,
                connecting=connecting,
                connected=connected,
                sent=sent,
            )
        )
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
        records=tuple(records),
        rtt=rtt,
    )


def waiting_steps(records: Sequence[RequestOutcome]) -> list[tuple[float, int]]:
    """How many requests were waiting for a connection, as steps: (from this time on, count).

    A request waits from `asked` until it begins to open a new connection, or else until the
    server starts on it, or until it gives up. The count is what the timeline's top panel draws:
    the pool's queue, growing and draining (handshakes are drawn on the lanes).
    """
    changes: dict[float, int] = {}
    for record in records:
        end = record.started if record.started is not None else record.finished
        if record.connecting is not None:
            end = min(end, record.connecting)
        changes[record.asked] = changes.get(record.asked, 0) + 1
        changes[end] = changes.get(end, 0) - 1
    steps, count = [], 0
    for moment in sorted(changes):
        count += changes[moment]
        steps.append((moment, count))
    return steps


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


WAIT_COLOUR = "#b0bec5"
WAIT_EDGE = "#607d8b"
FLIGHT_COLOUR = "#2e86c1"
TIMEOUT_COLOUR = "#c0392b"
HANDSHAKE_COLOUR = "#e67e22"


def plot_report(report: PoolReport) -> Figure:
    """Draw `report` as a timeline (see `PoolReport.plot`).

    Bottom (`figure.axes[0]`): one lane per TCP connection, one bar per request, from the moment
    it left the client (or the server started on it) to the moment its worker had the answer;
    across a simulated round trip, each new connection's handshakes are an orange bar before its
    first request. Requests that never got a connection end with a red cross on a "no
    connection" lane. Top (`figure.axes[1]`): how many
    requests were waiting for a connection at each moment. Waits overlap, so they are counted
    rather than drawn one by one.
    """
    from matplotlib.figure import Figure  # heavy: loaded only when something is drawn
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    r = report
    connections = sorted({rec.connection for rec in r.records if rec.connection is not None})
    lanes = {connection: lane for lane, connection in enumerate(connections)}
    stranded = [rec for rec in r.records if rec.connection is None]
    labels = [f"connection {c}" for c in connections] + (["no connection"] if stranded else [])
    rows = max(len(labels), 1)
    figure = Figure(figsize=(8, 3.3 + 0.4 * rows), layout="constrained")
    grid = figure.add_gridspec(2, 1, height_ratios=[1.1, 0.45 * rows + 0.3])
    axes = figure.add_subplot(grid[1])  # created first: figure.axes[0] is the lanes
    queue = figure.add_subplot(grid[0], sharex=axes)

    handshakes = 0
    for record in r.records:
        if record.connection is None or record.started is None:
            continue
        left = record.sent if record.sent is not None else record.started
        if r.rtt and record.connecting is not None and record.connected is not None:
            # On loopback a handshake lasts well under a millisecond: drawn only across a network.
            handshakes += 1
            axes.barh(
                lanes[record.connection],
                record.connected - record.connecting,
                left=record.connecting,
                height=0.6,
                color=HANDSHAKE_COLOUR,
                edgecolor="white",
                linewidth=1,
            )
        axes.barh(
            lanes[record.connection],
            record.finished - left,
            left=left,
            height=0.6,
            color=FLIGHT_COLOUR,
            edgecolor="white",
            linewidth=1,
        )
    if stranded:
        lane = len(connections)
        axes.plot(
            [rec.finished for rec in stranded],
            [lane] * len(stranded),
            "x",
            color=TIMEOUT_COLOUR,
            markersize=9,
            markeredgewidth=2,
        )
        axes.annotate(
            f"{len(stranded)} gave up",
            (max(rec.finished for rec in stranded), lane),
            xytext=(10, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color=TIMEOUT_COLOUR,
        )
    axes.set_yticks(range(len(labels)), labels)
    axes.set_ylim(rows - 0.5, -0.5)  # connection 1 on top
    axes.set_xlim(left=0)
    axes.set_xlabel("seconds since the first request was asked for")
    axes.grid(axis="x", alpha=0.3)
    axes.set_title("what each TCP connection served, request by request", loc="left", fontsize=8)

    # Drop blips shorter than 1% of the run: a worker asks for its next request a moment before
    # the server records the start of the one that took the freed connection. Real, but noise.
    span = max([rec.finished for rec in r.records], default=0.0)
    raw = waiting_steps(r.records)
    ends = [moment for moment, _ in raw[1:]] + [math.inf]
    steps = [
        (moment, count)
        for (moment, count), end in zip(raw, ends, strict=True)
        if end - moment >= 0.01 * span or count == 0
    ]
    if steps:
        times = [0.0] + [moment for moment, _ in steps]
        counts = [0] + [count for _, count in steps]
        queue.fill_between(times, counts, step="post", color=WAIT_COLOUR, linewidth=0)
        queue.step(times, counts, where="post", color=WAIT_EDGE, linewidth=1)
    queue.set_ylim(0, max([count for _, count in steps], default=0) * 1.35 + 1)
    queue.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=3))
    queue.tick_params(labelbottom=False)
    queue.grid(axis="x", alpha=0.3)
    queue.set_title("requests waiting for a connection", loc="left", fontsize=8)
    queue.set_title(
        f"longest wait {r.longest_wait:.2f} s (pool timeout {r.pool_timeout:g} s)",
        loc="right",
        fontsize=8,
    )

    handles: list[Artist] = [
        Patch(
            facecolor=WAIT_COLOUR,
            edgecolor=WAIT_EDGE,
            label="requests waiting for a connection (top)",
        ),
        Patch(facecolor=FLIGHT_COLOUR, label="a request in flight on that connection"),
    ]
    if handshakes:
        handles.append(
            Patch(facecolor=HANDSHAKE_COLOUR, label="opening the connection (handshakes)")
        )
    if stranded:
        gave_up = "gave up: " + ", ".join(sorted({rec.outcome for rec in stranded}))
        handles.append(
            Line2D(
                [],
                [],
                marker="x",
                color=TIMEOUT_COLOUR,
                linestyle="",
                markeredgewidth=2,
                label=gave_up,
            )
        )
    figure.legend(
        handles=handles,
        loc="outside lower center",
        ncol=2 if handshakes else len(handles),  # three long labels overflow one row
        fontsize=8,
        frameon=False,
    )
    theory = f"queueing theory: {r.ideal_elapsed:.2f} s"
    if r.ok != r.requests:
        theory += " if all were answered"
    network = f" across a {r.rtt * 1000:g} ms round trip" if r.rtt else ""
    figure.suptitle(
        f"{r.requests} requests of {r.latency:g} s{network} from {r.workers} workers; "
        "max_connections="
        f"{r.max_connections}, max_keepalive_connections={r.max_keepalive_connections}\n"
        f"{_count(r.connections_opened, 'TCP connection')} opened, at most "
        f"{_count(r.peak_in_flight, 'request')} in flight at once\n"
        f"took {r.elapsed:.2f} s ({theory}); answered {r.ok} of {r.requests}, "
        f"pool timeouts {r.pool_timeouts}",
        fontsize=9,
    )
    return figure

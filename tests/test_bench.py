"""The benchmark measures what its labels say, and its verdicts follow from its figures.

No speed target is asserted here: only directions that hold on a loaded machine too.
"""

from __future__ import annotations

import math
import re
import ssl
from typing import Any

import pytest

from labkit import LabServer, bench


def test_median_ms_ignores_warmup_and_takes_the_median(monkeypatch: pytest.MonkeyPatch) -> None:
    # A fake clock: each call of the action takes the next duration, in seconds.
    durations = iter([9.0, 9.0, 0.001, 0.003, 0.002, 5.0, 0.004])  # 2 warm-up calls, then 5
    now = [0.0]

    def action() -> None:
        now[0] += next(durations)

    monkeypatch.setattr(bench.time, "perf_counter", lambda: now[0])
    assert bench.median_ms(action, rounds=5, warmup=2) == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("rounds", "warmup", "message"),
    [
        (0, 1, "rounds must be a whole number of at least 1, not 0"),
        (2.5, 1, "rounds must be a whole number of at least 1, not 2.5"),
        (True, 1, "rounds must be a whole number of at least 1, not True"),
        (3, -1, "warmup must be a whole number of at least 0, not -1"),
    ],
)
def test_median_ms_refuses_bad_counts(rounds: object, warmup: object, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        bench.median_ms(lambda: None, rounds, warmup)  # type: ignore[arg-type]
    assert str(raised.value) == message


def test_raw_socket_and_shared_client_use_one_connection(server: LabServer) -> None:
    bench.raw_socket_ms(server, rounds=5)
    assert server.connections_opened == 1
    server.reset()
    bench.shared_client_ms(server, rounds=5)
    assert server.connections_opened == 1
    assert len(server.requests) == 10  # 5 warm-up + 5 measured


def test_new_client_per_request_opens_a_connection_each(server: LabServer) -> None:
    bench.new_client_ms(server, rounds=3)
    assert server.connections_opened == 8


def test_build_default_client_ms_builds_default_clients_only(
    server: LabServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[dict[str, object]] = []
    real_client = bench.httpx.Client

    class Recorded(real_client):  # type: ignore[misc, valid-type]
        def __init__(self, **kwargs: Any) -> None:
            built.append(kwargs)
            super().__init__(**kwargs)

    monkeypatch.setattr(bench.httpx, "Client", Recorded)
    assert bench.build_default_client_ms(rounds=3) > 0
    assert built == [{}] * 8  # 5 warm-up + 3 measured, each a default client: no settings at all
    assert server.connections_opened == 0


FIGURE = re.compile(r"^(?P<label>\S.*?)\s{2,}(?P<ms>\d+\.\d{3})$", re.MULTILINE)
RATIO = re.compile(r"^  (?P<label>[^:]+):\s+(?P<ratio>\d+\.\d)x$", re.MULTILINE)
ROUND_TRIP = re.compile(
    r"pooled HTTP round trip (?P<ms>\d+\.\d{3}) ms: (?P<verdict>within|OVER) the target"
)
NEW_DEFAULT = re.compile(
    r"new default client per request, HTTP: (?P<ratio>\d+\.\d)x a shared client: "
    r"(?P<verdict>within|OVER) the target"
)
POOL = re.compile(
    r"pool experiment, (?P<requests>\d+) requests of (?P<latency>[\d.]+) s, (?P<workers>\d+) "
    r"workers, (?P<connections>\d+) connections: (?P<elapsed>\d+\.\d{3}) s vs ideal "
    r"(?P<ideal>\d+\.\d{3}) s \((?P<ratio>\d+\.\d\d)x\): (?P<verdict>within|OVER) the target"
)
RATIO_OF = {  # each printed ratio, and the two figures it divides
    "new default client per request, HTTP": (bench.NEW_DEFAULT, bench.SHARED_HTTP),
    "new client, prebuilt SSLContext, HTTP": (bench.NEW_PREBUILT_HTTP, bench.SHARED_HTTP),
    "new client, prebuilt SSLContext, HTTPS": (bench.NEW_PREBUILT_HTTPS, bench.SHARED_HTTPS),
    "shared client over the raw-socket floor": (bench.SHARED_HTTP, bench.RAW),
}


class Parsed:
    """The bench's printout as numbers: figures, ratios and verdicts, each by its own pattern."""

    def __init__(self, out: str) -> None:
        self.text = out
        self.figures = {m["label"]: float(m["ms"]) for m in FIGURE.finditer(out)}
        self.ratios = {m["label"]: float(m["ratio"]) for m in RATIO.finditer(out)}
        found = [pattern.search(out) for pattern in (ROUND_TRIP, NEW_DEFAULT, POOL)]
        assert all(found), out
        self.round_trip, self.new_default, self.pool = (m.groupdict() for m in found if m)

    def check_arithmetic(self) -> None:
        """Each ratio is its two printed figures divided (to the printed precision)."""
        assert set(self.ratios) == set(RATIO_OF)
        for label, (top, bottom) in RATIO_OF.items():
            assert self.ratios[label] == pytest.approx(
                self.figures[top] / self.figures[bottom], rel=0.03, abs=0.06
            ), label


def _run_bench(capsys: pytest.CaptureFixture[str]) -> Parsed:
    bench.main()
    return Parsed(capsys.readouterr().out)


def _small_bench(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(bench, "ROUNDS", 30)
    monkeypatch.setattr(bench, "NEW_CLIENT_ROUNDS", 3)
    setup = {**bench.POOL_EXPERIMENT, "requests": 10, "latency": 0.05}  # 10 of 4: 3 rounds
    monkeypatch.setattr(bench, "POOL_EXPERIMENT", setup)
    monkeypatch.setattr(bench, "NETWORK_RTTS", (0.01,))
    monkeypatch.setattr(bench, "NETWORK_ROUNDS", 2)
    return setup


def test_bench_figures_are_sane_and_its_verdicts_follow_from_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = _small_bench(monkeypatch)
    out = _run_bench(capsys)
    labels = [
        bench.RAW,
        bench.SHARED_HTTP,
        bench.SHARED_HTTPS,
        bench.BUILD,
        bench.NEW_DEFAULT,
        bench.NEW_PREBUILT_HTTP,
        bench.NEW_PREBUILT_HTTPS,
    ]
    assert list(out.figures) == labels
    ms = out.figures
    assert all(0 < value < 10_000 for value in ms.values()), ms
    # Which figure beats which is the bench's to show, not a test's to assert: with the suite's
    # other workers on the same 2 cores, one slow round flips any of them (seen: a prebuilt-
    # context client at 4.9 ms against 2.7 ms for a pooled request). Which row measures what
    # is held by test_each_row_is_measured_where_its_label_says_and_judged_by_its_target.
    out.check_arithmetic()
    # The verdicts, judged here from the printed figures and pack-design.md's targets.
    assert out.round_trip["ms"] == f"{ms[bench.SHARED_HTTP]:.3f}"
    assert out.round_trip["verdict"] == ("within" if ms[bench.SHARED_HTTP] < 1.0 else "OVER")
    assert float(out.new_default["ratio"]) == out.ratios["new default client per request, HTTP"]
    assert out.new_default["verdict"] == (
        "within" if ms[bench.NEW_DEFAULT] / ms[bench.SHARED_HTTP] > 10 else "OVER"
    )
    pool = out.pool
    assert (
        int(pool["requests"]),
        float(pool["latency"]),
        int(pool["workers"]),
        int(pool["connections"]),
    ) == (10, 0.05, 8, 4)
    ideal = math.ceil(setup["requests"] / min(setup["workers"], setup["max_connections"])) * 0.05
    assert float(pool["ideal"]) == pytest.approx(ideal)  # 3 rounds, not 10 / 4 = 2.5
    elapsed = float(pool["elapsed"])
    assert elapsed >= ideal * 0.95  # no run beats queueing theory (how close it gets: the bench)
    assert float(pool["ratio"]) == pytest.approx(elapsed / ideal, abs=0.01)
    assert pool["verdict"] == ("within" if elapsed <= ideal * 1.15 else "OVER")
    check_network_rows(out.text)


def _fake_measurements(
    monkeypatch: pytest.MonkeyPatch, ms: dict[str, float], pool: tuple[float, float]
) -> list[tuple[str, bool, object]]:
    """Replace each measurement by a recorder that returns the figure its call stands for."""
    calls: list[tuple[str, bool, object]] = []

    def figure(kind: str, server: LabServer | None, verify: object = None) -> float:
        calls.append((kind, bool(server and server.tls), verify))
        tls = bool(server and server.tls)
        if kind == "raw":
            return ms[bench.RAW]
        if kind == "shared":
            return ms[bench.SHARED_HTTPS if tls else bench.SHARED_HTTP]
        if kind == "build":
            return ms[bench.BUILD]
        if verify is None:
            return ms[bench.NEW_DEFAULT]
        return ms[bench.NEW_PREBUILT_HTTPS if tls else bench.NEW_PREBUILT_HTTP]

    monkeypatch.setattr(bench, "raw_socket_ms", lambda server, rounds: figure("raw", server))
    monkeypatch.setattr(bench, "shared_client_ms", lambda server, rounds: figure("shared", server))
    monkeypatch.setattr(bench, "build_default_client_ms", lambda rounds: figure("build", None))
    monkeypatch.setattr(
        bench, "new_client_ms", lambda server, rounds, verify=None: figure("new", server, verify)
    )
    monkeypatch.setattr(bench, "pool_experiment_overhead", lambda: pool)
    monkeypatch.setattr(bench, "measure_network", lambda rtts, rounds: [])
    return calls


QUIET = {
    bench.RAW: 0.05,
    bench.SHARED_HTTP: 0.2,
    bench.SHARED_HTTPS: 0.25,
    bench.BUILD: 21.0,
    bench.NEW_DEFAULT: 22.0,
    bench.NEW_PREBUILT_HTTP: 1.0,
    bench.NEW_PREBUILT_HTTPS: 4.0,
}
SLOW = {**QUIET, bench.SHARED_HTTP: 3.0, bench.NEW_DEFAULT: 24.0}  # 1 ms or more; only 8x


@pytest.mark.parametrize(
    ("ms", "pool"), [(QUIET, (1.1, 1.0)), (SLOW, (1.2, 1.0))], ids=["within", "over"]
)
def test_each_row_is_measured_where_its_label_says_and_judged_by_its_target(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    ms: dict[str, float],
    pool: tuple[float, float],
) -> None:
    calls = _fake_measurements(monkeypatch, ms, pool)
    out = _run_bench(capsys)
    assert out.figures == ms
    kinds = [(kind, tls) for kind, tls, _ in calls]
    assert kinds == [
        ("raw", False),
        ("shared", False),
        ("shared", True),
        ("build", False),
        ("new", False),
        ("new", False),
        ("new", True),
    ]
    new_default, prebuilt_http, prebuilt_https = (
        verify for kind, _, verify in calls if kind == "new"
    )
    assert new_default is None  # the default client: it loads the CA bundle itself
    assert isinstance(prebuilt_http, ssl.SSLContext) and isinstance(prebuilt_https, ssl.SSLContext)
    assert prebuilt_http is not prebuilt_https  # the system's bundle for HTTP, the lab CA for HTTPS
    out.check_arithmetic()
    ratio = ms[bench.NEW_DEFAULT] / ms[bench.SHARED_HTTP]
    assert out.round_trip["verdict"] == ("within" if ms[bench.SHARED_HTTP] < 1 else "OVER")
    assert out.new_default["verdict"] == ("within" if ratio > 10 else "OVER")
    assert out.pool["verdict"] == ("within" if pool[0] <= pool[1] * 1.15 else "OVER")
    verdicts = {out.round_trip["verdict"], out.new_default["verdict"], out.pool["verdict"]}
    assert verdicts == ({"within"} if ms is QUIET else {"OVER"})  # both branches are exercised


def test_bench_pool_overhead_is_measured_against_queueing_theory() -> None:
    elapsed, ideal = bench.pool_experiment_overhead(requests=8, latency=0.05)
    assert ideal == pytest.approx(0.1)  # 8 requests over 4 connections: 2 rounds of 0.05 s
    assert elapsed >= ideal * 0.95  # how close to the ideal it gets is the bench's figure


def check_network_rows(out: str) -> None:
    """The network rows (NETWORK_RTTS = (0.01,) in _small_bench): each model is its 0 ms figure
    plus its round trips, no row beats its round trips, and the target line is printed."""
    rows = NETWORK_LINE.findall(out)
    assert [(rtt, label) for rtt, label, *_ in rows] == [
        ("10", label) for label in bench.NETWORK_ROWS
    ]
    for _, label, loopback, measured, model, off in rows:
        trips = bench.NETWORK_ROWS[label][2]
        assert float(model) == pytest.approx(float(loopback) + trips * 10, abs=0.11)
        assert float(measured) >= trips * 10 * 0.98  # no row beats its round trips: physics
        # `off` comes from the unrounded figures; the printed ones are rounded to 0.05 ms, which
        # moves their ratio the more the further measured is from the model (a stalled row).
        low = ((float(measured) - 0.05) / (float(model) + 0.05) - 1) * 100
        high = ((float(measured) + 0.05) / (float(model) - 0.05) - 1) * 100
        assert low - 0.05 <= float(off) <= high + 0.05, (off, measured, model)
    assert TARGET_LINE.search(out), out


NETWORK_LINE = re.compile(
    r"^ +(\d+) ms  (.+?) +(\d+\.\d) +(\d+\.\d) +(\d+\.\d) +([+-]\d+\.\d)%$", re.MULTILINE
)
TARGET_LINE = re.compile(
    r"network rows within 10% of the model: (holds|DOES NOT HOLD) \(furthest \d+\.\d%\)"
)


def network_rows(offs: list[float]) -> list[bench.NetworkRow]:
    """Rows at 10 and 50 ms whose measured figure is off the model by each of `offs`."""
    rows = []
    labels = [(rtt, label) for rtt in (0.01, 0.05) for label in bench.NETWORK_ROWS]
    for (rtt, label), off in zip(labels, offs, strict=True):
        model = 1.0 + bench.NETWORK_ROWS[label][2] * rtt * 1000
        rows.append(bench.NetworkRow(rtt, label, 1.0, model * (1 + off)))
    return rows


@pytest.mark.parametrize(
    ("offs", "verdict"),
    [
        ([0.02, -0.03, 0.09, 0.0, 0.01, 0.05, -0.09, 0.099], "holds"),
        ([0.0] * 7 + [0.12], "DOES NOT HOLD"),
    ],
)
def test_the_network_target_follows_from_the_rows(
    capsys: pytest.CaptureFixture[str], offs: list[float], verdict: str
) -> None:
    bench.print_network(network_rows(offs))
    out = capsys.readouterr().out
    found = TARGET_LINE.search(out)
    assert found and found[1] == verdict, out
    assert f"(furthest {max(abs(o) for o in offs):.1%})" in out
    assert len(NETWORK_LINE.findall(out)) == 8


def test_network_rows_reuse_or_open_connections_as_their_labels_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[LabServer] = []

    class Recorded(LabServer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(bench, "LabServer", Recorded)
    rtt, rounds = 0.01, 2
    for label, (tls, new, trips) in bench.NETWORK_ROWS.items():
        made.clear()
        row = bench.network_row(label, rtt, rounds)
        near, far = made
        assert (near.rtt, far.rtt, near.tls, far.tls) == (0.0, rtt, tls, tls)
        # The warm-up request and `rounds` measured ones, on one connection or one each.
        opened = rounds + 1 if new else 1
        assert (near.connections_opened, far.connections_opened) == (opened, opened), label
        assert len(far.requests) == rounds + 1
        assert row.measured >= trips * rtt * 1000 * 0.98, row  # physics: its round trips

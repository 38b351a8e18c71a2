"""The benchmark's instruments measure what they say (speed itself is never asserted here)."""

from __future__ import annotations

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


@pytest.mark.parametrize(("rounds", "warmup", "message"), [
    (0, 1, "rounds must be a whole number of at least 1, not 0"),
    (2.5, 1, "rounds must be a whole number of at least 1, not 2.5"),
    (True, 1, "rounds must be a whole number of at least 1, not True"),
    (3, -1, "warmup must be a whole number of at least 0, not -1"),
])
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


def test_bench_prints_every_figure(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "ROUNDS", 10)
    monkeypatch.setattr(bench, "NEW_CLIENT_ROUNDS", 3)
    monkeypatch.setattr(bench, "POOL_EXPERIMENT", {**bench.POOL_EXPERIMENT, "requests": 8, "latency": 0.05})
    bench.main()
    out = capsys.readouterr().out
    for label in ("raw socket", "shared client, pooled request, HTTPS", "new default httpx.Client()",
                  "ratios", "pool experiment, 8 requests of 0.05 s, 8 workers, 4 connections"):
        assert label in out, out


def test_bench_pool_overhead_is_close_to_ideal() -> None:
    elapsed, ideal = bench.pool_experiment_overhead(requests=8, latency=0.05)
    assert ideal == pytest.approx(0.1)
    assert ideal * 0.95 <= elapsed <= ideal * 1.5 + 0.3


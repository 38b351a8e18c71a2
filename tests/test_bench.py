"""The benchmark's instruments measure what they say (speed itself is never asserted here)."""

from __future__ import annotations

import pytest

from labkit import LabServer, bench


def test_median_ms_ignores_warmup_and_takes_the_median() -> None:
    calls = []
    assert bench.median_ms(lambda: calls.append(1), rounds=7, warmup=3) >= 0
    assert len(calls) == 10


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
    bench.main()
    out = capsys.readouterr().out
    for label in ("raw socket", "shared client, pooled request, HTTPS", "new default httpx.Client()", "ratios"):
        assert label in out

"""Which library `import httpx` gives this test run: httpx, or httpx2 under the alias.

`OPEN_ONCE_HTTPX=httpx2` (read at the top of tests/conftest.py) runs labkit's tests with
`httpx2.alias_httpx()`. A test of behaviour that only httpx 0.x (httpcore 1.0.9) has carries
`httpx_only(...)`, naming the difference; tests/test_compare.py asserts what httpx2 does instead.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

ON_HTTPX2 = httpx.__name__ == "httpx2"


def httpx_only(difference: str) -> pytest.MarkDecorator:
    """Skip under the alias: `difference` says what httpx2 does instead."""
    return pytest.mark.skipif(
        ON_HTTPX2,
        reason=f"httpx 0.x / httpcore 1.0.9 only: {difference} (see tests/test_compare.py)",
    )


def stage_pool_race(monkeypatch: pytest.MonkeyPatch, capped_at: int) -> list[Any]:
    """Stage, once, httpcore 1.0.9's own race in a pool capped at `capped_at` connections with
    requests queued: it closes a connection it saw busy, then idle, in one pass, and opens
    another (seen in CI in check 03; 49 of 100 runs there with a 1 us switch interval, none on
    httpx2). Returns the list that gets the replaced connection."""
    from httpcore._sync.connection_pool import ConnectionPool

    original = ConnectionPool._assign_requests_to_connections
    replaced: list[Any] = []

    def racing(pool: Any) -> list[Any]:
        idle = [c for c in pool._connections if c.is_idle()]
        full = len(pool._connections) >= pool._max_connections == capped_at
        if not replaced and full and idle and any(r.is_queued() for r in pool._requests):
            replaced.append(idle[0])
            pool._connections.remove(idle[0])
            return [idle[0], *original(pool)]
        return original(pool)

    monkeypatch.setattr(ConnectionPool, "_assign_requests_to_connections", racing)
    return replaced

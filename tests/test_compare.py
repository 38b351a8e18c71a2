"""labkit.compare and labkit.libraries: notebook 09's experiments, on httpx and on httpx2.

Each difference is asserted both ways: what httpx 0.x (httpcore 1.0.9) does and what httpx2
(httpcore2) does. Under `OPEN_ONCE_HTTPX=httpx2` `import httpx` is httpx2 and real httpx cannot
be imported in the same process, so only the httpx2 side runs.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from types import ModuleType

import httpx
import httpx2
import pytest

from labkit import LabServer, client_state
from labkit.compare import (
    cancel_while_closing,
    connections_for_requests,
    keepalive_churn,
    lifecycle_messages,
    one_client_two_loops,
    queued_requests,
)
from labkit.libraries import client_types, library_name, python_module_command
from labkit.resources import _describe
from tests.libraries import ON_HTTPX2

LIBRARIES = [httpx2] if ON_HTTPX2 else [httpx, httpx2]
BY_NAME = pytest.mark.parametrize("library", LIBRARIES, ids=lambda m: m.__name__)


def _is_httpx2(library: ModuleType) -> bool:
    return library.__name__ == "httpx2"


@BY_NAME
def test_the_three_lifecycle_errors_say_the_same(library: ModuleType) -> None:
    assert lifecycle_messages(library) == [
        "Cannot open a client instance more than once.",
        "Cannot reopen a client instance, once it has been closed.",
        "Cannot send a request, as the client has been closed.",
    ]


@BY_NAME
def test_a_shared_client_opens_one_connection(library: ModuleType, server: LabServer) -> None:
    assert connections_for_requests(library, server, shared=True, requests=4) == 1
    assert connections_for_requests(library, server, shared=False, requests=4) == 4


@BY_NAME
def test_a_client_shared_by_two_event_loops_fails_on_both(
    library: ModuleType, server: LabServer
) -> None:
    assert one_client_two_loops(library, server) == [
        "status 200",
        "RuntimeError: Event loop is closed",
    ]


@BY_NAME
def test_a_task_cancelled_while_closing_strands_its_slot_on_httpx_only(
    library: ModuleType, server: LabServer
) -> None:
    before, outcome, after = asyncio.run(cancel_while_closing(library, server, tasks=2))
    if _is_httpx2(library):  # httpcore2 drops the dead connection; its request records stay
        assert outcome == "200"
        assert after == "Requests: 2 active, 0 queued | Connections: 0 active, 1 idle"
    else:  # httpcore 1.0.9: both connections ACTIVE for good (encode/httpcore#1093)
        assert outcome == "PoolTimeout"
        assert before == after == "Requests: 2 active, 0 queued | Connections: 2 active, 0 idle"


@BY_NAME
def test_keepalive_below_max_connections(library: ModuleType, server: LabServer) -> None:
    opened = keepalive_churn(
        library, server, max_connections=4, max_keepalive_connections=2, requests=12, latency=0.05
    )
    if _is_httpx2(library):
        assert opened <= 4  # idle connections only count against the keep-alive limit
    else:
        assert opened > 4  # encode/httpcore#1000: busy ones count too, so they churn


@BY_NAME
def test_a_queued_requests_pool_timeout(library: ModuleType, server: LabServer) -> None:
    # Short requests against a long pool timeout: on httpx a waiter gives up only if no request
    # finishes for 0.8 s, so a loaded machine must stall a 0.1 s request by 0.7 s to fail it
    # (with 0.05 s requests and 0.4 s, a loaded run saw 16 of 20 give up). The queue still
    # takes about 2 s, past twice the pool timeout.
    outcomes = queued_requests(library, server, requests=20, latency=0.1, pool_timeout=0.8)
    answered = [q for q in outcomes if q.answered]
    if _is_httpx2(library):  # a deadline: whoever has waited pool= seconds gives up
        assert 0 < len(answered) < len(outcomes)
        assert all(q.waited < 1.2 for q in answered)
        assert all(q.waited >= 0.79 for q in outcomes if not q.answered)
    else:  # each lost race restarts the wait: everyone is answered, the last after ~2 s
        assert len(answered) == len(outcomes)
        assert max(q.waited for q in answered) > 1.6


@BY_NAME
def test_the_experiments_want_the_module_itself(library: ModuleType, server: LabServer) -> None:
    with pytest.raises(ValueError, match="library must be the module httpx or httpx2, not 'httpx'"):
        lifecycle_messages("httpx")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not <module 'asyncio'"):
        connections_for_requests(asyncio, server, shared=True)


def test_labkit_accepts_both_libraries_clients() -> None:
    assert {httpx.Client, httpx2.Client, httpx2.AsyncClient} <= set(client_types())
    client = httpx2.Client()
    assert client_state(client) == "unopened"
    client.close()
    assert client_state(client) == "closed"


def test_labkit_names_an_error_by_the_name_its_library_is_imported_by() -> None:
    expected = "httpx" if ON_HTTPX2 else "httpx2"  # under the alias, httpx2's *is* `httpx`
    assert _describe(httpx2.ConnectError("refused")) == f"{expected}.ConnectError: refused"
    assert _describe(httpx.ReadError("reset")) == "httpx.ReadError: reset"
    assert (
        _describe(OSError(24, "Too many open files")) == "OSError: [Errno 24] Too many open files"
    )


def _child_library(monkeypatch: pytest.MonkeyPatch, name: str | None = None) -> str:
    if name is not None:
        monkeypatch.setattr("labkit.libraries.library_name", lambda: name)
    command = python_module_command("labkit.libraries")
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd="notebooks")
    return done.stdout.strip()


def test_a_labkit_subprocess_runs_on_its_parents_library(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _child_library(monkeypatch) == library_name() == httpx.__name__
    assert _child_library(monkeypatch, "httpx2") == "httpx2"  # the alias, passed on


def test_the_run_uses_the_library_it_was_asked_for() -> None:
    """tests/conftest.py's switch: OPEN_ONCE_HTTPX=httpx2 makes `import httpx` give httpx2."""
    asked = os.environ.get("OPEN_ONCE_HTTPX", "httpx")
    assert httpx.__name__ == library_name() == asked
    assert (httpx is httpx2) == (asked == "httpx2")


def test_a_misspelt_switch_stops_the_run_by_name() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import runpy; runpy.run_path('tests/conftest.py')"],
        capture_output=True,
        text=True,
        env={**os.environ, "OPEN_ONCE_HTTPX": "httpx3"},
        check=False,
    )
    assert done.returncode != 0
    assert "OPEN_ONCE_HTTPX must be httpx or httpx2, not 'httpx3'" in done.stdout + done.stderr


def test_a_queued_requests_wait_ends_when_the_server_starts_on_it(server: LabServer) -> None:
    """`waited` is the time in the queue, not the latency after it: the first request waits for
    no one (bound 0.25 s; with its own 0.3 s latency counted it would be 0.3 s at least); the
    last waits for the two before it (0.6 s, less however late its thread started)."""
    outcomes = queued_requests(httpx, server, requests=3, latency=0.3, pool_timeout=5)
    waits = sorted(q.waited for q in outcomes)
    assert waits[0] < 0.25 < waits[-1], waits

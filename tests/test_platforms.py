"""macOS and Windows, simulated on Linux: what the lessons and the set-up do differently there.

No macOS or Windows machine runs these tests (the GitHub workflow runs the README's commands
there). Each platform branch is run here by taking away what the other platform lacks
(`os.fork`, `os.geteuid`), or by spying on the call that would misbehave there (the proxy
settings that macOS reads through `_scproxy`, a known crash in a forked child).
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from labkit import LabServer
from labkit.forking import SCENARIOS, run_fork_scenarios
from labkit.setup_check import SUPPORTED_PYTHONS, python_verdict
from scripts.start_jupyter_lab import server_command
from tests.notebook_runner import ROOT

NOTEBOOKS = ROOT / "notebooks"
FORKING = NOTEBOOKS / "06_one_client_per_application.ipynb"
BREAKING = NOTEBOOKS / "07_when_pooled_connections_break.ipynb"

# Runs labkit.forking's scenarios with httpx's reading of the proxy settings spied on: a line on
# stderr for each read, saying which process read them.
SPY = """
import os, sys
import httpx._utils
parent = os.getpid()
real = httpx._utils.getproxies
def spy():
    who = "parent" if os.getpid() == parent else "child"
    print(f"{who} read the proxy settings", file=sys.stderr, flush=True)
    return real()
httpx._utils.getproxies = spy
from labkit.forking import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork does not exist on this platform")
def test_the_forked_child_never_reads_the_proxy_settings(server: LabServer) -> None:
    """On macOS that read goes through _scproxy, which can crash a forked child (gh-105912)."""
    done = subprocess.run(
        [sys.executable, "-c", SPY, "after-fork", server.url],
        cwd=NOTEBOOKS,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONPATH": str(NOTEBOOKS)},
    )
    assert done.returncode == 0, done.stderr
    reads = done.stderr.splitlines()
    assert "parent read the proxy settings" in reads  # the spy works: the parent's client reads
    assert "child read the proxy settings" not in reads
    assert '"who": "child", "asked": "/delay/0.3", "got": "waited 0.3 s"' in done.stdout
    assert server.wait_until_closed()


def _cells(path: Path, *ids: str) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    by_id = {cell.get("id"): cell.source for cell in nb.cells}
    return [by_id[cell_id] for cell_id in ids]


def _run_cell(source: str, namespace: dict[str, Any]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(source, namespace)  # noqa: S102  (a notebook's own cell)
    return out.getvalue()


def test_06_on_a_python_without_fork_runs_the_spawn_pool_alone(
    server: LabServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows: 06's fork cells say they are skipped, and the spawn pool still runs."""
    monkeypatch.delattr(os, "fork")
    with pytest.raises(RuntimeError, match=r"os\.fork does not exist on this platform \(Windows\)"):
        run_fork_scenarios(server.url, ["before-fork"])
    namespace: dict[str, Any] = {"os": os, "server": server, "SCENARIOS": SCENARIOS}
    namespace["run_fork_scenarios"] = run_fork_scenarios
    run_all, before, after, spawn = _cells(FORKING, "77b1e6eb", "5cd30ab5", "c479430e", "6d87ad26")
    assert _run_cell(run_all, namespace).splitlines() == [
        "stderr of the helper: ''",
        "os.fork does not exist on this platform (Windows): the fork scenarios are skipped.",
    ]
    assert _run_cell(before, namespace) == "" and _run_cell(after, namespace) == ""
    lines = _run_cell(spawn, namespace).splitlines()
    assert lines[0].startswith("answers: ") and lines[0].endswith("every answer is its own: True")
    # (Its value is 06's claim, not this test's: the parent's connection expires after 5 s idle,
    # which a spawned worker's start-up can exceed on a loaded machine.)
    assert lines[1].startswith("TCP connections: one for the parent plus one per worker: ")
    assert server.wait_until_closed()


def test_06_runs_pytest_with_a_real_ini_file(server: LabServer, tmp_path: Path) -> None:
    """`-c os.devnull` is `-c nul` on Windows, a device path pytest can't make a rootdir of."""
    nb = nbformat.read(FORKING, as_version=4)
    (source,) = [
        c.source for c in nb.cells if c.cell_type == "code" and "def run_pytest" in c.source
    ]
    assert "devnull" not in source
    assert '"-c", "pytest.ini"' in source and 'Path(folder, "pytest.ini").write_text(' in source
    definition = source.split("\n\n\n")[0]  # the function, without the cell's own run
    namespace: dict[str, Any] = {"server": server}
    exec(
        "import importlib.util, os, subprocess, sys, tempfile\nfrom pathlib import Path", namespace
    )
    exec(definition, namespace)  # noqa: S102  (the notebook's own helper)
    lines = namespace["run_pytest"]({"test_here.py": "def test_here():\n    pass\n"})
    assert lines == ["PASSED test_here.py::test_here", "1 passed"]


def test_07_refuses_on_a_port_that_stays_bound() -> None:
    """Bound, never listening, closed in the clean-up cell: no other program can take the port."""
    refused, cleanup = _cells(BREAKING, "be283821", "17f0e204")
    assert 'nobody_listens.bind(("127.0.0.1", 0))' in refused and ".listen(" not in refused
    assert "nobody_listens.close()" in cleanup
    with socket.socket() as nobody_listens:
        nobody_listens.bind(("127.0.0.1", 0))
        with socket.socket() as client, pytest.raises(ConnectionRefusedError):
            client.connect(nobody_listens.getsockname())


def test_lessons_and_docs_connect_to_127_0_0_1_not_localhost() -> None:
    """`localhost` tries ::1 first on Windows: a refused try there costs about 2 s."""
    offenders = []
    sources = [*NOTEBOOKS.glob("*.ipynb"), *(ROOT / "solutions").glob("*.py")]
    sources += [*(NOTEBOOKS / "labkit").rglob("*.py"), *(ROOT / "docs").glob("*.md")]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if "localhost" in line and "127.0.0.1" not in line:  # "127.0.0.1, localhost" is fine
                offenders.append(f"{path.relative_to(ROOT)}: {line.strip()[:100]}")
    assert offenders == []


def test_the_room_check_names_the_range_of_pythons() -> None:
    """Consecutive minor versions, so "3.11 to 3.15" names each of them."""
    minors = [minor for major, minor in SUPPORTED_PYTHONS]
    assert {major for major, minor in SUPPORTED_PYTHONS} == {3}
    assert minors == list(range(minors[0], minors[-1] + 1))
    assert python_verdict((3, 15)) == python_verdict((3, 11))


@pytest.mark.parametrize("root", [True, False])
def test_jupyter_lab_gets_allow_root_only_from_a_posix_root(
    root: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0 if root else 1000, raising=False)
    assert ("--allow-root" in server_command(["jupyter", "lab"], 8888, "t")) is root
    monkeypatch.delattr(os, "geteuid")  # Windows
    assert "--allow-root" not in server_command(["jupyter", "lab"], 8888, "t")

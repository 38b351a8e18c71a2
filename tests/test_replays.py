"""Each notebook is compared with its stored outputs once per run: by the browser tests where
they compare it, by nbval everywhere else (tests/replays.py says why)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from tests.replays import COMPARISON, REASON, ROOT, browser_missing, skip_replays

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


class FakeItem:
    """What skip_replays reads of a pytest item, and the markers it is given."""

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid
        self.markers: list[Any] = []

    def add_marker(self, marker: Any) -> None:
        self.markers.append(marker)


def _skipped(nodeids: list[str], missing: str | None) -> dict[str, str]:
    items = [FakeItem(nodeid) for nodeid in nodeids]
    skip_replays(items, missing)  # type: ignore[arg-type]  # duck-typed items
    return {item.nodeid: item.markers[0].kwargs["reason"] for item in items if item.markers}


def _cells(path: Path) -> list[str]:
    return [f"notebooks/{path.name}::Cell {n}" for n in range(3)]


def test_a_notebook_compared_in_jupyterlab_is_not_replayed_by_nbval_too() -> None:
    first, second = NOTEBOOKS[:2]
    comparison = COMPARISON.format(stem=first.stem)
    nodeids = [*_cells(first), *_cells(second), comparison, "tests/test_pool.py::test_x"]
    assert _skipped(nodeids, None) == dict.fromkeys(
        _cells(first), REASON.format(comparison=comparison)
    )


def test_every_notebook_is_replayed_by_nbval_when_its_comparison_is_not_selected() -> None:
    """`-m "not browser"`, `-k "not outputs_match"`, or another of its browser tests alone."""
    cells = [cell for path in NOTEBOOKS for cell in _cells(path)]
    others = [COMPARISON.format(stem=p.stem).replace("outputs_match", "x") for p in NOTEBOOKS]
    assert _skipped([*cells, *others], None) == {}


def test_without_a_browser_nbval_replays_everything_except_on_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Elsewhere the browser tests skip, so nbval must replay; on CI they fail instead."""
    nodeids = [*_cells(NOTEBOOKS[0]), COMPARISON.format(stem=NOTEBOOKS[0].stem)]
    monkeypatch.setenv("CI", "false")
    assert _skipped(nodeids, "chromium is not installed") == {}
    monkeypatch.setenv("CI", "true")
    assert len(_skipped(nodeids, "chromium is not installed")) == 3


def test_this_run_skips_exactly_the_replays_compared_in_jupyterlab(
    request: pytest.FixtureRequest,
) -> None:
    """The session's own items: conftest.py's hook ran on them, after `-m`, `-k` and
    `--deselect` (a comparison left out by those leaves its notebook to nbval)."""
    items = request.session.items
    selected = {item.nodeid for item in items}
    browser = browser_missing() is None
    if not any(item.nodeid.startswith("tests/test_browser.py::TestRunAll_") for item in items):
        pytest.skip("no browser test is selected in this run")
    for path in NOTEBOOKS:
        comparison = COMPARISON.format(stem=path.stem)
        replays = [item for item in items if item.nodeid.startswith(f"notebooks/{path.name}::")]
        reasons = {
            mark.kwargs.get("reason") for item in replays for mark in item.iter_markers("skip")
        }
        expected = (
            {REASON.format(comparison=comparison)} if browser and comparison in selected else set()
        )
        assert reasons == (expected if replays else set()), path.name


def test_with_the_browser_tests_deselected_by_marker_nbval_replays(tmp_path: Path) -> None:
    """`-m "not browser"` has chosen the tests before the hook looks (it runs last), so the
    comparison is not among them and nbval replays the notebook, every cell of it."""
    notebook = NOTEBOOKS[-1]  # the quickest to replay
    junit = tmp_path / "junit.xml"
    argv = [sys.executable, "-m", "pytest", "-n", "0", "-q", "-m", "not browser", "-k"]
    argv += [notebook.stem[:2], f"notebooks/{notebook.name}", "tests/test_browser.py"]
    run = subprocess.run(
        [*argv, "--junitxml", str(junit)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout[-2000:]
    cells = [
        case
        for case in ElementTree.parse(junit).iter("testcase")
        if case.get("classname") == f"notebooks.{notebook.name}"
    ]
    assert len(cells) >= 3
    assert [case.get("name") for case in cells if len(case)] == []  # none skipped nor failed

"""Each notebook is compared with its stored outputs once per run: by the browser tests where
they compare it, by nbval everywhere else (tests/replays.py says why)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    `--deselect` (a comparison left out by those leaves its notebook to nbval). In a run
    without the browser tests, no replay skips."""
    items = request.session.items
    selected = {item.nodeid for item in items}
    browser = browser_missing() is None
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


def test_the_hook_looks_after_the_tests_are_chosen(request: pytest.FixtureRequest) -> None:
    """conftest.py's hook runs after `-m`, `-k` (pytest's mark plugin) and `--deselect` (its
    main): run before them, it would see a comparison that `-m "not browser"` then leaves out,
    and nbval would skip a notebook that nothing compares. pluggy calls the last first."""
    hook = request.config.pluginmanager.hook.pytest_collection_modifyitems
    order = [impl.plugin_name for impl in reversed(hook.get_hookimpls())]
    ours = next(
        i for i, name in enumerate(order) if Path(name).parts[-2:] == ("tests", "conftest.py")
    )
    assert ours > order.index("mark") and ours > order.index("main"), order

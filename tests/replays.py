"""Who replays each notebook and compares it with its stored outputs: nbval, or JupyterLab.

The browser tests (tests/test_browser.py) run every notebook with Restart Kernel and Run All in
JupyterLab and hold each compared cell's outputs to the stored ones exactly as nbval does (its
sanitizing, its skipped cells, its merged streams: `test_the_comparison_holds_what_nbval_holds`),
in the kernels learners use, where IPython's history is on. Where that comparison of a notebook
is selected and can run, nbval's replay of the same notebook would run its every cell a second
time, in a second kernel, for no check that the first does not make: about 45 s of CPU on 2
cores, all of it while the browser tests run (measured: the README command took 158 s with
both, 123 s with JupyterLab's alone). So conftest.py skips those nbval items, with REASON,
which names the test that compares them. Anywhere else (`-m "not browser"`, `pytest
notebooks/`, a learner without Chromium or Playwright, CI's Pythons other than 3.11, macOS and
Windows) nbval replays every notebook.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_TESTS = "tests/test_browser.py"
# The browser test that compares a notebook's outputs, in a class per notebook (TestRunAll_<stem>).
COMPARISON = BROWSER_TESTS + "::TestRunAll_{stem}::test_outputs_match_the_stored_notebook"
REASON = "compared with its stored outputs in JupyterLab instead, by {comparison}"


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def browser_missing() -> str | None:
    """Why the browser tests cannot run here (they skip, or fail on CI), or None."""
    if CHROMIUM is None:
        return "Debian's chromium is not installed (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        extras = (
            "requirements-dev.txt"
            if (ROOT / "requirements-dev.txt").exists()
            else "requirements.txt"
        )
        return f"playwright is not installed (it is in {extras})"
    return None


def compared_in_jupyterlab(nodeids: Iterable[str], missing: str | None) -> dict[str, str]:
    """Each notebook (its path, as nbval's node ids start) whose comparison in JupyterLab is
    among `nodeids`, the selected tests, and can run, and that comparison's node id. On CI a
    missing browser fails the browser tests, so there they count as running; elsewhere they
    skip, and nbval replays every notebook."""
    if missing is not None and not on_ci():
        return {}
    selected = set(nodeids)
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    comparisons = {
        f"notebooks/{path.name}": COMPARISON.format(stem=path.stem) for path in notebooks
    }
    return {path: test for path, test in comparisons.items() if test in selected}


def skip_replays(items: list[pytest.Item], missing: str | None) -> None:
    """Mark nbval's items of each notebook compared in JupyterLab to skip, with REASON."""
    notebooks = compared_in_jupyterlab((item.nodeid for item in items), missing)
    for item in items:
        comparison = notebooks.get(item.nodeid.partition("::")[0])
        if comparison is not None:
            item.add_marker(pytest.mark.skip(reason=REASON.format(comparison=comparison)))

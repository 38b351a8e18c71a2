"""What a learner does, in a real browser: Kernel > Restart Kernel and Run All Cells, everywhere.

For every notebook in notebooks/, JupyterLab in Debian's Chromium runs the menu item's command,
`notebook:restart-run-all`, confirms its dialog, waits until every cell has finished, and then
holds the notebook to the README's promise: every code cell ran, errors only where a cell is
tagged `raises-exception` (the only thing that lets Run All go on past an error), no widget
failed to display, nothing was written to stderr. Two notebooks get more: 00's set-up widget
shows, and 03's pool explorer runs an experiment when its button is pressed.

JupyterLab is started with the README's own `jupyter lab ...` line, plus only what a headless
test needs (no browser, a port, a token, loopback), on a copy of the pack, so nothing the
browser does is saved into the repository. Playwright drives Chromium by `executable_path`:
nothing downloads a browser. Each notebook is a test class of its own, so that
`--dist loadscope` spreads the notebooks over xdist's workers; each worker starts one
JupyterLab and one Chromium (session scope) and opens its notebooks one after another in one
JupyterLab page, shutting each notebook's kernel down when its checks are done.
Under `CI=true` a missing Chromium or Playwright fails these tests instead of skipping them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.notebook_runner import ROOT

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "tests" / "artifacts"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Headless in a closed network: no sandbox as root, and no background calls home that fail.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUN_ALL_TIMEOUT_MS = 120_000  # a notebook runs in under 10 s; this is for a loaded machine
# JupyterLab shows stderr (and error tracebacks: one node each) with this mime type.
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _missing(reason: str) -> None:
    """On CI the browser tests must run: fail there, skip (with the reason) anywhere else."""
    if _on_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def readme_lab_command() -> list[str]:
    """The `jupyter lab ...` line of the README's "Set up" code block, split like a shell would."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Set up.*?(?=^## )", readme, re.MULTILINE | re.DOTALL)
    assert section, 'README.md has no "## Set up" section'
    block = re.search(r"^```[a-z]*\n(.*?)^```", section.group(0), re.MULTILINE | re.DOTALL)
    assert block, 'README.md\'s "Set up" section has no code block'
    lines = [line for line in block.group(1).splitlines() if line.startswith("jupyter lab")]
    assert len(lines) == 1, f"expected one `jupyter lab` line in the set-up block, found {lines}"
    return shlex.split(lines[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _write_settings(settings: Path) -> None:
    """JupyterLab settings a headless test needs; a learner's JupyterLab is left alone."""
    # Don't ask about Jupyter news: the network is closed, and the pop-up covers the page.
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}')
    # Render every cell (no virtual scrolling), so outputs far down the page exist to be found.
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"windowingMode": "none"}')


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: where it listens, its token, and where the notebooks are in it."""

    base: str
    token: str
    notebooks: str  # the notebooks' folder relative to the file browser's root ("" or "notebooks/")


def _notebooks_folder(base: str, token: str) -> str:
    """Where notebooks/ is in the file browser: the pack's root, or notebooks/ itself as root."""
    first = NOTEBOOKS[0].name
    for folder in ("notebooks/", ""):
        try:
            url = f"{base}/api/contents/{folder}{first}?content=0&token={token}"
            with urllib.request.urlopen(url, timeout=10):
                return folder
        except urllib.error.HTTPError:
            continue
    raise AssertionError(f"JupyterLab's root holds neither notebooks/{first} nor {first}")


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab as the README starts it, in a copy of the pack (one per xdist worker)."""
    if CHROMIUM is None:
        _missing("Debian's chromium is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        extras = (
            "requirements-dev.txt"
            if (ROOT / "requirements-dev.txt").exists()
            else "requirements.txt"
        )
        _missing(f"playwright is not installed (it is in {extras})")
    command = readme_lab_command()
    home = tmp_path_factory.mktemp("lab")
    pack = home / "pack"
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "artifacts", ".ipynb_checkpoints", ".pytest_cache"
    )
    shutil.copytree(ROOT, pack, ignore=ignore)
    _write_settings(home / "settings")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    headless = [
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, to run commands and read cells
    ]
    if os.geteuid() == 0:  # containers often run as root; Jupyter refuses that unless told
        headless.append("--ServerApp.allow_root=True")
    # `jupyter` from this environment, as the learner's activated environment would find it.
    argv = [sys.executable, "-m", "jupyter", *command[1:], *headless]
    log_path = home / "jupyter.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(argv, cwd=pack, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"{shlex.join(argv)} did not start:\n{log_path.read_text()}"
                        ) from None
                    time.sleep(0.3)
            yield Lab(base, token, _notebooks_folder(base, token))
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def browser(lab: Lab) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


# The notebook panel, and its kernel (undefined while JupyterLab is still opening it).
PANEL = "window.jupyterapp?.shell.currentWidget"
KERNEL = f"{PANEL}?.sessionContext?.session?.kernel"
# Start the menu item's command; it waits for its dialog, so keep its promise's result aside.
# Its promise settles at the first cell that reports an error (tagged or not: JupyterLab's
# runCells gives up on its Promise.all), while the kernel goes on with the cells after a tagged
# one. So "done" is judged from the kernel's status, which the panel's session reports.
RESTART_RUN_ALL = f"""() => {{
  // Forget the stored counts, so that a count afterwards proves that this run executed the cell.
  for (const cell of {PANEL}.content.widgets) {{
    if (cell.model.type === 'code') cell.model.executionCount = null;
  }}
  window.__runAll = undefined;
  window.__status = {{status: 'unknown', since: performance.now()}};
  {PANEL}.sessionContext.statusChanged.connect((_, status) => {{
    window.__status = {{status, since: performance.now()}};
  }});
  window.jupyterapp.commands.execute('notebook:restart-run-all').then(
    ran => {{ window.__runAll = {{ran}}; }},
    error => {{ window.__runAll = {{error: String(error)}}; }});
}}"""
# Finished: the kernel is idle and either every code cell has its count (all done), or nothing
# has happened for a while (Run All stopped early: the checks below then say where).
FINISHED = f"""() => window.__runAll !== undefined && window.__status.status === 'idle'
  && (performance.now() - window.__status.since > 3000
      || {PANEL}.content.widgets.every(cell => cell.model.type !== 'code'
           || !cell.model.sharedModel.getSource().trim() || cell.model.executionCount !== null))"""
# Every non-empty code cell, as the notebook's model holds it after the run.
CELLS = f"""() => {PANEL}.content.widgets
  .filter(cell => cell.model.type === 'code' && cell.model.sharedModel.getSource().trim())
  .map(cell => {{
    const outputs = [];
    for (let i = 0; i < cell.model.outputs.length; i++) {{
      outputs.push(cell.model.outputs.get(i).toJSON());
    }}
    return {{
      source: cell.model.sharedModel.getSource(),
      count: cell.model.executionCount,
      tags: cell.model.getMetadata('tags') || [],
      errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename),
      stderr: outputs.filter(o => o.output_type === 'stream' && o.name === 'stderr')
        .map(o => [].concat(o.text).join('')).join(''),
      text: cell.node.querySelector('.jp-Cell-outputWrapper')?.textContent ?? '',
      stderr_nodes: cell.node.querySelectorAll('{STDERR}').length,
    }};
  }})"""


@dataclass
class Cell:
    """One code cell after Run All, as JupyterLab shows it."""

    number: int  # 1-based, among non-empty code cells
    source: str
    count: int | None
    tags: list[str]
    errors: list[str]
    stderr: str
    text: str
    stderr_nodes: int

    def __str__(self) -> str:
        return f"code cell {self.number} ({self.source.strip().splitlines()[0][:60]!r})"


@dataclass
class RunAll:
    """A notebook after Kernel > Restart Kernel and Run All Cells, its page still open."""

    page: Any
    notebook: str
    cells: list[Cell]
    result: dict[str, Any]
    opening: float  # seconds from asking for the notebook to its kernel being idle
    running: float  # seconds from confirming the restart to the last cell's end


@pytest.fixture(scope="session")
def lab_page(browser: Any, lab: Lab) -> Iterator[Any]:
    """One JupyterLab page per worker; each notebook opens in it in turn, as in a learner's tab.

    Measured on 2 loaded cores with 7 notebooks over 2 workers: opening a notebook in this page
    took about 10 s, in a page of its own (JupyterLab loaded afresh) about 20-28 s.
    """
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(f"{lab.base}/lab/workspaces/run-all?reset&token={lab.token}")
    page.wait_for_function("window.jupyterapp !== undefined")
    page.evaluate("() => window.jupyterapp.restored")
    yield page
    page.close()


def _open(page: Any, lab: Lab, notebook: str) -> None:
    """File > Open, as the file browser does it; returns once the notebook's kernel is idle."""
    open_it = "path => { window.jupyterapp.commands.execute('docmanager:open', {path}); }"
    page.evaluate(open_it, f"{lab.notebooks}{notebook}")
    page.wait_for_function(f"{KERNEL}?.status === 'idle' && {PANEL}.title.label === '{notebook}'")


def _restart_and_run_all(page: Any, lab: Lab, notebook: str) -> RunAll:
    started = time.monotonic()
    _open(page, lab, notebook)
    opened = time.monotonic()
    page.evaluate(RESTART_RUN_ALL)
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(state="visible")
    assert "Restart" in dialog.inner_text()  # "Restart Kernel?": the learner confirms it
    dialog.locator("button.jp-mod-accept").click()
    page.wait_for_function(FINISHED, timeout=RUN_ALL_TIMEOUT_MS, polling=100)
    ran = time.monotonic()
    _wait_for_widgets(page)
    cells = [Cell(number, **cell) for number, cell in enumerate(page.evaluate(CELLS), start=1)]
    run = RunAll(
        page, notebook, cells, page.evaluate("window.__runAll"), opened - started, ran - opened
    )
    _record(run)
    return run


def _wait_for_widgets(page: Any) -> None:
    """Every widget output has rendered (a view, or ipywidgets' "Error displaying widget")."""
    page.wait_for_function(
        """() => [...document.querySelectorAll(
              '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.widget-view+json"]')]
            .every(out => out.children.length > 0 || out.textContent.trim())""",
        timeout=30_000,
    )
    page.wait_for_timeout(300)


def _record(run: RunAll) -> None:
    """Keep the figures of each run beside the screenshots (tests/artifacts/, not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    figures = {
        "notebook": run.notebook,
        "code_cells": len(run.cells),
        "executed": sum(cell.count is not None for cell in run.cells),
        "opening": round(run.opening, 1),
        "running": round(run.running, 1),
    }
    (ARTIFACTS / f"run_all_{run.notebook.removesuffix('.ipynb')}.json").write_text(
        json.dumps(figures) + "\n"
    )


class RestartAndRunAll:
    """The checks every notebook gets; one subclass per notebook, generated below."""

    notebook: str

    @pytest.fixture(scope="class")
    @classmethod
    def run(cls, lab_page: Any, lab: Lab) -> Iterator[RunAll]:
        run = _restart_and_run_all(lab_page, lab, cls.notebook)
        yield run
        run.page.evaluate(f"""async () => {{
          const panel = {PANEL};
          panel.context.model.dirty = false;  // the run's outputs are not to be saved
          await panel.sessionContext.shutdown();  // no kernel left behind
          panel.dispose();
        }}""")

    def test_the_command_ran(self, run: RunAll) -> None:
        assert "ran" in run.result, run.result  # not an exception from the command

    def test_every_code_cell_ran(self, run: RunAll) -> None:
        not_run = [str(cell) for cell in run.cells if cell.count is None]
        assert not_run == [], f"Run All stopped: {len(not_run)} of {len(run.cells)} never ran"
        assert [cell.count for cell in run.cells] == list(range(1, len(run.cells) + 1))

    def test_errors_only_in_tagged_cells(self, run: RunAll) -> None:
        untagged = [
            f"{cell}: {cell.errors}"
            for cell in run.cells
            if cell.errors and "raises-exception" not in cell.tags
        ]
        silent = [
            str(cell) for cell in run.cells if "raises-exception" in cell.tags and not cell.errors
        ]
        assert (untagged, silent) == ([], [])

    def test_no_widget_fails_to_display(self, run: RunAll) -> None:
        assert [str(cell) for cell in run.cells if "Error displaying widget" in cell.text] == []

    def test_nothing_on_stderr(self, run: RunAll) -> None:
        assert [f"{cell}: {cell.stderr[:300]}" for cell in run.cells if cell.stderr] == []
        # Nor shown as stderr: a cell's only such nodes are the tracebacks of its errors.
        shown = [str(cell) for cell in run.cells if cell.stderr_nodes != len(cell.errors)]
        assert shown == []


class StartHereChecks:
    """00: the set-up check's widget renders and can be seen."""

    def test_setup_widget_renders(self, run: RunAll) -> None:
        slider = run.page.locator(".jp-OutputArea-output .widget-slider")
        slider.first.wait_for(state="visible")
        label = run.page.locator(".widget-label", has_text="Widgets work if you can drag this:")
        assert label.is_visible()
        slider.first.scroll_into_view_if_needed()
        run.page.wait_for_timeout(300)
        run.page.screenshot(path=str(ARTIFACTS / "00_start_here.png"))


class PoolExplorerChecks:
    """03: the pool explorer's panel renders, and its Run button runs an experiment."""

    def test_pool_explorer_renders_and_runs(self, run: RunAll) -> None:
        page = run.page
        shown_as_stderr = page.locator(STDERR).count()  # the tracebacks of tagged cells
        button = page.locator(
            ".jp-OutputArea-output button.widget-button", has_text="Run experiment"
        )
        button.first.wait_for(state="visible")
        assert page.locator(".jp-OutputArea-output .widget-slider").count() >= 6  # one a setting
        summary = page.locator(".jp-OutputArea-output .widget-html", has_text="connections opened:")
        assert summary.count() == 0  # nothing has run yet: the summary waits for the button
        button.first.scroll_into_view_if_needed()
        button.first.click()
        summary.first.wait_for(state="visible", timeout=30_000)
        page.locator(".jp-OutputArea-output .widget-output img").first.wait_for(state="visible")
        page.wait_for_timeout(300)
        assert (
            page.locator(".jp-OutputArea-output", has_text="Error displaying widget").count() == 0
        )
        assert page.locator(STDERR).count() == shown_as_stderr
        button.first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "03_pool_explorer.png"))


EXTRA_CHECKS: dict[str, type] = {
    "00_start_here.ipynb": StartHereChecks,
    "03_pool_sizes_explorer.ipynb": PoolExplorerChecks,
}

# One class per notebook: xdist's `--dist loadscope` gives each class to one worker, so the
# notebooks spread over the workers while each notebook's checks share one run.
for _path in NOTEBOOKS:
    _name = "TestRunAll_" + _path.stem
    # pytest collects a base class's tests first: the notebook's own checks come after Run All's.
    _bases = (*filter(None, [EXTRA_CHECKS.get(_path.name)]), RestartAndRunAll)
    globals()[_name] = type(_name, _bases, {"notebook": _path.name})


def test_every_notebook_with_extra_checks_exists() -> None:
    assert sorted(EXTRA_CHECKS) == sorted(set(EXTRA_CHECKS) & {p.name for p in NOTEBOOKS})


def test_the_readme_starts_jupyter_lab() -> None:
    command = readme_lab_command()
    assert command[:2] == ["jupyter", "lab"]
    assert not {"--no-browser", "--port", "--ip"} & {arg.split("=")[0] for arg in command}

"""What a learner does, in a real browser: Kernel > Restart Kernel and Run All Cells, everywhere.

For every notebook in notebooks/, JupyterLab in Debian's Chromium runs the menu item's command,
`notebook:restart-run-all`, confirms its dialog, waits until every cell has finished, and then
holds the notebook to the README's promise: every code cell ran, errors only where a cell is
tagged `raises-exception` (the only thing that lets Run All go on past an error), no widget
failed to display, nothing was written to stderr. Two notebooks get more: 00's set-up widget
shows, and 03's pool explorer runs an experiment when its button is pressed.

JupyterLab is started with the README's own `jupyter lab ...` line, plus only what a headless
test needs (no browser, a port, a token, loopback; kernels on socket files, which no test's
connection can take from them: tests/notebook_runner.py), on a copy of the pack, so nothing the
browser does is saved into the repository. Playwright drives Chromium by `executable_path`:
nothing downloads a browser. One JupyterLab and one Chromium serve the whole module, on
one xdist worker that starts with it while the others run the rest of the suite: PAGES pages
side by side, each running one notebook after another, the next one opening in a tab behind
(most of a notebook's time is its
kernel waiting on the lab servers: measured alone, the nine take 57-73 s this way, 95 s one
after another). Each
notebook is a test class of its own; its tests read what its run recorded. Each notebook's
kernel is shut down as soon as its run is recorded.
Under `CI=true` a missing Chromium or Playwright fails these tests instead of skipping them.

What each cell printed is held to the stored notebook too, as nbval holds it (same sanitizing,
same cells skipped), but in JupyterLab's own kernels, where IPython's history is on (nbval's and
nbclient's have it off). The outputs are read from JupyterLab's notebook model, in nbformat's
own JSON (what saving would write): the DOM's text would lose which stream a line went to and
which MIME type it was, and would mix in the rendering of widgets and tracebacks.
In a run that selects this comparison, nbval's replay of the notebook skips (tests/replays.py).

JupyterLab and its kernels run in this test's environment, or with OPEN_ONCE_LAB_PYTHON=
path/to/python in that Python's: .ci/run builds Binder's environment (scripts/binder_env: its
base JupyterLab, then binder/requirements.txt alone) and points it there, so a notebook that
needs a package only the tests install fails CI. Playwright always comes from this environment.
Only the notebooks whose tests are selected run: `-k 06` runs 06 alone.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbval.plugin import (
    coalesce_streams,
    find_comment_markers,
    find_metadata_tags,
    get_sanitize_patterns,
)

from tests.notebook_runner import ROOT
from tests.replays import CHROMIUM, browser_missing, on_ci

ARTIFACTS = ROOT / "tests" / "artifacts"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# Headless in a closed network: no sandbox as root, and no background calls home that fail.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Chromium's CPU is most of this module's (measured: 71 of 109 s, with the pages' size and
    # the polling below as they were): no animations to paint, a laptop-sized page, and a look
    # at the pages four times a second, not ten, took it to 53 s.
    "--force-prefers-reduced-motion",
]
RUN_ALL_TIMEOUT = 120.0  # seconds; a notebook runs in under 10 s, this is for a loaded machine
WAIT_TIMEOUT = 60.0  # seconds, for each other step (opening a notebook, a dialog, a widget)
PAGES = 3  # JupyterLab pages running notebooks side by side
# The first test's set-up runs every selected notebook: pytest-timeout's 120 s (pyproject) is
# for one test, not for PAGES pages taking turns through all of them on a loaded machine.
SETUP_TIMEOUT = RUN_ALL_TIMEOUT * -(-len(NOTEBOOKS) // PAGES) + 2 * WAIT_TIMEOUT
pytestmark = [pytest.mark.browser, pytest.mark.timeout(SETUP_TIMEOUT)]
# JupyterLab shows stderr (and error tracebacks: one node each) with this mime type.
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
# The Python whose environment runs JupyterLab and the kernels (see the module's docstring).
LAB_PYTHON = os.environ.get("OPEN_ONCE_LAB_PYTHON") or sys.executable


def _missing(reason: str) -> None:
    """On CI the browser tests must run: fail there, skip (with the reason) anywhere else."""
    if on_ci():
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
    # Keep every cell in the page (no virtual scrolling), so outputs far down it exist to be
    # found, but let Chromium skip laying out and painting the cells out of view (CSS
    # content-visibility): measured, 13 of its 16 s of CPU for Run All of 02, 03 and 06.
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"windowingMode": "contentVisibility"}')


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: where it listens, its token, and where the notebooks are in it."""

    base: str
    token: str
    notebooks: str  # the notebooks' folder relative to the file browser's root ("" or "notebooks/")
    pack: Path  # the copy of the pack it serves
    prefix: str  # sys.prefix of LAB_PYTHON: the environment its kernels must run in


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


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Lab]:
    """JupyterLab as the README starts it, in a copy of the pack (one per xdist worker)."""
    missing = browser_missing()
    if missing is not None:
        _missing(missing)
    command = readme_lab_command()
    home = tmp_path_factory.mktemp("lab")
    pack = home / "pack"
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "artifacts", ".ipynb_checkpoints", ".pytest_cache"
    )
    shutil.copytree(ROOT, pack, ignore=ignore)
    _write_settings(home / "settings")
    port, token = _free_port(), secrets.token_hex(16)
    # Short: the kernels' socket files live here, and a socket's path holds ~100 bytes.
    runtime = tempfile.mkdtemp(prefix="lab-")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": runtime,
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),  # history on, as for a learner, in a fresh database
        # `python`, `jupyter`, `pip` of LAB_PYTHON's environment first, as when it is activated
        "PATH": os.pathsep.join([str(Path(LAB_PYTHON).parent), os.environ.get("PATH", "")]),
    }
    if LAB_PYTHON != sys.executable:
        env.pop("VIRTUAL_ENV", None)
    prefix = subprocess.run(
        [LAB_PYTHON, "-c", "import sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
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
    if os.name != "nt":  # kernels on socket files: see tests/notebook_runner.py's SocketFiles
        headless.append("--KernelManager.transport=ipc")
    # `jupyter` from LAB_PYTHON's environment, as the learner's activated environment finds it.
    argv = [LAB_PYTHON, "-m", "jupyter", *command[1:], *headless]
    log_path = home / "jupyter.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(argv, cwd=pack, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            # Chromium starts while JupyterLab does: each takes seconds on a loaded machine.
            request.getfixturevalue("browser")
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
            yield Lab(base, token, _notebooks_folder(base, token), pack, prefix)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless (the `lab` fixture has checked that it is there)."""
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
      rendered: cell.outputArea.widgets.length,
      outputs,
    }};
  }})"""
# Where the notebook's kernel runs: its sys.prefix, asked outside the notebook's cells.
KERNEL_PREFIX = f"""async () => {{
  const future = {KERNEL}.requestExecute(
    {{code: 'import sys; print(sys.prefix, end="")', store_history: false}});
  let text = '';
  future.onIOPub = msg => {{ if (msg.header.msg_type === 'stream') text += msg.content.text; }};
  await future.done;
  return text;
}}"""


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
    rendered: int  # the output area's views, one per output once it has caught up
    outputs: list[dict[str, Any]]  # nbformat's JSON, from JupyterLab's model

    def __str__(self) -> str:
        return f"code cell {self.number} ({self.source.strip().splitlines()[0][:60]!r})"


@dataclass
class RunAll:
    """A notebook after Kernel > Restart Kernel and Run All Cells, and what its page showed."""

    notebook: str
    cells: list[Cell]
    result: dict[str, Any]
    opening: float  # seconds from asking for the notebook to its kernel being idle
    running: float  # seconds from confirming the restart to the last cell's end
    seen: dict[str, Any]  # what the notebook's own checks looked for on its page (LOOKS)
    kernel_prefix: str  # sys.prefix of the kernel that ran it
    stored: Path  # the notebook file it ran from (in the lab's copy of the pack)


# A browser task is a generator that yields whenever it waits, so that the pages wait side by
# side. Playwright's sync API works only in the thread that started it, so the pages take
# turns in this one: a few lines of round robin, where threads would each need their own
# Playwright and asyncio would need the whole module rewritten for Playwright's async API.
Task = Generator[None, None, Any]


def _until(condition: Callable[[], Any], what: str, timeout: float = WAIT_TIMEOUT) -> Task:
    """Yield until `condition()` is true; a TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        yield


def _pause(seconds: float) -> Task:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        yield


def _side_by_side(tasks: list[Task], poll: float = 0.25) -> None:
    """Advance every task a step in turn until all are done (each step asks a page something:
    `poll` keeps that from keeping Chromium busy)."""
    while tasks:
        for task in list(tasks):
            try:
                next(task)
            except StopIteration:
                tasks.remove(task)
        time.sleep(poll)


def _loaded(page: Any, script: str) -> bool:
    """`script` is true on `page`; false while the page is still loading its first document."""
    from playwright.sync_api import Error

    try:
        return bool(page.evaluate(script))
    except Error as error:
        if "context was destroyed" in str(error):
            return False
        raise


def _load_lab(page: Any, lab: Lab, workspace: str) -> Task:
    """JupyterLab in `page`, in a workspace of its own (pages sharing one would restore each
    other's notebooks)."""
    page.set_default_timeout(WAIT_TIMEOUT * 1000)
    page.goto(f"{lab.base}/lab/workspaces/{workspace}?reset&token={lab.token}", wait_until="commit")
    yield from _until(lambda: _loaded(page, "() => window.jupyterapp !== undefined"), "JupyterLab")
    page.evaluate("() => { window.jupyterapp.restored.then(() => { window.__restored = true; }); }")
    yield from _until(lambda: page.evaluate("() => window.__restored === true"), "its layout")


def _restart_and_run_all(
    page: Any, lab: Lab, notebook: str, queue: list[str], ahead: list[str]
) -> Task:
    """File > Open, then Kernel > Restart Kernel and Run All Cells, confirmed; the RunAll.
    While it runs, the queue's next notebook opens in a background tab (moved to `ahead`), so
    that its kernel starts meanwhile, not after (4-5 s each on a loaded machine). The last
    PAGES - 1 are left in the queue, for whichever page is free first."""
    started = time.monotonic()
    open_it = "path => { window.jupyterapp.commands.execute('docmanager:open', {path}); }"
    page.evaluate(open_it, f"{lab.notebooks}{notebook}")
    is_open = f"() => {KERNEL}?.status === 'idle' && {PANEL}.title.label === '{notebook}'"
    yield from _until(lambda: page.evaluate(is_open), f"{notebook} with its kernel idle")
    opened = time.monotonic()
    page.evaluate(RESTART_RUN_ALL)
    dialog = page.locator(".jp-Dialog")
    yield from _until(dialog.is_visible, "the Restart Kernel? dialog")
    assert "Restart" in dialog.inner_text()  # "Restart Kernel?": the learner confirms it
    dialog.locator("button.jp-mod-accept").click()
    if len(queue) >= PAGES:
        ahead.append(queue.pop(0))
        page.evaluate(OPEN_BEHIND, f"{lab.notebooks}{ahead[-1]}")
    yield from _until(lambda: page.evaluate(FINISHED), f"Run All of {notebook}", RUN_ALL_TIMEOUT)
    ran = time.monotonic()
    yield from _until(lambda: page.evaluate(OUTPUTS_SHOWN), "every output to render")
    yield from _pause(0.3)
    cells = [Cell(number, **cell) for number, cell in enumerate(page.evaluate(CELLS), start=1)]
    look = LOOKS.get(notebook)
    try:
        seen = (yield from look(page)) if look else {}
    except Exception as error:  # noqa: BLE001 - only that notebook's own check fails with it
        seen = {"failed": f"{type(error).__name__}: {error}"}
    run = RunAll(
        notebook,
        cells,
        page.evaluate("window.__runAll"),
        opened - started,
        ran - opened,
        seen,
        page.evaluate(KERNEL_PREFIX),
        lab.pack / "notebooks" / notebook,
    )
    _record(run)
    return run


# File > Open without leaving the notebook on show: a tab behind it (opened again, it comes to
# the front).
OPEN_BEHIND = """path => { window.jupyterapp.commands.execute(
  'docmanager:open', {path, options: {activate: false}}); }"""
# The page shows what the notebook's model holds, as the checks below read both: every code
# cell drawn (not a placeholder, as JupyterLab's windowing keeps a cell until it has time),
# with a view for each of its outputs, and each widget output rendered (a view, or ipywidgets'
# "Error displaying widget"). Before the first two: CI once found the page's count of
# tracebacks apart from the model's errors, in two cells of 01 (cause unknown; a lag is the
# likeliest, and the stderr test's message now says the counts).
OUTPUTS_SHOWN = f"""() => {PANEL}.content.widgets.every(cell => cell.model.type !== 'code'
    || (!cell.isPlaceholder() && cell.outputArea.widgets.length === cell.model.outputs.length))
  && [...document.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.widget-view+json"]')]
  .every(out => out.children.length > 0 || out.textContent.trim())"""
# The notebook's outputs are not to be saved, and no kernel is left behind.
CLOSE = f"""async notebook => {{
  const panel = {PANEL};
  if (!panel || panel.title.label !== notebook) return;
  panel.context.model.dirty = false;
  await panel.sessionContext.shutdown();
  panel.dispose();
}}"""


def _record(run: RunAll) -> None:
    """Keep the figures of each run beside the screenshots (tests/artifacts/, not committed)."""
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


def _page_runs(
    page: Any, lab: Lab, workspace: str, queue: list[str], runs: dict[str, RunAll | str]
) -> Task:
    """One page: JupyterLab, then the next notebook (its own, opened ahead, or the queue's),
    until none is left."""
    yield from _load_lab(page, lab, workspace)
    ahead: list[str] = []  # opened by this page in a tab behind the one running
    while ahead or queue:
        notebook = (ahead or queue).pop(0)
        try:
            runs[notebook] = yield from _restart_and_run_all(page, lab, notebook, queue, ahead)
        except Exception as error:  # noqa: BLE001 - that notebook's tests fail with it
            runs[notebook] = f"{type(error).__name__}: {error}"
            page.screenshot(path=str(ARTIFACTS / f"failed_{notebook.removesuffix('.ipynb')}.png"))
        finally:
            page.evaluate(CLOSE, notebook)


@pytest.fixture(scope="module")
def runs(
    lab: Lab, browser: Any, request: pytest.FixtureRequest
) -> Iterator[dict[str, RunAll | str]]:
    """Every notebook whose tests are selected (`-k 06`: 06 alone), Restart Kernel and Run All,
    in PAGES pages side by side: each notebook's RunAll, or the error that stopped it."""
    ARTIFACTS.mkdir(exist_ok=True)
    selected = {
        getattr(getattr(item, "cls", None), "notebook", None) for item in request.session.items
    }
    queue = [path.name for path in NOTEBOOKS if path.name in selected]
    results: dict[str, RunAll | str] = {}
    pages = [
        browser.new_page(viewport={"width": 1000, "height": 700}) for _ in range(PAGES)
    ]  # a laptop's
    try:
        _side_by_side(
            [_page_runs(page, lab, f"run-all-{n}", queue, results) for n, page in enumerate(pages)]
        )
        yield results
    finally:
        for page in pages:
            page.close()


def _nbval_option(name: str) -> str:
    """The value pyproject's addopts give an nbval option (`--nbval-sanitize-with`...)."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        addopts: list[str] = tomllib.load(file)["tool"]["pytest"]["ini_options"]["addopts"]
    return addopts[addopts.index(name) + 1]


# What nbval 0.11 leaves out of a comparison (IPyNbFile.skip_compare, without --nbdime), and
# the sanitizing it applies: the patterns of the file pyproject gives it.
NBVAL_SKIPS = (
    *("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count"),
    *("application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg"),
)
SANITIZE = get_sanitize_patterns(
    (ROOT / _nbval_option("--nbval-sanitize-with")).read_text(encoding="utf-8")
)
# A line that states a claim: a boolean, a count or another number, a verdict.
CLAIM = re.compile(r"\b(True|False)\b|\d|✅|❌")


def _sanitized(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        value = "".join(value)  # nbformat's multi-line strings
    if isinstance(value, str):
        for pattern, replacement in SANITIZE:
            value = re.sub(pattern, replacement, value)
    return value


def nbval_view(outputs: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Outputs as nbval compares them: streams merged (nbval's own coalesce_streams), then, for
    each key (a stream's name, a MIME type, an error's ename and evalue), its values in order,
    sanitized, with nbval's skipped keys left out."""
    nodes = [nbformat.from_dict(json.loads(json.dumps(output))) for output in outputs]
    for node in nodes:
        if node.get("output_type") == "stream":
            node.text = _sanitized(node.text)  # joined, before the merge
    view: dict[str, list[Any]] = {}
    for node in coalesce_streams(nodes):
        flat = {node.name: node.text} if node.output_type == "stream" else dict(node)
        for key, value in flat.items():
            pairs = value.items() if key == "data" else [(key, value)]
            for name, item in pairs:
                if key not in NBVAL_SKIPS and name not in NBVAL_SKIPS:
                    view.setdefault(name, []).append(_sanitized(item))
    return view


def _compared_by_nbval(cell: nbformat.NotebookNode) -> bool:
    """Strict --nbval: every code cell, except NBVAL_IGNORE_OUTPUT and NBVAL_SKIP (a comment
    or its tag) and a stored cell that never ran."""
    options: dict[str, bool] = dict(find_metadata_tags(cell.metadata))
    options.update(find_comment_markers(cell.source))
    return (
        options.get("check", True)
        and not options.get("skip", False)
        and (cell.execution_count is not None)
    )


@dataclass
class Compared:
    """One notebook's outputs in JupyterLab against its stored ones."""

    notebook: str
    cells: int = 0  # code cells compared
    skipped: int = 0  # code cells nbval does not compare
    lines: int = 0  # output lines compared
    claims: int = 0  # of which state a claim (CLAIM)
    differences: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook,
            "cells compared": self.cells,
            "cells nbval skips": self.skipped,
            "lines compared": self.lines,
            "claims compared": self.claims,
            "differences": len(self.differences),
        }


def compare_with_stored(run: RunAll) -> Compared:
    """Each code cell of the stored notebook that nbval compares, against JupyterLab's run."""
    stored_nb = nbformat.read(run.stored, as_version=4)
    stored = [c for c in stored_nb.cells if c.cell_type == "code" and c.source.strip()]
    assert [c.source for c in stored] == [c.source for c in run.cells], "the cells differ"
    compared = Compared(run.notebook)
    for cell, ran in zip(stored, run.cells, strict=True):
        if not _compared_by_nbval(cell):
            compared.skipped += 1
            continue
        compared.cells += 1
        expected, shown = nbval_view(cell.outputs), nbval_view(ran.outputs)
        for key in sorted(expected.keys() | shown.keys()):
            want, got = expected.get(key, []), shown.get(key, [])
            text = "\n".join(str(value) for value in want).splitlines()
            compared.lines += len(text)
            compared.claims += sum(bool(CLAIM.search(line)) for line in text)
            if want != got:
                diff = difflib.unified_diff(
                    text,
                    "\n".join(str(value) for value in got).splitlines(),
                    "stored",
                    "JupyterLab",
                    lineterm="",
                )
                compared.differences.append(f"{ran}, {key}:\n" + "\n".join(diff))
    return compared


class RestartAndRunAll:
    """The checks every notebook gets; one subclass per notebook, generated below."""

    notebook: str

    @pytest.fixture(scope="class")
    @classmethod
    def run(cls, runs: dict[str, RunAll | str]) -> RunAll:
        run = runs[cls.notebook]
        if isinstance(run, str):
            pytest.fail(f"Run All of {cls.notebook} did not finish: {run}", pytrace=False)
        return run

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

    def test_the_kernel_ran_in_the_lab_environment(self, run: RunAll, lab: Lab) -> None:
        """OPEN_ONCE_LAB_PYTHON's environment (Binder's, in .ci/run), not this test's."""
        assert run.kernel_prefix == lab.prefix

    def test_outputs_match_the_stored_notebook(self, run: RunAll) -> None:
        """What JupyterLab shows is what the notebook says, in every cell nbval compares."""
        compared = compare_with_stored(run)
        (ARTIFACTS / f"compared_{run.notebook.removesuffix('.ipynb')}.json").write_text(
            json.dumps(compared.figures()) + "\n"
        )
        assert compared.differences == [], "\n\n".join(compared.differences)

    def test_nothing_on_stderr(self, run: RunAll) -> None:
        assert [f"{cell}: {cell.stderr[:300]}" for cell in run.cells if cell.stderr] == []
        # Nor shown as stderr: a cell's only such nodes are the tracebacks of its errors.
        shown = [
            f"{cell}: {cell.stderr_nodes} shown as stderr, {len(cell.errors)} errors, "
            f"{cell.rendered} of {len(cell.outputs)} outputs rendered"
            for cell in run.cells
            if cell.stderr_nodes != len(cell.errors)
        ]
        assert shown == []


def _look_at_the_setup_widget(page: Any) -> Task:
    """00: the set-up check's slider shows, with its label; a screenshot for people to see."""
    slider = page.locator(".jp-OutputArea-output .widget-slider")
    yield from _until(lambda: slider.first.is_visible(), "the set-up check's slider")
    label = page.locator(".widget-label", has_text="Widgets work if you can drag this:")
    seen = {"label": label.is_visible()}
    slider.first.scroll_into_view_if_needed()
    yield from _pause(0.3)
    page.screenshot(path=str(ARTIFACTS / "00_start_here.png"))
    return seen


def _press_run_experiment(page: Any) -> Task:
    """03: the pool explorer's panel shows; moved to a 50 ms round trip, its Run button runs an
    experiment across the simulated network."""
    shown_as_stderr = page.locator(STDERR).count()  # the tracebacks of tagged cells
    button = page.locator(".jp-OutputArea-output button.widget-button", has_text="Run experiment")
    yield from _until(lambda: button.first.is_visible(), "the Run experiment button")
    summary = page.locator(".jp-OutputArea-output .widget-html", has_text="connections opened:")
    seen = {
        "sliders": page.locator(".jp-OutputArea-output .widget-slider").count(),
        "summaries before the click": summary.count(),
    }
    # The round-trip slider, moved by keyboard as a learner would: 5 steps of 10 ms.
    rtt = page.locator(".jp-OutputArea-output .widget-slider", has_text="round trip (ms)")
    seen["round-trip sliders"] = rtt.count()
    handle = rtt.first.locator(".noUi-handle")
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")
    # The click must reach the kernel after the slider's last value: ipywidgets holds a model's
    # later changes back while its first is unanswered, and the button is another model, so a
    # click can overtake them (seen: a run at 20 ms). The prediction, which the kernel rewrites
    # on each change, says when the kernel has 50 ms.
    predicted = page.locator(".jp-OutputArea-output .widget-html", has_text="0.05 s round trip")
    yield from _until(lambda: predicted.count() > 0, "the prediction at a 50 ms round trip")
    seen["round trip set"] = rtt.first.inner_text()
    button.first.scroll_into_view_if_needed()
    button.first.click()
    yield from _until(lambda: summary.first.is_visible(), "the experiment's summary", 30)
    seen["summary"] = summary.first.inner_text()
    timeline = page.locator(".jp-OutputArea-output .widget-output img")
    yield from _until(lambda: timeline.first.is_visible(), "the experiment's timeline")
    yield from _pause(0.3)
    widget_errors = page.locator(".jp-OutputArea-output", has_text="Error displaying widget")
    seen["widget errors"] = widget_errors.count()
    seen["new stderr"] = page.locator(STDERR).count() - shown_as_stderr
    button.first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "03_pool_explorer.png"))
    return seen


LOOKS: dict[str, Callable[[Any], Task]] = {
    "00_start_here.ipynb": _look_at_the_setup_widget,
    "03_pool_sizes_explorer.ipynb": _press_run_experiment,
}


class StartHereChecks:
    """00: the set-up check's widget renders and can be seen."""

    def test_setup_widget_renders(self, run: RunAll) -> None:
        assert run.seen == {"label": True}


class PoolExplorerChecks:
    """03: the pool explorer's panel renders, and its Run button runs an experiment."""

    def test_pool_explorer_renders_and_runs(self, run: RunAll) -> None:
        assert "failed" not in run.seen, run.seen
        assert run.seen["sliders"] >= 7, run.seen  # one a setting, the round trip's included
        assert run.seen["summaries before the click"] == 0  # the summary waits for the button
        # The experiment ran across the simulated network the slider asked for.
        assert run.seen["round-trip sliders"] == 1, run.seen
        assert "50" in run.seen["round trip set"], run.seen
        assert "round trip: 50 ms" in run.seen["summary"], run.seen
        assert (run.seen["widget errors"], run.seen["new stderr"]) == (0, 0), run.seen


EXTRA_CHECKS: dict[str, type] = {
    "00_start_here.ipynb": StartHereChecks,
    "03_pool_sizes_explorer.ipynb": PoolExplorerChecks,
}

# One class per notebook, so that each notebook's checks pass or fail as its own.
for _path in NOTEBOOKS:
    _name = "TestRunAll_" + _path.stem
    # pytest collects a base class's tests first: the notebook's own checks come after Run All's.
    _bases = (*filter(None, [EXTRA_CHECKS.get(_path.name)]), RestartAndRunAll)
    globals()[_name] = type(_name, _bases, {"notebook": _path.name})


def test_every_notebook_with_extra_checks_exists() -> None:
    names = {p.name for p in NOTEBOOKS}
    assert sorted(EXTRA_CHECKS) == sorted(LOOKS) == sorted(set(EXTRA_CHECKS) & names)


def test_the_readme_starts_jupyter_lab() -> None:
    command = readme_lab_command()
    assert command[:2] == ["jupyter", "lab"]
    assert not {"--no-browser", "--port", "--ip"} & {arg.split("=")[0] for arg in command}


def _as_run(path: Path) -> RunAll:
    """A stored notebook as if JupyterLab had shown exactly its stored outputs."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    cells = [
        Cell(
            n,
            c.source,
            c.execution_count,
            [],
            [],
            "",
            "",
            0,
            len(c.outputs),
            json.loads(json.dumps(c.outputs)),
        )
        for n, c in enumerate(code, start=1)
    ]
    return RunAll(path.name, cells, {}, 0.0, 0.0, {}, "", path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem[:2])
def test_the_comparison_holds_what_nbval_holds(path: Path, tmp_path: Path) -> None:
    """Planted: a claim that changes is caught; an address, or a cell nbval ignores, is not."""
    assert compare_with_stored(_as_run(path)).differences == []
    stored = nbformat.read(path, as_version=4)
    code = [c for c in stored.cells if c.cell_type == "code" and c.source.strip()]
    printing = [
        cell
        for cell in code
        if _compared_by_nbval(cell) and any(o.output_type == "stream" for o in cell.outputs)
    ]
    if not printing:
        pytest.skip(f"{path.name} prints nothing in a compared cell")
    stream = next(o for o in printing[-1].outputs if o.output_type == "stream")
    stream.text += "<httpx.Client object at 0x7f00deadbeef> on 127.0.0.1:8080\n"
    copy = tmp_path / path.name
    nbformat.write(stored, copy)
    run = _as_run(copy)
    ran = next(cell for cell in run.cells if cell.source == printing[-1].source)
    shown = next(o for o in ran.outputs if o["output_type"] == "stream")
    shown["text"] = (
        "".join(shown["text"]).replace("0x7f00deadbeef", "0x55d0cafe").replace(":8080", ":41234")
    )
    assert compare_with_stored(run).differences == []  # sanitized, as nbval does
    shown["text"] += "True\n"
    (difference,) = compare_with_stored(run).differences
    assert f"code cell {ran.number} " in difference and "+True" in difference
    for cell, ignored in zip(code, run.cells, strict=True):
        if not _compared_by_nbval(cell):
            ignored.outputs.append({"output_type": "stream", "name": "stdout", "text": "False\n"})
    assert len(compare_with_stored(run).differences) == 1


def test_ci_runs_every_notebook_on_binders_environment() -> None:
    """.ci/run builds Binder's environment from binder/requirements.txt alone (on repo2docker's
    base) and points this test's JupyterLab and kernels at it."""
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'scripts/binder_env "$WORK/binder"' in ci_run
    assert 'export OPEN_ONCE_LAB_PYTHON="$WORK/binder/bin/python"' in ci_run
    build = (ROOT / "scripts" / "binder_env").read_text(encoding="utf-8")
    installs = re.findall(r"pip install .*-r (\S+)", build)
    assert installs == ['"$base"', "binder/requirements.txt"], installs  # nothing else
    assert "scripts/binder_base_env.py" in build and "pip check" in build

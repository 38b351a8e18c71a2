"""JupyterLab in a real browser: the setup check's widget renders, the pool explorer runs.

Starts JupyterLab from this environment on 127.0.0.1 (a token, no browser of its own), on a
copy of the pack so nothing the browser does is saved into the repository, and drives Debian's
Chromium with Playwright (`executable_path`: nothing downloads a browser).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.notebook_runner import ROOT

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Headless in a closed network: no sandbox as root, and no background calls home that fail.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running JupyterLab on a copy of the pack; yields its base URL with the token."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    home = tmp_path_factory.mktemp("lab")
    pack = home / "pack"
    shutil.copytree(ROOT, pack, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "artifacts", ".ipynb_checkpoints"))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    # Don't ask about Jupyter news: the network is closed, and the pop-up covers the page.
    news = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}')
    # Render every cell (no virtual scrolling), so outputs far down the page exist to be found.
    tracker = home / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"windowingMode": "none"}')
    log = (home / "jupyter.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={pack}",
         "--LabApp.expose_app_in_browser=True", "--ServerApp.allow_root=True"],
        cwd=pack, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start:\n{(home / 'jupyter.log').read_text()}") from None
                time.sleep(0.3)
        yield f"{base}|{token}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(lab: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# The notebook panel's kernel, or undefined while JupyterLab is still opening it.
KERNEL = "window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel"


def _open_and_run_all(browser: object, lab: str, notebook: str):  # -> playwright Page
    base, token = lab.split("|")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page.set_default_timeout(60_000)
    # A workspace of its own per notebook: JupyterLab would otherwise reopen the last page's tabs.
    workspace = notebook.removesuffix(".ipynb")
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/notebooks/{notebook}?reset&token={token}")
    page.wait_for_function(f"{KERNEL}?.status === 'idle'"
                           f" && window.jupyterapp.shell.currentWidget.title.label === '{notebook}'")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    return page


def _wait_until_idle(page: object) -> None:
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        f"{KERNEL}?.status === 'idle'"
        " && ![...document.querySelectorAll('.jp-InputArea-prompt')]"
        ".some(prompt => prompt.textContent.includes('*'))")  # no cell queued or running


def test_start_here_widget_renders(browser: object, lab: str) -> None:
    page = _open_and_run_all(browser, lab, "00_start_here.ipynb")
    slider = page.locator(".jp-OutputArea-output .widget-slider")
    slider.first.wait_for(state="visible")
    assert page.locator(".widget-label", has_text="Widgets work if you can drag this:").is_visible()
    _wait_until_idle(page)
    slider.first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "00_start_here.png"))
    assert page.locator(".jp-OutputArea-output", has_text="Error displaying widget").count() == 0
    page.close()


def test_pool_explorer_renders_and_runs(browser: object, lab: str) -> None:
    page = _open_and_run_all(browser, lab, "03_pool_sizes_explorer.ipynb")
    button = page.locator(".jp-OutputArea-output button.widget-button", has_text="Run experiment")
    button.first.wait_for(state="visible")
    _wait_until_idle(page)
    assert page.locator(".jp-OutputArea-output .widget-slider").count() >= 6  # one per setting
    assert page.locator(".jp-OutputArea-output", has_text="Error displaying widget").count() == 0
    summary = page.locator(".jp-OutputArea-output .widget-html", has_text="connections opened:")
    assert summary.count() == 0  # nothing has run yet: the summary waits for the button
    button.first.scroll_into_view_if_needed()
    button.first.click()
    summary.first.wait_for(state="visible", timeout=30_000)
    page.locator(".jp-OutputArea-output .widget-output img").first.wait_for(state="visible")
    page.wait_for_timeout(300)
    button.first.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "03_pool_explorer.png"))
    page.close()

"""Run the README's second set-up command as a learner does, and see JupyterLab serve notebook 00.

    python scripts/start_jupyter_lab.py

The command is read from the README's "Set up" block (`jupyter lab --ServerApp.root_dir=.
notebooks/00_start_here.ipynb`), so CI runs what the README says, on every operating system
(the GitHub workflow runs this on Linux, macOS and Windows). Added, because no one is there to
use it: `--no-browser`, a free port on 127.0.0.1, a token of our own, and `--allow-root` where
a POSIX user is root (docs/troubleshooting.md#running-as-root). It waits until the server
answers with notebook 00 and the JupyterLab page that opens it, then asks it to shut down, and
exits 1 (printing the server's log) if any of that fails.
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
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NOTEBOOK = "notebooks/00_start_here.ipynb"
PATIENCE = 180.0  # seconds for the server to start: a loaded 2-core machine has needed 60


def readme_command(readme: Path = README) -> list[str]:
    """The `jupyter lab ...` line of the README's "## Set up" bash block, split as a shell would."""
    text = readme.read_text(encoding="utf-8")
    section = re.search(r"^## Set up.*?(?=^## )", text, re.MULTILINE | re.DOTALL)
    block = section and re.search(
        r"^```bash\n(.*?)^```", section.group(0), re.MULTILINE | re.DOTALL
    )
    lines = [line for line in (block.group(1) if block else "").splitlines() if line.strip()]
    commands = [line for line in lines if line.startswith("jupyter lab ")]
    if len(commands) != 1:
        raise SystemExit(f"README.md's set-up block has no single `jupyter lab` line: {lines}")
    return shlex.split(commands[0])


def server_command(command: list[str], port: int, token: str) -> list[str]:
    """The README's command, for a machine where no one is watching."""
    command = [*command, "--no-browser", "--ServerApp.ip=127.0.0.1"]
    command += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    command += [f"--IdentityProvider.token={token}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # POSIX root (Windows has no geteuid)
        command.append("--allow-root")
    return command


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, token: str, method: str = "GET") -> tuple[int, bytes]:
    """Straight to 127.0.0.1, never through a proxy from the environment."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        url, method=method, headers={"Authorization": f"token {token}"}
    )
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def main() -> int:
    command = readme_command()
    found = shutil.which(command[0])
    if found is None:
        print(f"`{command[0]}` is not on PATH: run `python -m pip install -r requirements.txt`")
        return 1
    port, token = _free_port(), secrets.token_hex(16)
    command = server_command([found, *command[1:]], port, token)
    base = f"http://127.0.0.1:{port}"
    print("+", shlex.join([Path(command[0]).name, *command[1:]]).replace(token, "<token>"))
    started = time.monotonic()
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        problem = ""
        try:
            while True:
                try:
                    status, _ = _get(f"{base}/api/status", token)
                    if status == 200:
                        break
                except OSError:
                    pass  # not listening yet
                if server.poll() is not None:
                    problem = f"jupyter lab exited with {server.returncode} before it served"
                    break
                if time.monotonic() - started > PATIENCE:
                    problem = f"jupyter lab did not answer within {PATIENCE:.0f} s"
                    break
                time.sleep(0.5)
            if not problem:
                ready = time.monotonic() - started
                status, body = _get(f"{base}/api/contents/{NOTEBOOK}?content=0", token)
                kind = json.loads(body).get("type") if status == 200 else None
                page, html = _get(f"{base}/lab/tree/{NOTEBOOK}", token)
                if kind != "notebook":
                    problem = f"GET /api/contents/{NOTEBOOK}: {status}, type {kind!r}"
                elif page != 200 or b"JupyterLab" not in html:
                    problem = f"GET /lab/tree/{NOTEBOOK}: {page}, not JupyterLab's page"
                else:
                    print(f"JupyterLab served {NOTEBOOK} ({ready:.1f} s after the command)")
                _get(f"{base}/api/shutdown", token, method="POST")
                server.wait(timeout=60)
                if not problem:
                    print(f"and shut down when asked (exit {server.returncode})")
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        if problem:
            log.seek(0)
            print(f"{problem}\n--- its log:\n{log.read()}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

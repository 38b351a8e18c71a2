"""The command line, from the source (`python -m open_once_lint`, as a learner without the
package installed runs it), then the installed `open-once-lint` command and the flake8 plugin.

The installed ones need `python -m pip install ./lint` and flake8 (requirements-dev.txt): without
them those tests skip, except under CI=true, where they fail (.ci/run installs both).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

LINT = Path(__file__).resolve().parents[1]  # the package's folder: lint/

MISTAKES = textwrap.dedent(
    """\
    import httpx


    def fetch(url, client=httpx.Client()):
        return client.get(url)


    def statuses(urls):
        return [httpx.get(u).status_code for u in urls]  # noqa: OO102


    async def token():
        async with httpx.AsyncClient() as c:
            return c
    """
)
CLEAN = (
    "import httpx\n\nwith httpx.Client() as client:\n    print(client.get('https://a.example'))\n"
)
EXPECTED = [
    "mistakes.py:4:23: OO105 ",
    "mistakes.py:14:9: OO108 ",
]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(LINT)}
    return subprocess.run(
        [sys.executable, "-m", "open_once_lint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "mistakes.py").write_text(MISTAKES)
    (tmp_path / "clean.py").write_text(CLEAN)
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "skipped.py").write_text(MISTAKES)  # never read: a virtualenv
    return tmp_path


def _prefixes(stdout: str) -> list[str]:
    return [
        line.split("OO1")[0] + "OO1" + line.split("OO1")[1][:2] + " "
        for line in stdout.splitlines()
    ]


def test_findings_one_line_each_in_flake8_format_exit_1(project: Path) -> None:
    result = _run(".", cwd=project)
    assert result.returncode == 1, result.stderr
    assert _prefixes(result.stdout.replace("./", "")) == EXPECTED
    assert result.stderr == ""


def test_no_path_checks_the_current_folder_and_help_says_so(project: Path) -> None:
    assert _prefixes(_run(cwd=project).stdout.replace("./", "")) == EXPECTED
    assert _run("clean.py", cwd=project).stdout == ""  # a path given: only that path
    usage = " ".join(_run("--help", cwd=project).stdout.split())
    assert "[PATH ...]" in usage and "default: the current folder" in usage


def test_clean_code_exits_0(project: Path) -> None:
    result = _run("clean.py", cwd=project)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_select_and_ignore(project: Path) -> None:
    assert _prefixes(_run("--select", "OO108", ".", cwd=project).stdout) == EXPECTED[1:]
    ignored = _run("--ignore", "OO105,OO108", ".", cwd=project)
    assert (ignored.returncode, ignored.stdout) == (0, "")


def test_notebook_code_cells_with_their_cell_number(project: Path) -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": "# A notebook", "metadata": {}},
            {"cell_type": "code", "source": ["%pip install httpx\n", "import httpx\n"]},
            {"cell_type": "code", "source": "%%bash\necho skipped"},
            {"cell_type": "code", "source": "for u in urls:\n    httpx.get(u)\n"},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (project / "nb.ipynb").write_text(json.dumps(notebook))
    result = _run("nb.ipynb", cwd=project)
    assert result.returncode == 1
    assert result.stdout.startswith("nb.ipynb:cell_4:2:5: OO102 httpx.get() builds a new client")


def test_a_file_that_does_not_parse_is_reported_and_exits_2(project: Path) -> None:
    (project / "broken.py").write_text("import httpx\ndef broken(:\n")
    result = _run("broken.py", "clean.py", cwd=project)
    assert result.returncode == 2
    assert result.stderr.startswith("broken.py:0:1: E902 SyntaxError")


def test_lessons_follow_each_finding(project: Path) -> None:
    lines = _run("--lessons", "mistakes.py", cwd=project).stdout.splitlines()
    assert lines[0].startswith("mistakes.py:4:23: OO105 ")
    assert lines[1] == "    taught in notebooks/06_one_client_per_application.ipynb" + (
        "#1b.-The-other-mistake:-a-module-level-client-that-nothing-closes"
    )
    assert len(lines) == 4


def test_list_rules_names_each_code_and_its_lesson(project: Path) -> None:
    result = _run("--list-rules", cwd=project)
    assert result.returncode == 0
    assert [line.split()[0] for line in result.stdout.splitlines()[::2]] == [
        f"OO10{n}" for n in range(1, 10)
    ]
    assert all("notebooks/0" in line for line in result.stdout.splitlines()[1::2])


# --- installed: the command and the flake8 plugin ---------------------------------------------
def _need(what: str, present: bool) -> None:
    if present:
        return
    reason = f"{what} is not installed (python -m pip install ./lint -r requirements-dev.txt)"
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def test_installed_command_matches_the_source(project: Path) -> None:
    command = shutil.which("open-once-lint", path=str(Path(sys.executable).parent))
    _need("the open-once-lint command", command is not None)
    assert command is not None
    installed = subprocess.run(
        [command, "."], cwd=project, capture_output=True, text=True, timeout=60
    )
    assert (installed.returncode, installed.stdout) == (1, _run(".", cwd=project).stdout)


def test_flake8_plugin(project: Path) -> None:
    registered = any(ep.name == "OO" for ep in entry_points(group="flake8.extension"))
    _need("flake8 with the open-once-lint plugin", registered)
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--select=OO", "mistakes.py", "clean.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert _prefixes(result.stdout) == EXPECTED  # flake8 applies the noqa comment itself

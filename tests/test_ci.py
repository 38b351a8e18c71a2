"""The published repository's machinery: the CI workflow, .ci/run, and what Binder builds.

The workflow cannot run here: actionlint is what proves it well-formed. repo2docker (what Binder
runs) prints its Dockerfile without Docker, which shows whether the install of
binder/requirements.txt comes before the repository is copied (then every commit that leaves the
pins alone reuses that image layer). Both tools come with requirements-dev.txt: without them
these tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.setup_check import SUPPORTED_PYTHONS
from tests.notebook_runner import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
DOTTED = [f"{major}.{minor}" for major, minor in SUPPORTED_PYTHONS]


def _tool(name: str) -> str:
    """The tool from this environment (or PATH); skip without it, fail under CI=true."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if found is None:
        reason = f"{name} is not installed (python -m pip install -r requirements-dev.txt)"
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    return found


def test_actionlint_passes_the_workflows() -> None:
    actionlint = _tool("actionlint")
    assert WORKFLOWS, "no workflow in .github/workflows/"
    result = subprocess.run(
        [actionlint, "-no-color", *map(str, WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_runs_ci_run_for_each_supported_python_on_debian_12() -> None:
    (workflow,) = WORKFLOWS
    text = workflow.read_text(encoding="utf-8")
    assert re.search(r"^on:\n  push:\n  pull_request:\n", text, re.MULTILINE)
    matrix = re.search(r"^\s+python: \[(.*)\]$", text, re.MULTILINE)
    assert matrix and [v.strip().strip('"') for v in matrix.group(1).split(",")] == DOTTED
    assert "image: python:${{ matrix.python }}-bookworm" in text  # Debian 12, as root
    assert 'run: bash .ci/run "${{ matrix.python }}"' in text


def test_ci_run_tests_the_supported_pythons() -> None:
    supported = re.search(r"^SUPPORTED=\(([^)]*)\)", CI_RUN, re.MULTILINE)
    assert supported and supported.group(1).split() == DOTTED
    assert re.search(rf"^FULL={DOTTED[0]}\b", CI_RUN, re.MULTILINE)
    assert "scripts/check" in CI_RUN and "requirements-dev.txt" in CI_RUN


def _dockerfile() -> str:
    repo2docker = _tool("jupyter-repo2docker")
    result = subprocess.run(
        [repo2docker, "--no-build", "--no-run", "--debug", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr  # the Dockerfile on stdout, the build plan's log on stderr


def test_binder_installs_its_pins_before_copying_the_repository() -> None:
    text = _dockerfile()
    lines = text.splitlines()
    install = [i for i, line in enumerate(lines) if re.search(r"pip install .*-r \"?binder/", line)]
    copy_all = [
        i for i, line in enumerate(lines) if re.match(r"COPY .*\bsrc/ \$\{REPO_DIR\}/", line)
    ]
    assert len(install) == 1 and len(copy_all) == 1, "\n".join(lines)
    assert install[0] < copy_all[0], "binder/requirements.txt is installed after the repository"
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    python = runtime.removeprefix("python-")
    assert f"Building conda environment for python={python}" in text

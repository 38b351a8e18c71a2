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
import shlex
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


def _job(name: str) -> str:
    """The text of one job of the workflow (its lines up to the next job)."""
    (workflow,) = WORKFLOWS
    text = workflow.read_text(encoding="utf-8")
    assert re.search(r"^on:\n  push:\n  pull_request:\n", text, re.MULTILINE)
    job = re.search(rf"^  {name}:\n(.*?)(?=^  \S|\Z)", text, re.MULTILINE | re.DOTALL)
    assert job, f"the workflow has no job {name!r}"
    return job.group(1)


def _matrix(job: str, key: str) -> list[str]:
    found = re.search(rf"^\s+{key}: \[(.*)\]$", job, re.MULTILINE)
    assert found, f"no {key} matrix in {job}"
    return [v.strip().strip('"') for v in found.group(1).split(",")]


def test_the_workflow_runs_ci_run_for_each_supported_python_on_debian_12() -> None:
    linux = _job("linux")
    assert _matrix(linux, "python") == DOTTED
    assert "image: python:${{ matrix.python }}-bookworm" in linux  # Debian 12, as root
    assert 'run: bash .ci/run "${{ matrix.python }}"' in linux


def _readme_block(heading: str) -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(rf"^## {heading}.*?(?=^## )", readme, re.MULTILINE | re.DOTALL)
    assert section, f"README.md has no {heading!r} section"
    block = re.search(r"^```bash\n(.*?)^```", section.group(0), re.MULTILINE | re.DOTALL)
    assert block, f"README's {heading!r} has no bash block"
    return block.group(1).splitlines()


def test_the_workflow_runs_the_readmes_commands_on_macos_and_windows() -> None:
    """A learner's laptop: the README's two set-up commands, then its test command."""
    learner = _job("learner")
    assert _matrix(learner, "os") == ["macos-latest", "windows-latest"]
    assert _matrix(learner, "python") == DOTTED
    assert "python-version: ${{ matrix.python }}" in learner
    install, start = _readme_block("Set up")
    (test,) = _readme_block("Testing the pack")
    runs = re.findall(r"^\s+run: (.+)$", learner, re.MULTILINE)
    assert runs == [install, "python scripts/start_jupyter_lab.py", test]
    # The script starts what the README says (and stops it once it serves notebook 00).
    from scripts.start_jupyter_lab import readme_command

    assert readme_command() == shlex.split(start)
    # The learner's install: tests that need requirements-dev.txt skip (CI=true fails them).
    test_step = learner[learner.index(f"run: {test}") :]
    assert re.search(r"^\s+CI: \"false\"", test_step, re.MULTILINE)


def test_ci_run_tests_the_supported_pythons() -> None:
    supported = re.search(r"^SUPPORTED=\(([^)]*)\)", CI_RUN, re.MULTILINE)
    assert supported and supported.group(1).split() == DOTTED
    assert re.search(rf"^FULL={DOTTED[0]}\b", CI_RUN, re.MULTILINE)
    assert "scripts/check" in CI_RUN and "requirements-dev.txt" in CI_RUN
    assert "scripts/check_wheels.py" in CI_RUN  # every pin from wheels, on every platform


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

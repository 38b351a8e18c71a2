"""requirements.txt is the one exact list; binder/ uses it; every import of the pack is pinned."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions, version
from pathlib import Path

import nbformat

from labkit.setup_check import pinned_python, pinned_versions
from tests.notebook_runner import ROOT

LOCAL = {"labkit", "tests"}


def _resolved_pins(path: Path) -> dict[str, str]:
    """Pins of a requirements file, following `-r other.txt` includes."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r"):
            pins.update(_resolved_pins(path.parent / line[2:].strip()))
        elif line:
            name, _, pinned = line.partition("==")
            assert pinned, f"{path.name}: {line!r} is not pinned exactly with =="
            pins[name.lower()] = pinned
    return pins


def test_binder_names_the_same_pins_as_requirements() -> None:
    assert (ROOT / "binder" / "requirements.txt").read_text().strip() == "-r ../requirements.txt"
    assert _resolved_pins(ROOT / "binder" / "requirements.txt") == _resolved_pins(ROOT / "requirements.txt")
    assert _resolved_pins(ROOT / "requirements.txt") == pinned_versions()


def test_binder_runtime_is_the_python_ci_tests() -> None:
    assert re.fullmatch(r"python-3\.\d+", (ROOT / "binder" / "runtime.txt").read_text().strip())
    assert pinned_python() == f"{sys.version_info.major}.{sys.version_info.minor}"


def test_installed_versions_match_the_pins() -> None:
    assert {name: version(name) for name in pinned_versions()} == pinned_versions()


def _imported_modules() -> set[str]:
    sources = [p.read_text() for folder in ("notebooks/labkit", "tests", "solutions", "scripts")
               for p in (ROOT / folder).rglob("*.py")]
    for nb_path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(nb_path, as_version=4)
        sources += ["\n".join(line for line in c.source.splitlines() if not line.lstrip().startswith(("%", "!")))
                    for c in nb.cells if c.cell_type == "code"]
    names: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - LOCAL - set(sys.stdlib_module_names)


def test_every_imported_package_is_pinned() -> None:
    distributions = packages_distributions()
    pins = pinned_versions()
    unpinned = {m: distributions.get(m) for m in _imported_modules()
                if not any(d.lower() in pins for d in distributions.get(m, []))}
    assert unpinned == {}

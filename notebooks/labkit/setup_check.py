"""The room's set-up check: a supported Python, and the package versions the pack was tested with.

Runs on its own, without the rest of labkit and before anything is installed, so that it can
still say what is wrong on an old Python or in an empty environment: notebook 00 runs it with
`%run labkit/setup_check.py`, and a terminal with `python notebooks/labkit/setup_check.py`.
It uses only the standard library and what Python 3.8 already has, so that an old interpreter
still reaches the line that says what to do.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# The Pythons the pack is tested on (.ci/run, the CI workflow and the README name the same ones).
SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13), (3, 14), (3, 15))
CHECKED = ("httpx", "httpcore", "ipywidgets", "jupyterlab", "matplotlib", "trustme")
INSTALL = "run  python -m pip install -r requirements.txt"


def _dotted(version_info: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version_info[:2])


def supported_pythons() -> str:
    """'3.11 to 3.15', for messages: the supported Pythons are consecutive minor versions."""
    return f"{_dotted(SUPPORTED_PYTHONS[0])} to {_dotted(SUPPORTED_PYTHONS[-1])}"


def pinned_versions(requirements: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """`name: version` for every `name==version` line of requirements.txt."""
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#;]+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def python_verdict(version_info: tuple[int, ...] = sys.version_info[:2]) -> tuple[bool, str]:
    """Is this Python supported, and the line that says so (the same on every supported one)."""
    running = tuple(version_info[:2])
    if running in SUPPORTED_PYTHONS:
        return True, f"✅ Python: a supported version ({supported_pythons()})"
    oldest, newest = SUPPORTED_PYTHONS[0], SUPPORTED_PYTHONS[-1]
    if running < oldest:
        return False, (
            f"❌ Python {_dotted(running)} is too old: the pack needs {supported_pythons()}."
            f" Install one (python.org, `uv python install {_dotted(newest)}`, pyenv or conda),"
            " then install requirements.txt into a fresh virtual environment made with it."
            " No install at all: the README's Binder link."
        )
    return False, (
        f"⚠️ Python {_dotted(running)} is newer than the pack is tested on"
        f" ({supported_pythons()}): most lessons will still work; if something breaks,"
        f" use Python {_dotted(newest)}."
    )


def report_versions(python: tuple[int, ...] = sys.version_info[:2]) -> bool:
    """Print one line per tool: ✅ when it is what the pack was tested with, else what to do."""
    ok, line = python_verdict(python)
    print(line)
    if tuple(python[:2]) < SUPPORTED_PYTHONS[0]:
        return False  # the pins don't install on it: the packages' lines would only mislead
    pins = pinned_versions()
    for name in CHECKED:
        try:
            have = version(name)
        except PackageNotFoundError:
            ok = False
            print(f"❌ {name} is not installed: {INSTALL}")
            continue
        if have == pins[name]:
            print(f"✅ {name} {have}")
        else:
            ok = False
            print(f"⚠️ {name} {have}, but the pack pins {pins[name]}: {INSTALL}")
    return ok


if __name__ == "__main__":
    report_versions()

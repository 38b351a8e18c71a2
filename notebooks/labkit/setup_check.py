"""The room's setup check: is this the Python and are these the packages the pack was tested with?"""

from __future__ import annotations

import platform
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
CHECKED = ("httpx", "httpcore", "ipywidgets", "jupyterlab", "matplotlib", "trustme")


def pinned_versions(requirements: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """`name: version` for every `name==version` line of requirements.txt."""
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Za-z0-9_.-]+)==([^\s#;]+)", line.strip()):
            pins[match.group(1).lower()] = match.group(2)
    return pins


def pinned_python(runtime: Path = ROOT / "binder" / "runtime.txt") -> str:
    """The Python the pack is tested on, from binder/runtime.txt (`python-3.11` -> `3.11`)."""
    return runtime.read_text(encoding="utf-8").strip().removeprefix("python-")


def report_versions() -> bool:
    """Print one line per tool: ✅ when it matches the pin, ⚠️ with what to do when not."""
    ok = True
    want_python = pinned_python()
    have_python = ".".join(platform.python_version_tuple()[:2])
    if have_python == want_python:
        print(f"✅ Python {have_python}")
    else:
        ok = False
        print(f"⚠️ Python {have_python}, but the pack is tested on {want_python}: most lessons will still work")
    pins = pinned_versions()
    for name in CHECKED:
        try:
            have = version(name)
        except PackageNotFoundError:
            ok = False
            print(f"❌ {name} is not installed: run  python -m pip install -r requirements.txt")
            continue
        if have == pins[name]:
            print(f"✅ {name} {have}")
        else:
            ok = False
            print(f"⚠️ {name} {have}, but the pack pins {pins[name]}: run  python -m pip install -r requirements.txt")
    return ok

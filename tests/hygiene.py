"""What a stored notebook must be: executed top to bottom, clean, and mostly compared by nbval."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

IGNORE_MARKERS = ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP")
IGNORE_TAGS = ("nbval-ignore-output", "nbval-skip")
MACHINE_PATH = re.compile(r"(/work/|/root/|/tmp/|/home/|/Users/|/opt/|[A-Z]:\\\\)")
ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{6,}")
MAX_UNCHECKED = 0.20
RAISES_TAG = "raises-exception"
RAISES_MARKER = "NBVAL_RAISES_EXCEPTION"


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else (value or "")


def unchecked_share(nb: dict[str, Any]) -> tuple[int, int]:
    """(code cells nbval does not compare, all non-empty code cells)."""
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and _text(c["source"]).strip()]
    ignored = sum(
        1
        for c in cells
        if any(m in _text(c["source"]) for m in IGNORE_MARKERS)
        or any(t in c.get("metadata", {}).get("tags", []) for t in IGNORE_TAGS)
    )
    return ignored, len(cells)


def raises_on_purpose(cell: dict[str, Any]) -> bool:
    """The cell carries the tag that lets JupyterLab's Run All (and nbval) go on past its error."""
    return RAISES_TAG in cell.get("metadata", {}).get("tags", [])


def raising_problems(cell: dict[str, Any]) -> list[str]:
    """What is wrong with how this code cell raises: the tag, not the comment, is what counts.

    JupyterLab reads only the tag (it then sends `stop_on_error: false`); without it Run All
    drops every cell after the first error. The comment alone is read by nbval only.
    """
    errors = [o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if RAISES_MARKER in _text(cell["source"]) and not raises_on_purpose(cell):
        return [f"has {RAISES_MARKER} but not the tag {RAISES_TAG!r} (Run All stops there)"]
    if errors and not raises_on_purpose(cell):
        return [f"stored an unexpected {errors[0]} (tag it {RAISES_TAG!r} if it raises on purpose)"]
    if raises_on_purpose(cell) and not errors:
        return [f"is tagged {RAISES_TAG!r} but stored no error"]
    return []


def findings(path: Path) -> list[str]:
    """Every way this notebook breaks the pack's conventions; empty when it is clean."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    found: list[str] = []
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and _text(c["source"]).strip()]
    counts = [c.get("execution_count") for c in cells]
    if counts != list(range(1, len(cells) + 1)):
        found.append(
            f"execution counts {counts} are not 1..{len(cells)}:"
            " run it top to bottom in a fresh kernel"
        )
    for number, cell in enumerate(cells, start=1):
        source = _text(cell["source"])
        if "verify=False" in source.replace(" ", ""):
            found.append(f"code cell {number} uses verify=False")
        found.extend(f"code cell {number} {problem}" for problem in raising_problems(cell))
        for output in cell.get("outputs", []):
            blob = json.dumps(output)
            if MACHINE_PATH.search(blob):
                found.append(f"code cell {number} output shows a machine path")
            if ADDRESS.search(blob):
                found.append(f"code cell {number} output shows a memory address")
    ignored, total = unchecked_share(nb)
    if total and ignored / total > MAX_UNCHECKED:
        found.append(f"{ignored}/{total} code cells are not compared by nbval (at most 20%)")
    if "widgets" in nb.get("metadata", {}):
        found.append("widget state saved in metadata.widgets")
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name")
    if kernel != "python3":
        found.append(f"kernelspec is {kernel!r}, not 'python3'")
    return found

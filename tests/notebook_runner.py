"""Run a notebook as a learner who loaded every solution would: stubs replaced by solutions."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
LOAD = re.compile(r"^# %load (\.\./solutions/\S+\.py)\s*$", re.MULTILINE)
CHECK_CALL = re.compile(r"\bcheck_\w+\(")


def stub_cells(nb: nbformat.NotebookNode) -> list[tuple[int, Path]]:
    """(cell index, solution file) of each exercise stub: `# %load ../solutions/X.py` cells."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (match := LOAD.search(cell.source)):
            found.append((index, (ROOT / "notebooks" / match.group(1)).resolve()))
    return found


def run_with_solutions(path: Path) -> nbformat.NotebookNode:
    """Execute the notebook in a fresh kernel with each stub's source replaced by its solution."""
    nb = nbformat.read(path, as_version=4)
    for index, solution in stub_cells(nb):
        nb.cells[index].source = solution.read_text(encoding="utf-8")
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    return nb


def check_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """The printed text of every check cell (a cell that calls `check_...(`), in order."""
    texts = []
    for cell in nb.cells:
        if (
            cell.cell_type == "code"
            and CHECK_CALL.search(cell.source)
            and "def check_" not in cell.source
        ):
            texts.append(
                "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            )
    return texts

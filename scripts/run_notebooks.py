"""Execute notebooks top to bottom in a fresh kernel and save them with their outputs.

    python scripts/run_notebooks.py                      # every notebook in notebooks/
    python scripts/run_notebooks.py notebooks/01_*.ipynb

Stored outputs are the pack's documentation and what nbval compares against, so always save
notebooks this way (not from a kernel you have been poking at): execution counts run 1..n, no
widget state is saved in the metadata, and no timing metadata churns the diff.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def run(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=False,
        record_timing=False,
        allow_errors=True,  # expected errors (NBVAL_RAISES_EXCEPTION) are part of the lesson
    )
    client.execute()
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(nb, path)
    errors = [
        (i, o.get("ename"))
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if o.output_type == "error" and "NBVAL_RAISES_EXCEPTION" not in cell.source
    ]
    print(f"{path.relative_to(ROOT)}: executed" + (f"; UNEXPECTED ERRORS in cells {errors}" if errors else ""))


if __name__ == "__main__":
    paths = [Path(p).resolve() for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for p in paths:
        run(p)

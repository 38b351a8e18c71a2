"""Execute notebooks top to bottom in a fresh kernel and save them with their outputs.

    python scripts/run_notebooks.py                      # every notebook in notebooks/
    python scripts/run_notebooks.py notebooks/01_*.ipynb

Stored outputs are the pack's documentation and what nbval compares against, so always save
notebooks this way (not from a kernel you have been poking at): execution counts run 1..n, no
widget state is saved in the metadata, and no timing metadata churns the diff.

A cell may raise only if it is tagged `raises-exception`, and a tagged cell must raise: that tag
is what lets JupyterLab's Run All go on past the error. Every notebook is saved either way, and
the script exits with 1 if any broke that rule (it says which cells).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.hygiene import raising_problems  # noqa: E402  (needs the path above)


def run(path: Path) -> bool:
    """Execute and save one notebook; False if an untagged cell raised or a tagged one didn't."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=False,
        record_timing=False,
        allow_errors=True,  # save every output, then report any error that was not expected
    )
    client.execute()
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    nbformat.write(nb, path)
    # Judged by the cell tag, as JupyterLab's Run All judges them: only `raises-exception` lets
    # it go on past an error (the `# NBVAL_RAISES_EXCEPTION` comment is read by nbval alone).
    problems = [
        f"code cell {number} {problem}"
        for number, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1)
        for problem in raising_problems(cell)
    ]
    print(f"{path.relative_to(ROOT)}: executed" + "".join(f"; {p}" for p in problems))
    return not problems


if __name__ == "__main__":
    paths = [Path(p).resolve() for p in sys.argv[1:]] or sorted(
        (ROOT / "notebooks").glob("*.ipynb")
    )
    results = [run(p) for p in paths]  # every notebook, even after one went wrong
    sys.exit(0 if all(results) else 1)

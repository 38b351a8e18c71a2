"""Each notebook's exercises, run with its solutions in place of its stubs (and the cells they
depend on: tests/notebook_runner.py), show ✅ in every check cell."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.hygiene import raises_on_purpose
from tests.notebook_runner import (
    ROOT,
    check_outputs,
    exercise_slice,
    is_check_cell,
    run_with_solutions,
    stub_cells,
)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WITH_EXERCISES = [p for p in NOTEBOOKS if stub_cells(nbformat.read(p, as_version=4))]


def test_every_solution_belongs_to_one_exercise_stub() -> None:
    stubs = [(p, s) for p in NOTEBOOKS for _, s in stub_cells(nbformat.read(p, as_version=4))]
    assert sorted(s for _, s in stubs) == sorted((ROOT / "solutions").glob("*.py"))
    assert all(s.name[:2] == p.name[:2] for p, s in stubs)


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_solutions_pass_every_check_in_the_notebook(path: Path) -> None:
    nb = run_with_solutions(path)
    # Expected errors are judged by the cell tag, as JupyterLab's Run All and the hygiene rules do.
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code" and not raises_on_purpose(c)
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert errors == []
    verdicts = check_outputs(nb)
    assert verdicts, "no check cells found"
    assert all(v.startswith("✅") and "❌" not in v for v in verdicts), verdicts


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_stored_notebook_shows_unsolved_stubs_as_not_yet(path: Path) -> None:
    """As shipped, "Run All" reaches every check and each says "not yet" instead of stopping."""
    nb = nbformat.read(path, as_version=4)
    verdicts = check_outputs(nb)
    assert verdicts and all(v.startswith("❌ Not yet") for v in verdicts), verdicts


def test_the_slice_keeps_what_the_exercises_read_and_leaves_the_demonstrations() -> None:
    code = nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook(
        cells=[
            code("%xmode Minimal\nimport httpx\nserver = object()"),
            code("x = 1\nprint(server, x)"),  # a demonstration: nothing below reads x
            code("LIMIT = 3"),
            code("def helper(url):\n    x = url  # a local x, not the cell above's\n    return x"),
            nbformat.v4.new_markdown_cell("Your turn."),
            code("# %load ../solutions/02_fetch_all.py\ndef answer():\n    return helper(LIMIT)"),
            code("from labkit.checks import check_fetch_all\n\ncheck_fetch_all(answer)"),
            code("server.close()"),  # after the last exercise
        ]
    )
    assert exercise_slice(nb) == [0, 2, 3, 5, 6]
    nb.cells.insert(1, code("%%bash\necho $HOME"))  # not Python: who knows what it does
    assert exercise_slice(nb) == [0, 1, 3, 4, 6, 7]


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_the_slice_of_each_notebook_holds_its_exercises(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    kept = exercise_slice(nb)
    first = next(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")
    exercises = {i for i, _ in stub_cells(nb)} | {
        i for i, cell in enumerate(nb.cells) if is_check_cell(cell)
    }
    assert {first} | exercises <= set(kept)

"""Each exercise's stub in its notebook promises what its solution in solutions/ delivers.

A stub cell starts with `# %load ../solutions/NN_<name>.py`; the learner writes their answer in
it, and `%load` replaces it with the solution. Both must define the same functions and classes,
with the same signatures and docstrings: otherwise the prompt and the answer drift apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from tests.notebook_runner import ROOT

LOAD = re.compile(r"^# %load \.\./solutions/(\d\d_\w+\.py)\s*$")

Definitions = dict[str, tuple[str, str | None]]


def _stubs() -> dict[str, tuple[str, str]]:
    """{solution file name: (notebook name, stub source)} for every stub cell of every notebook."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            first = cell.source.split("\n", 1)[0]
            if cell.cell_type == "code" and (match := LOAD.match(first)):
                assert match.group(1) not in found, f"two stubs load {match.group(1)}"
                found[match.group(1)] = (path.name, cell.source)
    return found


STUBS = _stubs()


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    kind = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    decorators = "".join(f"@{ast.unparse(d)} " for d in node.decorator_list)
    return f"{decorators}{kind} {node.name}({ast.unparse(node.args)}){returns}"


def definitions(source: str) -> Definitions:
    """Every function, class and method: its signature (or bases) and its docstring."""
    found: Definitions = {}

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[prefix + node.name] = (_signature(node), ast.get_docstring(node))
            elif isinstance(node, ast.ClassDef):
                bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
                decorators = "".join(f"@{ast.unparse(d)} " for d in node.decorator_list)
                found[prefix + node.name] = (
                    f"{decorators}class {node.name}({bases})",
                    ast.get_docstring(node),
                )
                walk(node.body, f"{prefix}{node.name}.")

    walk(ast.parse(source).body, "")
    return found


def assigned(source: str) -> set[str]:
    """The top-level names a cell assigns (an exercise may be a value, like `my_predictions`)."""
    names = set()
    for node in ast.parse(source).body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else ([node.target] if isinstance(node, ast.AnnAssign) else [])
        )
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def test_every_stub_loads_a_solution_that_exists() -> None:
    solutions = {path.name for path in (ROOT / "solutions").glob("[0-9][0-9]_*.py")}
    assert set(STUBS) <= solutions, sorted(set(STUBS) - solutions)


@pytest.mark.parametrize("name", sorted(STUBS))
def test_the_stub_has_its_solutions_signatures_and_docstrings(name: str) -> None:
    notebook, stub = STUBS[name]
    solution = (ROOT / "solutions" / name).read_text(encoding="utf-8")
    mine, theirs = definitions(stub), definitions(solution)
    assert mine == theirs, f"{notebook}'s stub and solutions/{name} differ"
    assert assigned(stub) == assigned(solution), f"{notebook}'s stub and solutions/{name}"
    assert mine or assigned(stub), f"{name} defines nothing"


def test_definitions_see_a_changed_signature_or_docstring() -> None:
    base = 'def f(a: int) -> str:\n    """Doc."""\n    raise NotImplementedError\n'
    assert definitions(base) == definitions(base.replace("raise NotImplementedError", "return 'x'"))
    assert definitions(base) != definitions(base.replace("a: int", "a: str"))
    assert definitions(base) != definitions(base.replace("Doc.", "Other."))
    assert definitions(base) != definitions("async " + base)
    assert definitions(base) != definitions(base.replace("-> str", "-> int"))


def test_stub_cells_are_found_in_the_notebooks() -> None:
    assert Path(ROOT / "notebooks").is_dir()
    assert "00_first_request.py" in STUBS and "03_choose_pool.py" in STUBS

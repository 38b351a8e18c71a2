"""Run a notebook as a learner who loaded every solution would: stubs replaced by solutions.

Only the cells the exercises depend on run: each stub (now its solution), each check cell, the
first code cell (imports, servers), and every cell that defines a name they use, found by
Python's own `symtable`. The demonstrations in between run in nbval's replay and in the browser
test already; left out here, a notebook's exercises run in a third of its time.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import symtable
import tempfile
import uuid
from pathlib import Path

import nbformat
from jupyter_client.connect import ConnectionFileMixin, localhost
from jupyter_client.manager import AsyncKernelManager, KernelManager
from nbclient import NotebookClient
from traitlets import default

ROOT = Path(__file__).resolve().parent.parent
LOAD = re.compile(r"^# %load (\.\./solutions/\S+\.py)\s*$", re.MULTILINE)
CHECK_CALL = re.compile(r"\bcheck_\w+\(")


_SOCKETS = tempfile.mkdtemp(prefix="kernels-")  # short: a socket's path holds ~100 bytes
atexit.register(shutil.rmtree, _SOCKETS, ignore_errors=True)


class SocketFiles(ConnectionFileMixin):  # type: ignore[misc]  # untyped base
    """Kernel managers that talk to their kernel over Unix socket files, where there are any.

    Over TCP, jupyter_client picks five free ports and the kernel binds them a moment later,
    as it starts; in between, any of the suite's many connections, whose source ports come
    from the same range, can take one (seen: "Address already in use", then "Kernel died
    before replying to kernel_info"). Windows has no socket files: TCP there.
    """

    @default("transport")
    def _socket_files(self) -> str:
        return "tcp" if os.name == "nt" else "ipc"

    @default("ip")
    def _socket_path(self) -> str:
        if self.transport != "ipc":
            return str(localhost())
        return os.path.join(_SOCKETS, uuid.uuid4().hex[:12])


class SocketFileKernelManager(SocketFiles, KernelManager):  # type: ignore[misc]
    """For nbval, which drives its kernel from plain calls."""


class AsyncSocketFileKernelManager(SocketFiles, AsyncKernelManager):  # type: ignore[misc]
    """For nbclient, which drives its kernel from an event loop."""


def stub_cells(nb: nbformat.NotebookNode) -> list[tuple[int, Path]]:
    """(cell index, solution file) of each exercise stub: `# %load ../solutions/X.py` cells."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (match := LOAD.search(cell.source)):
            found.append((index, (ROOT / "notebooks" / match.group(1)).resolve()))
    return found


def is_check_cell(cell: nbformat.NotebookNode) -> bool:
    """A cell that calls a `check_...(` function (and does not define one)."""
    return (
        cell.cell_type == "code"
        and bool(CHECK_CALL.search(cell.source))
        and "def check_" not in cell.source
    )


def names(source: str) -> tuple[set[str], set[str]]:
    """The global names a cell binds, and those it reads (in its functions' bodies too, but
    not their parameters and locals). IPython's line magics (`%xmode Minimal`) are left out."""
    python = "\n".join(
        line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip()[:1] in ("%", "!") else line
        for line in source.splitlines()
    )
    table = symtable.symtable(python, "<cell>", "exec")
    bound = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    read: set[str] = set()
    scopes = [(table, True)]
    while scopes:
        scope, top = scopes.pop()
        read |= {
            s.get_name()
            for s in scope.get_symbols()
            if s.is_referenced() and (top or s.is_global())
        }
        scopes += [(child, False) for child in scope.get_children()]
    return bound, read


def exercise_slice(nb: nbformat.NotebookNode) -> list[int]:
    """Indices of the cells the exercises need, in order (see the module's docstring); a cell
    that is not Python, even with its magics left out, is kept."""
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    stubs = {i for i, _ in stub_cells(nb)}
    targets = {i for i in code if i in stubs or is_check_cell(nb.cells[i])}
    if not targets:
        return []
    keep, needed = targets | {code[0]}, set[str]()
    for index in reversed([i for i in code if i <= max(targets)]):
        try:
            bound, read = names(nb.cells[index].source)
        except SyntaxError:
            keep.add(index)
            continue
        if index in keep or bound & needed:
            keep.add(index)
            needed |= read
    return sorted(keep)


def run_with_solutions(path: Path) -> nbformat.NotebookNode:
    """Execute the exercises' cells (`exercise_slice`) in a fresh kernel, each stub's source
    replaced by its solution; the notebook of those cells, with their outputs."""
    nb = nbformat.read(path, as_version=4)
    for index, solution in stub_cells(nb):
        nb.cells[index].source = solution.read_text(encoding="utf-8")
    nb.cells = [nb.cells[index] for index in exercise_slice(nb)]
    NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        kernel_manager_class=AsyncSocketFileKernelManager,
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    return nb


def check_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """The printed text of every check cell (a cell that calls `check_...(`), in order."""
    return [
        "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        for cell in nb.cells
        if is_check_cell(cell)
    ]

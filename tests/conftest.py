"""Shared fixtures: lab servers, and a guard that no test leaves a thread running.

`OPEN_ONCE_HTTPX=httpx2 python -m pytest ...` runs the tests with `import httpx` resolved to
httpx2 (and `import httpcore` to httpcore2) through `httpx2.alias_httpx()`, called here before
anything imports httpx; tests of behaviour only httpx 0.x/httpcore 1.x has skip there, naming
the difference (`tests/libraries.py`). .ci/run runs labkit's own tests so.
"""

from __future__ import annotations

import os

if os.environ.get("OPEN_ONCE_HTTPX", "httpx") == "httpx2":
    import httpx2

    httpx2.alias_httpx()  # raises RuntimeError if a plugin imported httpx first
elif os.environ.get("OPEN_ONCE_HTTPX", "httpx") != "httpx":
    raise ValueError(
        f"OPEN_ONCE_HTTPX must be httpx or httpx2, not {os.environ['OPEN_ONCE_HTTPX']!r}"
    )

import gc
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import nbval.kernel
import pytest
from xdist.scheduler import LoadScopeScheduling

from labkit import LabServer
from tests.notebook_runner import SocketFileKernelManager
from tests.replays import BROWSER_TESTS, browser_missing, skip_replays
from tests.scheduling import interleaved, scope_of


def _kernel_without_a_stray_file(*args: Any, **kwargs: Any) -> Any:
    """nbval 0.11 starts each notebook's kernel with `stderr=open(os.devnull, "w")` and never
    closes that file: its ResourceWarning surfaces, as an error, in whichever test happens to run
    the garbage collector later. `subprocess.DEVNULL` sends the kernel's stderr to the same
    place with no Python file to leak."""
    stray = kwargs.get("stderr")
    kwargs["stderr"] = subprocess.DEVNULL
    if stray is not None and hasattr(stray, "close"):
        stray.close()
    return _start_new_kernel(*args, **kwargs)


_start_new_kernel = nbval.kernel.start_new_kernel
nbval.kernel.start_new_kernel = _kernel_without_a_stray_file
nbval.kernel.KernelManager = SocketFileKernelManager  # no TCP port to lose to a race


# The longest scopes go out first, so that none is left to run alone at the end: the browser
# tests (every notebook in JupyterLab), then each notebook run with its solutions (5-10 s).
# xdist itself puts the notebooks' nbval scopes (many cells each) before the one-test scopes.
SLOWEST_FIRST = (BROWSER_TESTS, "tests/test_notebooks_with_solutions.py::test_solutions_pass")


class _NotebookScopeScheduling(LoadScopeScheduling):  # type: ignore[misc]  # untyped
    """xdist's `loadscope`, with other scopes (`scope_of`): a notebook's cells stay together
    and in order (nbval runs them in one kernel), and so do the browser tests (one JupyterLab
    runs every notebook) and a test class's tests, but every other test is a scope of its own.
    Plain `loadscope` sends a whole module to one worker, and one module of slow check tests
    then keeps the other workers idle.
    """

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid, together=(BROWSER_TESTS,))

    def _assign_work_unit(self, node: Any) -> None:
        """Hand out the slowest scopes first (SLOWEST_FIRST). The browser tests go to one
        worker, and while their notebooks wait on the lab servers the others run the rest."""
        if not getattr(self, "_interleaved", False):
            self._interleaved = True
            for unit in interleaved(list(self.workqueue)):
                self.workqueue.move_to_end(unit)
        for prefix in SLOWEST_FIRST:
            scope = next((s for s in self.workqueue if s.startswith(prefix)), None)
            if scope is not None:
                self.workqueue.move_to_end(scope, last=False)
                break
        super()._assign_work_unit(node)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") == "loadscope":
        return _NotebookScopeScheduling(config, log)
    return None


@pytest.hookimpl(trylast=True)  # after `-m`, `-k` and `--deselect` have chosen the tests
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip nbval's replay of a notebook that the browser tests compare in JupyterLab in this
    run (tests/replays.py says why); each notebook's skip is one line of the summary."""
    skip_replays(items, browser_missing())


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Each test starts with the objects already alive frozen out of the garbage collector's
    way (after collecting what is garbage, so none of it is frozen). The checks collect garbage
    twice per answer, to catch what a wrong answer left behind, and in this process, which has
    pytest, FastAPI and matplotlib imported, a full collection walks about 250,000 objects
    (0.15 s): most of the suite's CPU time. Frozen, a collection walks only what the test
    itself made, which is where a wrong answer's leftovers are. Never unfrozen: on CPython
    3.12.1 a collection after `gc.unfreeze()` keeps objects forever."""
    gc.collect()
    gc.freeze()


@pytest.fixture
def server() -> Iterator[LabServer]:
    with LabServer() as lab:
        yield lab


@pytest.fixture(params=[False, True], ids=["http", "https"])
def any_server(request: pytest.FixtureRequest) -> Iterator[LabServer]:
    with LabServer(tls=request.param) as lab:
        yield lab


@pytest.fixture(autouse=True)
def no_leaked_threads(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a thread behind (a server not closed, a pool not joined)."""
    if request.node.get_closest_marker("browser"):
        yield
        return
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra, f"threads left running: {[t.name for t in extra]}"

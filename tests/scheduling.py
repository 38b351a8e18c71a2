"""The order in which xdist's workers are handed the tests (tests/conftest.py schedules)."""

from __future__ import annotations

# Timing tests whose margins are a few milliseconds: last, when the other workers are done and
# only the browser tests' worker is still busy. Spread among the rest, the relay's fastest of
# 15 tries once still came out 5 ms over its model, beside the browser tests.
LAST = ("tests/test_server_relay.py::",)


def scope_of(nodeid: str, together: tuple[str, ...]) -> str:
    """The scope of a test, which one worker runs, in order: a notebook's cells and the files in
    `together` are one scope each (one kernel, one JupyterLab), and so is a test class (its
    tests share a class-scoped fixture: measured once, not once on every worker that runs one
    of them); every other test is a scope of its own."""
    path, _, rest = nodeid.partition("::")
    if path.endswith(".ipynb") or path in together:
        return path
    name, inside, _ = rest.partition("::")
    return f"{path}::{name}" if inside and name.startswith("Test") else nodeid


def interleaved(scopes: list[str]) -> list[str]:
    """`scopes` with each module's one-test scopes spread evenly over the queue, after the
    scopes of many tests (the notebooks', first as xdist sorts them). In file order, a module's
    tests run side by side on every worker, and most of them wait on the same kind of thing:
    36 check tests in a row that each wait 1 s on a lab server left 2 cores 70% idle for 15 s
    (vmstat), while modules that use the CPU ran on their own later."""
    many = [scope for scope in scopes if "::" not in scope]
    ones = [scope for scope in scopes if "::" in scope]
    by_module: dict[str, list[str]] = {}
    for scope in ones:
        by_module.setdefault(scope.partition("::")[0], []).append(scope)
    # The i-th of a module's n tests goes at (i + 0.5) / n of the way: a stable sort keeps
    # ties in file order.
    place = {
        scope: (index + 0.5) / len(module)
        for module in by_module.values()
        for index, scope in enumerate(module)
    }
    spread = sorted(ones, key=place.__getitem__)
    last = [scope for scope in spread if scope.startswith(LAST)]
    return many + [scope for scope in spread if not scope.startswith(LAST)] + last

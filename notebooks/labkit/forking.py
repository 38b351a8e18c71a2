"""A client made before a fork, staged in a helper process: `python -m labkit.forking ... URL`.

A forked child inherits its parent's sockets, so a client with a pooled connection, then a
fork, leaves two processes writing to and reading from ONE TCP connection. By chance, that
gives garbled answers, timeouts, or one process reading the other's answer. Here the race is
staged so that it goes the same way every time (the child's answer is slow, and the parent
reuses the connection while it is still on its way):

1. the parent sends a request, which leaves one connection in its client's pool;
2. it forks; the child sends `/delay/0.3` on the inherited connection;
3. the parent sends `/delay/0.01` on the same connection, and reads the first answer to
   arrive on it: the child's;
4. the child, which gives up after 0.05 s of waiting (ReadTimeout), exits.

The two processes take turns through pipes, not by the clock: the parent sends the moment the
child's request is out (httpcore's trace hook says when), and the child starts waiting only
once the parent's request is out too. Timed instead (the parent sending after the child's
timeout and exit), a loaded machine can delay the parent past the 0.3 s: the child's answer
is then already there, the parent's pool sees the idle connection readable, takes it for
closed by the server, and opens a new one. The only clock left is the server's 0.3 s
against one wake-up of the parent.

Scenarios: "before-fork" (the bug), "after-fork" (the fix: `os.register_at_fork` makes a new
client in the child), "spawn-pool" (a `multiprocessing` spawn pool whose initializer makes one
client per worker: nothing is inherited at all). They run in a fresh, single-threaded Python
process, not in the notebook's kernel: forking a process that runs threads (a Jupyter kernel
does) is unsafe, and Python 3.12+ warns about it. The pool's functions live here, in a module:
a spawned worker imports them by name (a function defined in a notebook cell can't be found).

The helper prints one JSON object per line; `run_fork_scenarios` runs it and reads them.
Every request it sends carries its scenario's name (`?of=before-fork`), so the lab server's
records tell the scenarios apart.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .libraries import python_module_command
from .server import RequestRecord

__all__ = ["SCENARIOS", "ForkReport", "Outcome", "run_fork_scenario", "run_fork_scenarios"]

SCENARIOS = ("before-fork", "after-fork", "spawn-pool")
CHILD_DELAY = "0.3"  # the child's answer is slow...
CHILD_PATIENCE = 0.05  # ...and the child gives up waiting for it long before it comes
PARENT_DELAY = "0.01"
HELPER_TIMEOUT = 30.0
TAG = "of"  # each request says which scenario sent it: /delay/0.3?of=before-fork


@dataclass(frozen=True)
class Outcome:
    """One request, as the process that sent it saw it."""

    who: str  # "parent", "child", "worker 1" ...
    asked: str  # the path it asked for
    got: str  # the body it got (stripped), or the exception it met: "httpx.ReadTimeout"

    @property
    def matches(self) -> bool:
        """Did it get the answer to its own question? (`/delay/0.3` is answered 'waited 0.3 s'.)"""
        return self.got == f"waited {self.asked.rsplit('/', 1)[-1]} s"


@dataclass(frozen=True)
class ForkReport:
    """What one scenario's processes saw, and what its helper printed to stderr (nothing)."""

    scenario: str
    outcomes: list[Outcome]
    stderr: str

    def requests_per_connection(self, records: Sequence[RequestRecord]) -> list[list[str]]:
        """The server's side: this scenario's paths, grouped by TCP connection, in order."""
        mine = f"?{TAG}={self.scenario}"
        by_connection: dict[int, list[str]] = {}
        for record in sorted(records, key=lambda r: r.started):
            if record.path.endswith(mine):
                path = record.path.removesuffix(mine)
                by_connection.setdefault(record.connection, []).append(path)
        return list(by_connection.values())

    def __str__(self) -> str:
        return "\n".join(f"{o.who:>8} asked {o.asked:<12} got {o.got!r}" for o in self.outcomes)


_scenario = ""  # the scenario this process is running, for the tag on its requests


def _say(who: str, asked: str, got: str) -> None:
    line = {"scenario": _scenario, "who": who, "asked": asked, "got": got}
    print(json.dumps(line), flush=True)


def _get(client: httpx.Client, path: str, **kwargs: Any) -> str:
    """The body of GET path (tagged with the scenario), or the name of the httpx error raised."""
    try:
        return client.get(f"{path}?{TAG}={_scenario}", **kwargs).text.strip()
    except httpx.HTTPError as exc:
        return f"httpx.{type(exc).__name__}"


def _on_sent(signal: int, wait_for: int | None = None) -> Any:
    """An httpcore trace hook: once the request is out, write a byte to `signal`, then (if
    given) wait for a byte on `wait_for`."""

    def trace(event: str, info: dict[str, Any]) -> None:
        if event == "http11.send_request_body.complete":
            os.write(signal, b".")
            if wait_for is not None:
                os.read(wait_for, 1)  # b"" if the parent is gone: then go on anyway

    return trace


def _parent_and_child(base: str, renew_in_child: bool) -> None:
    client = httpx.Client(base_url=base)
    if renew_in_child:  # the fix: whatever forks, the child makes a client of its own

        def renew() -> None:
            nonlocal client
            # The inherited client is left alone, never used. trust_env=False: a client reads
            # the system's proxy settings when it is made, and on macOS that call (_scproxy)
            # can crash a forked child (CPython gh-105912). Lab requests need no proxy.
            client = httpx.Client(base_url=base, trust_env=False)

        os.register_at_fork(after_in_child=renew)
    _say("parent", "/delay/0", _get(client, "/delay/0"))  # a pooled connection now
    parent_reads, child_writes = os.pipe()  # the child says "my request is out"
    child_reads, parent_writes = os.pipe()  # the parent says "mine too"
    child_asks, parent_asks = f"/delay/{CHILD_DELAY}", f"/delay/{PARENT_DELAY}"
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.close(parent_reads)
            os.close(parent_writes)
            if renew_in_child:  # a connection of its own: no turns to take
                _say("child", child_asks, _get(client, child_asks, timeout=5.0))
            else:
                patience = httpx.Timeout(5.0, read=CHILD_PATIENCE)
                trace = _on_sent(child_writes, wait_for=child_reads)
                got = _get(client, child_asks, timeout=patience, extensions={"trace": trace})
                _say("child", child_asks, got)
        finally:
            os._exit(0)  # no clean-up: whatever the child holds, the parent holds too
    os.close(child_writes)
    os.close(child_reads)
    if renew_in_child:
        os.waitpid(pid, 0)
        got = _get(client, parent_asks)
    else:
        os.read(parent_reads, 1)  # the child's request is out (b"": the child is gone)
        got = _get(client, parent_asks, extensions={"trace": _on_sent(parent_writes)})
        os.waitpid(pid, 0)  # the child has said what it got: the lines come out in order
    os.close(parent_reads)
    os.close(parent_writes)
    _say("parent", parent_asks, got)
    client.close()


_worker_client: httpx.Client | None = None


def start_worker(base: str, scenario: str) -> None:
    """A pool's initializer: runs once in each worker process, which makes its own client."""
    global _worker_client, _scenario
    _worker_client, _scenario = httpx.Client(base_url=base), scenario


def worker_fetch(path: str) -> tuple[int, str]:
    """A pool's task: GET path with this worker's own client."""
    assert _worker_client is not None, "start_worker did not run in this worker"
    return os.getpid(), _get(_worker_client, path)


def _spawn_pool(base: str) -> None:
    # Kept alive longer than httpx's 5 s default: on a loaded machine starting a spawned worker
    # (a new Python importing labkit) can take longer than that, and the count below is about
    # fork/spawn sharing sockets, not about keep-alive expiry.
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=60.0)
    client = httpx.Client(base_url=base, limits=limits)
    _say("parent", "/delay/0", _get(client, "/delay/0"))  # the parent's pooled connection...
    paths = [f"/delay/0.0{n}" for n in range(1, 5)]
    context = multiprocessing.get_context("spawn")  # ...which no spawned worker inherits
    with context.Pool(1, initializer=start_worker, initargs=(base, _scenario)) as pool:
        results = pool.map(worker_fetch, paths, chunksize=1)
    workers: dict[int, str] = {}
    for path, (pid, got) in zip(paths, results, strict=True):
        _say(workers.setdefault(pid, f"worker {len(workers) + 1}"), path, got)
    _say("parent", f"/delay/{PARENT_DELAY}", _get(client, f"/delay/{PARENT_DELAY}"))
    client.close()


def main(argv: list[str]) -> int:
    """`python -m labkit.forking SCENARIO[,SCENARIO...] URL`: run them one after another."""
    names = argv[0].split(",") if len(argv) == 2 else []
    if not names or any(name not in SCENARIOS for name in names):
        print(
            f"usage: python -m labkit.forking {{{','.join(SCENARIOS)}}}[,...] URL", file=sys.stderr
        )
        return 2
    global _scenario
    for _scenario in names:
        if _scenario == "spawn-pool":
            _spawn_pool(argv[1])
        else:
            _parent_and_child(argv[1], renew_in_child=_scenario == "after-fork")
    return 0


def run_fork_scenarios(url: str, scenarios: Sequence[str] = SCENARIOS) -> dict[str, ForkReport]:
    """Run scenarios, in order, in ONE fresh helper process against the server at `url`.

    One process for all of them: starting a Python that imports httpx is most of the cost.
    """
    unknown = [name for name in scenarios if name not in SCENARIOS]
    if unknown or not scenarios:
        raise ValueError(f"scenarios must be among {SCENARIOS}, not {list(scenarios)!r}")
    if any(name != "spawn-pool" for name in scenarios) and not hasattr(os, "fork"):
        raise RuntimeError("os.fork does not exist on this platform (Windows): nothing to fork")
    here = Path(__file__).resolve().parent.parent  # the folder that holds labkit
    path = os.pathsep.join(filter(None, [str(here), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [*python_module_command("labkit.forking"), ",".join(scenarios), url],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=HELPER_TIMEOUT,
        check=False,
        env={**os.environ, "PYTHONPATH": path},
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line]
    return {
        name: ForkReport(
            name,
            [
                Outcome(line["who"], line["asked"], line["got"])
                for line in lines
                if line["scenario"] == name
            ],
            done.stderr,
        )
        for name in scenarios
    }


def run_fork_scenario(scenario: str, url: str) -> ForkReport:
    """One scenario in a helper process of its own: `run_fork_scenarios(url, [scenario])`."""
    return run_fork_scenarios(url, [scenario])[scenario]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What clients cost the process: open file descriptors, memory, and what a pool holds.

A client that is never closed keeps its sockets (one file descriptor each) and its SSL context
(OpenSSL's copy of the CA store: RSS, invisible to tracemalloc) until the garbage collector
reclaims it. These probes count both, from the operating system's side (psutil), and run a
small subprocess under a low open-files limit to show the error a leak ends in.

    python -m labkit.resources URL LIMIT   # the subprocess: JSON lines on stdout
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import ssl
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .libraries import python_module_command

__all__ = [
    "FilesOutcome",
    "can_limit_open_files",
    "open_descriptors",
    "open_sockets",
    "pool_connections",
    "rss_mb",
    "run_out_of_files",
]


def _psutil() -> Any:
    """psutil, imported on first use (it ships no type information)."""
    return importlib.import_module("psutil")


def open_descriptors() -> int:
    """This process's open file descriptors (sockets included); handles on Windows."""
    process = _psutil().Process()
    if hasattr(process, "num_fds"):
        return int(process.num_fds())
    return int(process.num_handles())  # Windows: no descriptors, but handles grow the same way


def open_sockets() -> int:
    """This process's open TCP sockets (listening ones included): a file descriptor each.

    What a client's connections hold, counted apart from every other descriptor: a Jupyter
    kernel opens and closes files of its own at any moment (IPython's history writer keeps
    `history.sqlite-journal` open while it saves a cell), which a count of all descriptors
    would mix into the clients' figures. psutil lists sockets on Windows too.
    """
    return len(_psutil().Process().net_connections(kind="tcp"))


def rss_mb() -> float:
    """This process's resident memory, in MB: what the OS gives it, C libraries included."""
    return float(_psutil().Process().memory_info().rss) / 1e6


def pool_connections(client: httpx.Client | httpx.AsyncClient) -> list[str]:
    """The connections in a client's pool, as "HTTP/1.1 IDLE (1 request)" and the like.

    This reads httpx's and httpcore's private attributes (`_transport._pool.connections`):
    fine for a lesson, not for production code, and it may change in another release.
    """
    pool: Any = client._transport._pool  # type: ignore[union-attr]
    described = []
    for connection in pool.connections:
        # info() is "'http://127.0.0.1:PORT', HTTP/1.1, IDLE, Request Count: 1"
        parts = connection.info().split(", ")[1:]
        if len(parts) >= 3 and parts[2].startswith("Request Count: "):
            count = int(parts[2].removeprefix("Request Count: "))
            described.append(f"{parts[0]} {parts[1]} ({count} request{'s' * (count != 1)})")
        else:
            described.append(" ".join(parts) or connection.info())
    return described


def can_limit_open_files() -> bool:
    """True where a process can lower its own open-files limit (the `resource` module: POSIX)."""
    try:
        import resource  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class FilesOutcome:
    """How a loop of never-closed clients ended under a low open-files limit."""

    clients: str  # "default" (httpx.Client()), "prebuilt SSLContext" (verify=ctx), or "AsyncClient"
    made: int  # clients that had sent their request when the error came
    where: str  # "httpx.Client()", "client.get()" or "await client.get()": which call raised
    error: str  # e.g. "OSError: [Errno 24] Too many open files"
    cause: str = ""  # the bottom of its __cause__ chain: where an AsyncClient hides errno 24


def run_out_of_files(url: str, limit: int = 64) -> list[FilesOutcome]:
    """Run the leak in a subprocess whose open-files limit is `limit`; return how it ended.

    A subprocess, so the notebook's own kernel never runs short of descriptors. The lab
    server stays in the caller's process: every descriptor the child runs out of is a client's.
    """
    if not isinstance(limit, int) or isinstance(limit, bool) or not 8 <= limit <= 1024:
        raise ValueError(
            f"limit must be a whole number of descriptors from 8 to 1024, not {limit!r}"
        )
    if not can_limit_open_files():
        raise OSError("this platform has no `resource` module: it cannot lower its file limit")
    done = subprocess.run(
        [*python_module_command("labkit.resources"), url, str(limit)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"the subprocess failed: {done.stderr.strip()[-500:]}")
    return [FilesOutcome(**json.loads(line)) for line in done.stdout.splitlines()]


def _describe(exc: BaseException) -> str:
    kind = type(exc).__name__
    library = sys.modules.get(type(exc).__module__.split(".")[0])
    for name in ("httpx", "httpx2"):  # the name this process imports it by: under
        if library is not None and sys.modules.get(name) is library:  # the alias, httpx
            return f"{name}.{kind}: {exc}"
    return f"{kind}: {exc}"


async def _leak_async_until_it_fails(url: str, verify: ssl.SSLContext) -> FilesOutcome:
    """The same leak with httpx.AsyncClient: its connect error names no errno, its cause does."""
    clients: list[httpx.AsyncClient] = []
    try:
        for _ in range(5000):
            client = httpx.AsyncClient(verify=verify)
            clients.append(client)
            try:
                await client.get(url)
            except Exception as exc:  # noqa: BLE001 - reporting what the leak ends in is the point
                cause: BaseException = exc
                while (below := cause.__cause__ or cause.__context__) is not None:
                    cause = below  # down the chain, to what the operating system said
                return FilesOutcome(
                    "AsyncClient",
                    len(clients) - 1,
                    "await client.get()",
                    _describe(exc),
                    _describe(cause) if cause is not exc else "",
                )
        return FilesOutcome("AsyncClient", len(clients), "", "no error")
    finally:
        for client in clients:
            await client.aclose()


def _leak_until_it_fails(url: str, verify: ssl.SSLContext | None, label: str) -> FilesOutcome:
    """Make clients, send one request with each, never close them: until something raises."""
    clients: list[httpx.Client] = []
    try:
        for _ in range(5000):
            where = "httpx.Client()"
            try:
                client = httpx.Client() if verify is None else httpx.Client(verify=verify)
                where = "client.get()"
                clients.append(client)
                client.get(url)
            except Exception as exc:  # noqa: BLE001 - reporting what the leak ends in is the point
                return FilesOutcome(
                    label, len(clients) - (where == "client.get()"), where, _describe(exc)
                )
        return FilesOutcome(label, len(clients), "", "no error")
    finally:
        for client in clients:
            client.close()


def _main(url: str, limit: int) -> None:
    import resource

    context = ssl.create_default_context()  # built before the limit, like an app's at start-up
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    for verify, label in ((None, "default"), (context, "prebuilt SSLContext")):
        print(json.dumps(vars(_leak_until_it_fails(url, verify, label))), flush=True)
    print(json.dumps(vars(asyncio.run(_leak_async_until_it_fails(url, context)))), flush=True)


if __name__ == "__main__":
    _main(sys.argv[1], int(sys.argv[2]))

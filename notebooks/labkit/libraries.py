"""Which HTTP library is in use: httpx, or httpx2 (by name, or behind `import httpx`).

httpx2 continues httpx under a new import name and ships `httpx2.alias_httpx()`, which makes
`import httpx` (and `import httpcore`) give httpx2 (and httpcore2) for the rest of the process.
labkit imports `httpx`, so under the alias it runs on httpx2; lesson 09 imports both by name.
These helpers let labkit accept either library's clients, and start its subprocesses on the
library its own process uses, so one run never mixes the two.

What labkit reads inside the libraries is the same in httpcore 1.0.9 and httpcore2 2.17, and
`OPEN_ONCE_HTTPX=httpx2` runs labkit's tests on httpx2 to hold it so: the trace events' names
(probes, costs), a client's `_state` (states), its pool's `_transport._pool.connections` and
their `info()` (resources.pool_connections), an HTTP/2 connection's `_connection._h2_state`
(h2server.stream_limits), and the pool's repr (compare.pool_summary).
"""

from __future__ import annotations

import sys

import httpx

__all__ = ["client_types", "library_name", "python_module_command"]


def library_name() -> str:
    """ "httpx" or "httpx2": the library that `import httpx` gives this process."""
    return httpx.__name__


def client_types() -> tuple[type, ...]:
    """`Client` and `AsyncClient` of httpx and of httpx2, of whichever is imported.

    Only imported libraries are looked at: no httpx2 client can exist before httpx2 is imported.
    """
    found: list[type] = []
    for name in ("httpx", "httpx2"):
        library = sys.modules.get(name)
        if library is not None:
            found += [t for t in (library.Client, library.AsyncClient) if t not in found]
    return tuple(found)


def python_module_command(module: str) -> list[str]:
    """The command that runs `python -m module` on the library this process uses.

    Under `httpx2.alias_httpx()` the child calls it too, before anything imports httpx.
    """
    if library_name() == "httpx":
        return [sys.executable, "-m", module]
    start = (
        "import httpx2, runpy; httpx2.alias_httpx(); "
        f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
    )
    return [sys.executable, "-c", start]


if __name__ == "__main__":
    print(library_name())  # `python -m labkit.libraries`: which library a child process gets

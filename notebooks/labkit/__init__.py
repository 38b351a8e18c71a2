"""labkit: the instruments of the Open Once pack.

Lessons import what they need from here; each name lives in a small module you can read:
`server` (the lab server), `probes` (seeing connection reuse), `states` (a client's state),
`pool` and `widgets` (the pool experiments), `checks` (exercise checks), `bench`; for lessons
06-08, `apps` (real web servers), `forking` (a client across `fork()`), `resources` (descriptors,
memory) and `h2server` (an HTTP/2 lab server).
"""

from __future__ import annotations

from typing import Any

from .probes import ConnectionProbe, client_port
from .server import ConnectionRecord, LabServer, RequestRecord
from .states import client_state

__all__ = [
    "ConnectionProbe",
    "ConnectionRecord",
    "LabServer",
    "RequestRecord",
    "client_port",
    "client_state",
]


def __getattr__(name: str) -> Any:
    # Heavier tools (matplotlib, ipywidgets) load on first use, so `import labkit` stays fast.
    lazy = {
        "PoolReport": ".pool",
        "run_pool_experiment": ".pool",
        "explore_pool": ".widgets",
    }
    if name in lazy:
        import importlib

        return getattr(importlib.import_module(lazy[name], __name__), name)
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")

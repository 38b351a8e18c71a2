"""Exercise checks: `check_<exercise>(candidate) -> bool`.

Each runs your code against a real LabServer, prints one verdict (✅, or ❌ with a hint) and
returns True or False. Your own errors come back as a verdict, never as a traceback. Each
lesson's checks load on first use: `from labkit.checks import check_first_request` loads
lesson 00's module only, not lesson 06's web frameworks (FastAPI, uvicorn, Werkzeug).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # mypy's and editors' view (`x as x`: exported); __getattr__ loads on first use
    from .challenge01 import check_linkcheck as check_linkcheck
    from .challenge02 import check_two_hosts as check_two_hosts
    from .challenge03 import check_size_for_service as check_size_for_service
    from .challenge04 import check_with_options as check_with_options
    from .challenge05 import check_loop_clients as check_loop_clients
    from .lesson00 import check_first_request as check_first_request
    from .lesson01 import check_fetch_statuses as check_fetch_statuses
    from .lesson01 import check_predictions as check_predictions
    from .lesson02 import check_fetch_all as check_fetch_all
    from .lesson03 import check_choose_pool as check_choose_pool
    from .lesson04 import check_fetcher as check_fetcher
    from .lesson05 import check_async_fetcher as check_async_fetcher
    from .lesson05 import check_fetch_all_async as check_fetch_all_async
    from .lesson06 import check_lifespan_client as check_lifespan_client
    from .lesson07 import check_send_with_retry as check_send_with_retry

# Each check, and the module that holds it.
_WHERE = {
    "check_first_request": ".lesson00",
    "check_fetch_statuses": ".lesson01",
    "check_predictions": ".lesson01",
    "check_fetch_all": ".lesson02",
    "check_choose_pool": ".lesson03",
    "check_fetcher": ".lesson04",
    "check_async_fetcher": ".lesson05",
    "check_fetch_all_async": ".lesson05",
    "check_lifespan_client": ".lesson06",
    "check_send_with_retry": ".lesson07",
    "check_linkcheck": ".challenge01",
    "check_two_hosts": ".challenge02",
    "check_size_for_service": ".challenge03",
    "check_with_options": ".challenge04",
    "check_loop_clients": ".challenge05",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module 'labkit.checks' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])

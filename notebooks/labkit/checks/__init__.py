"""Exercise checks: `check_<exercise>(candidate) -> bool`.

Each runs your code against a real LabServer, prints one verdict (✅, or ❌ with a hint) and
returns True or False. Your own errors come back as a verdict, never as a traceback.
"""

from __future__ import annotations

from .challenges import (
    check_linkcheck,
    check_loop_clients,
    check_size_for_service,
    check_two_hosts,
    check_with_options,
)
from .lesson00 import check_first_request
from .lesson01 import check_fetch_statuses, check_predictions
from .lesson02 import check_fetch_all
from .lesson03 import check_choose_pool
from .lesson04 import check_fetcher
from .lesson05 import check_async_fetcher, check_fetch_all_async
from .lesson06 import check_lifespan_client
from .lesson07 import check_send_with_retry

__all__ = [
    "check_async_fetcher",
    "check_choose_pool",
    "check_fetch_all",
    "check_fetch_all_async",
    "check_fetch_statuses",
    "check_fetcher",
    "check_first_request",
    "check_lifespan_client",
    "check_linkcheck",
    "check_loop_clients",
    "check_predictions",
    "check_send_with_retry",
    "check_size_for_service",
    "check_two_hosts",
    "check_with_options",
]

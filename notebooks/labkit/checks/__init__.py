"""Exercise checks: `check_<exercise>(candidate) -> bool`.

Each runs your code against a real LabServer, prints one verdict (✅, or ❌ with a hint) and
returns True or False. Your own errors come back as a verdict, never as a traceback.
"""

from __future__ import annotations

from .lesson00 import check_first_request
from .lesson01 import check_fetch_statuses, check_predictions
from .lesson02 import check_fetch_all
from .lesson03 import check_choose_pool
from .lesson04 import check_fetcher
from .lesson05 import check_async_fetcher, check_fetch_all_async

__all__ = ["check_async_fetcher", "check_choose_pool", "check_fetch_all", "check_fetch_all_async",
           "check_fetch_statuses", "check_fetcher", "check_first_request",
           "check_predictions"]

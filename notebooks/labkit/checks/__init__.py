"""Exercise checks: `check_<exercise>(candidate) -> bool`.

Each runs your code against a real LabServer, prints one verdict (✅, or ❌ with a hint) and
returns True or False. Your own errors come back as a verdict, never as a traceback.
"""

from __future__ import annotations

from .lesson00 import check_first_request

__all__ = ["check_first_request"]

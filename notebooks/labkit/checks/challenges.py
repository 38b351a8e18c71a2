"""The challenges of lessons 01-05: one per lesson, each a case the lesson did not show.

Each `check_<challenge>(candidate) -> bool` prints one verdict like the exercise checks; its
hints come in steps (the kernel's `stepped=True`): the first ❌ of a mistake names the evidence,
the second adds where the notebook covers it. `reset_hint_steps()` forgets them all.
"""

from __future__ import annotations

from ._kernel import reset_repeats
from .challenge01 import check_linkcheck
from .challenge02 import check_two_hosts
from .challenge03 import check_size_for_service
from .challenge04 import check_with_options
from .challenge05 import check_loop_clients

reset_hint_steps = reset_repeats  # the same mistake again is a first one again

__all__ = [
    "check_linkcheck",
    "check_loop_clients",
    "check_size_for_service",
    "check_two_hosts",
    "check_with_options",
    "reset_hint_steps",
]

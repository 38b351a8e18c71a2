"""Check for 02_open_once_share_across_threads: `fetch_all`, one client shared by a thread pool.

`check_fetch_all(fetch_all)` plays the rounds of `_fan_out.ROUNDS` (lesson 05's
`check_fetch_all_async` plays the same, in asyncio).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ._fan_out import check_fan_out
from ._kernel import exercise_check
from ._twins import SYNC

FetchAll = Callable[[httpx.Client, list[str], int], list[str]]


@exercise_check
def check_fetch_all(candidate: FetchAll) -> str:
    """`fetch_all(client, urls, max_workers)`: bodies in URL order, from a pool sharing `client`."""
    return check_fan_out(SYNC, "check_fetch_all", candidate)

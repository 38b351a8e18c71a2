"""Checks for 05_async_clients: `fetch_all_async` and `AsyncFetcher`, the asyncio twins of
lesson 02's `fetch_all` and lesson 04's `Fetcher`, judged by the same tables (`_fan_out.ROUNDS`,
`_facade.SCENARIOS`) and runners, in an event loop of the check's own, in a thread of its own
(the notebook's kernel already runs a loop in its thread). Every client your coroutines meet is
made in that loop (an AsyncClient belongs to one event loop: notebook 05, section 4); some
scenarios are played again at the end, in a second loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from ._facade import check_facade
from ._fan_out import check_fan_out
from ._kernel import exercise_check
from ._twins import ASYNC

FetchAllAsync = Callable[[httpx.AsyncClient, list[str], int], Awaitable[list[str]]]


@exercise_check
def check_fetch_all_async(candidate: FetchAllAsync) -> str:
    """`fetch_all_async(client, urls, max_concurrency)`: bodies in URL order, one shared client."""
    return check_fan_out(ASYNC, "check_fetch_all_async", candidate)


@exercise_check
def check_async_fetcher(candidate: type) -> str:
    """`AsyncFetcher(client=None, **client_kwargs)`: owns or borrows an AsyncClient, rightly."""
    return check_facade(ASYNC, "check_async_fetcher", candidate)

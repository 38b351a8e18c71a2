"""Check for 04_building_a_client_facade: `Fetcher`, a class that owns or borrows an httpx.Client.

`check_fetcher(Fetcher)` plays the scenarios of `_facade.SCENARIOS` against real lab servers
(borrowed clients in three states, owned ones closed by `close()`, by `with` and by an error
inside `with`, two at once, four threads at once, HTTPS, misuse, error and success answers);
the first that goes wrong gives the verdict. Lesson 05's `check_async_fetcher` plays the same
table, in asyncio.
"""

from __future__ import annotations

from ._facade import check_facade
from ._kernel import exercise_check
from ._twins import SYNC


@exercise_check
def check_fetcher(candidate: type) -> str:
    """`Fetcher(client=None, **client_kwargs)`: owns or borrows a client; gets its life right."""
    return check_facade(SYNC, "check_fetcher", candidate)

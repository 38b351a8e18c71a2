import asyncio
import weakref
from typing import Any

import httpx


class LoopClients:
    """One httpx.AsyncClient per running event loop, made on first use and closed by aclose()."""

    def __init__(self, **client_kwargs: Any) -> None:
        self._client_kwargs = client_kwargs
        # Weak keys: the entry of a loop that is gone goes with it, once its client is closed
        # (an open client's connections hold their loop: aclose() in each loop, before it ends).
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._clients = weakref.WeakKeyDictionary()

    def current(self) -> httpx.AsyncClient:
        """The running loop's client (made on this loop's first call)."""
        loop = asyncio.get_running_loop()  # raises outside a loop: a client needs one
        client = self._clients.get(loop)
        if client is None:  # no await between the look-up and the store: no race in one loop
            client = self._clients[loop] = httpx.AsyncClient(**self._client_kwargs)
        return client

    async def aclose(self) -> None:
        """Close the running loop's client, if it has one."""
        # Inside the loop that used it: once that loop is closed, nothing can close it any more.
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

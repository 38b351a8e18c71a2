from typing import Any, Self

import httpx


class AsyncFetcher:
    """GET URLs with one httpx.AsyncClient: borrowed from the caller, or owned (made and closed)."""

    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        if client is not None and client_kwargs:
            raise TypeError(
                "AsyncFetcher got a client and client settings "
                f"({', '.join(sorted(client_kwargs))}): set them on your own client, "
                "or let AsyncFetcher make one"
            )
        self._owns_client = client is None  # decided once, here
        self._client = httpx.AsyncClient(**client_kwargs) if client is None else client
        self._closed = False

    @property
    def owns_client(self) -> bool:
        """True if this AsyncFetcher made its client (and so must close it)."""
        return self._owns_client

    async def fetch(self, url: str) -> httpx.Response:
        """GET url; raise httpx.HTTPStatusError for a 4xx or 5xx answer."""
        if self._closed:
            raise RuntimeError("this AsyncFetcher is closed: make a new one")
        response = await self._client.get(url)  # no `async with`: it opens on its first request
        response.raise_for_status()
        return response

    async def aclose(self) -> None:
        """Close the client if this AsyncFetcher owns it; a borrowed one is the caller's."""
        self._closed = True
        if self._owns_client:
            await self._client.aclose()  # closing a closed client is harmless

    async def __aenter__(self) -> Self:
        if self._closed:
            raise RuntimeError("this AsyncFetcher is closed: make a new one")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

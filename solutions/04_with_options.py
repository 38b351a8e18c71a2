import copy
from typing import Any, Self

import httpx


class Fetcher:
    """GET URLs with one httpx.Client: borrowed from the caller, or owned (made and closed here)."""

    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        if client is not None and client_kwargs:
            raise TypeError(
                f"Fetcher got a client and client settings ({', '.join(sorted(client_kwargs))}): "
                "set them on your own client, or let Fetcher make one"
            )
        self._owns_client = client is None  # decided once, here
        self._client = httpx.Client(**client_kwargs) if client is None else client
        self._closed = False
        self._options: dict[str, Any] = {}  # per-request settings: timeout=, headers=...

    @property
    def owns_client(self) -> bool:
        """True if this Fetcher made its client (and so must close it)."""
        return self._owns_client

    def with_options(self, **overrides: Any) -> Self:
        """A facade on this Fetcher's client whose requests carry `overrides`."""
        if self._closed:
            raise RuntimeError("this Fetcher is closed: make a new one")
        derived = copy.copy(self)  # the same client, so the same pool, settings and hooks
        derived._owns_client = False  # never its to close: the Fetcher that made it closes it
        derived._closed = False
        derived._options = {**self._options, **overrides}  # a facade of a facade keeps both
        return derived

    def fetch(self, url: str) -> httpx.Response:
        """GET url; raise httpx.HTTPStatusError for a 4xx or 5xx answer."""
        if self._closed:
            raise RuntimeError("this Fetcher is closed: make a new one")
        response = self._client.get(url, **self._options)  # per request: the client is shared
        response.raise_for_status()
        return response

    def close(self) -> None:
        """Close the client if this Fetcher owns it; a borrowed one is the caller's to close."""
        self._closed = True
        if self._owns_client:
            self._client.close()  # closing twice is harmless, but only the owner ever does

    def __enter__(self) -> Self:
        if self._closed:
            raise RuntimeError("this Fetcher is closed: make a new one")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

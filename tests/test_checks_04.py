"""check_fetcher (04) and check_async_fetcher (05): one table of mistakes, played in both flavours.

Each row is a kind of wrong answer: its Fetcher, its AsyncFetcher (None where the kind exists
in one flavour only), the catalogue's mistake the verdict must name, and what it must say
happened, spelled with {name}, {close}, {with}, {client}... so one row holds both flavours'
expectations (never the hint's words: rewording a hint touches the catalogue only). Mistakes
that touch no await are written once, as a mixin on each flavour's solution (`both`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Self

import httpx
import pytest

from labkit import LabServer
from labkit.checks import check_async_fetcher, check_fetcher
from labkit.server import plain_trust
from tests.verdicts import (
    assert_diagnosed,
    flavour_cases,
    in_httpx2,
    left_behind,
    load_solution,
    verdict,
)

# Wrong answers' own clients pass verify=plain_trust(): tests/verdicts.py says why.

Fetcher = load_solution("04_fetcher", "Fetcher")
AsyncFetcher = load_solution("05_async_fetcher", "AsyncFetcher")

CHECKS = {"sync": check_fetcher, "async": check_async_fetcher}
SPELLING = {
    "sync": {
        "name": "Fetcher",
        "close": "close",
        "with": "with",
        "client": "httpx.Client",
        "enter": "__enter__",
        "exit": "__exit__",
        "who": "threads",
    },
    "async": {
        "name": "AsyncFetcher",
        "close": "aclose",
        "with": "async with",
        "client": "httpx.AsyncClient",
        "enter": "__aenter__",
        "exit": "__aexit__",
        "who": "tasks",
    },
}
OWNED = "{name}(transport=..., event_hooks=...)"  # how verdicts name an owned one over HTTP


def both(mixin: type) -> tuple[type, type]:
    """A mistake that needs no await, on each flavour's solution."""
    return (
        type(mixin.__name__, (mixin, Fetcher), {}),
        type(mixin.__name__, (mixin, AsyncFetcher), {}),
    )


# --- mistakes written once ----------------------------------------------------------------------


class KeepsAClientOfItsOwn:
    def __init__(self, client: Any = None, **client_kwargs: Any) -> None:
        super().__init__(**client_kwargs)  # type: ignore[call-arg]  # the client given is ignored


class BuildsOneAnyway:
    """Makes a client even when it borrows one, and keeps it (never used)."""

    def __init__(self, client: Any = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)  # type: ignore[call-arg]
        if client is not None:
            self._spare = type(client)()


class BuildsOneAndDropsIt:
    """Makes a client whatever it is given, and drops it when it borrows: costly, unseen."""

    def __init__(self, client: Any = None, **client_kwargs: Any) -> None:
        flavour = httpx.AsyncClient if isinstance(self, AsyncFetcher) else httpx.Client
        mine = flavour(**client_kwargs)
        super().__init__(client)  # type: ignore[call-arg]
        if client is None:
            self._client, self._owns_client = mine, True


class IgnoresItsSettings:
    def __init__(self, client: Any = None, **client_kwargs: Any) -> None:
        super().__init__(client)  # type: ignore[call-arg]


class OnlyTakesAClient:
    def __init__(self, client: Any = None) -> None:  # no **client_kwargs
        super().__init__(client)  # type: ignore[call-arg]


class AcceptsClientAndSettings:
    def __init__(self, client: Any = None, **client_kwargs: Any) -> None:
        super().__init__(client, **({} if client is not None else client_kwargs))  # type: ignore[call-arg]


class WritableOwnsClient:
    owns_client = None  # replaces the property by a plain attribute

    def __init__(self, client: Any = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)  # type: ignore[call-arg]
        self.owns_client = client is None


class CachedOwnsClient:
    """functools.cached_property looks read-only, but an instance can overwrite it."""

    def __init__(self, client: Any = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)  # type: ignore[call-arg]

    @functools.cached_property
    def owns_client(self) -> bool:  # type: ignore[override]
        return self._owns_client  # type: ignore[attr-defined, no-any-return]


class ClassWideClient:
    """One client for every owned instance, made by the first and kept on the class."""

    shared: Any = None

    def __init__(self, client: Any = None, **client_kwargs: Any) -> None:
        if client is not None:
            super().__init__(client)  # type: ignore[call-arg]
            return
        if type(self).shared is None:
            flavour = httpx.AsyncClient if isinstance(self, AsyncFetcher) else httpx.Client
            type(self).shared = flavour(**client_kwargs)
        super().__init__(type(self).shared)  # type: ignore[call-arg]
        self._owns_client = True


class BuggyDel:
    """A __del__ that assumes __init__ went all the way (it doesn't when it raises TypeError)."""

    def __init__(self, client: Any = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)  # type: ignore[call-arg]

    def __del__(self) -> None:
        if self._client is None:  # type: ignore[has-type,attr-defined]  # AttributeError when __init__ raised before setting it
            pass


class Stub:
    def __init__(self, client: Any = None, **client_kwargs: Any) -> None:
        raise NotImplementedError  # your code here


# --- mistakes in each flavour's words -------------------------------------------------------


class NaiveFacade:
    """The notebook's step 1: forwards everything to the client and opens it around each fetch."""

    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        self.client = client if client is not None else httpx.Client(**client_kwargs)
        self.borrowed = client is not None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def __enter__(self) -> NaiveFacade:
        self.client.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if not self.borrowed:
            self.client.__exit__(*exc_info)
        if not self.client.is_closed:
            warnings.warn("the client is still open", stacklevel=2)

    def fetch(self, url: str) -> httpx.Response:
        with self:
            response = self.client.get(url)
        return response.raise_for_status()


class AsyncNaiveFacade:
    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        self.client = client if client is not None else httpx.AsyncClient(**client_kwargs)
        self.borrowed = client is not None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    async def __aenter__(self) -> AsyncNaiveFacade:
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if not self.borrowed:
            await self.client.__aexit__(*exc_info)

    async def fetch(self, url: str) -> httpx.Response:
        async with self:
            response = await self.client.get(url)
        return response.raise_for_status()

    async def aclose(self) -> None:
        await self.client.aclose()


class WithClientInFetch(Fetcher):  # type: ignore[valid-type,misc]
    def fetch(self, url: str) -> httpx.Response:
        with self._client:  # "open it for this request": the end of the block closes it
            return self._client.get(url).raise_for_status()


class AsyncWithClientInFetch(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        async with self._client:
            return (await self._client.get(url)).raise_for_status()


class ClosesTheBorrowedClient(Fetcher):  # type: ignore[valid-type,misc]
    def close(self) -> None:
        self._closed = True
        self._client.close()


class AsyncClosesTheBorrowedClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def aclose(self) -> None:
        self._closed = True
        await self._client.aclose()


class ClientPerFetch(Fetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)
        self._settings = client_kwargs

    def fetch(self, url: str) -> httpx.Response:
        if not self.owns_client:
            return super().fetch(url)  # type: ignore[no-any-return]
        with httpx.Client(**self._settings) as client:  # "owned" means "a fresh one each time"
            return client.get(url).raise_for_status()


class AsyncClientPerFetch(AsyncFetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)
        self._settings = client_kwargs

    async def fetch(self, url: str) -> httpx.Response:
        if not self.owns_client:
            return await super().fetch(url)  # type: ignore[no-any-return]
        async with httpx.AsyncClient(**self._settings) as client:
            return (await client.get(url)).raise_for_status()


class IgnoresTheGivenClient(Fetcher):  # type: ignore[valid-type,misc]
    def fetch(self, url: str) -> httpx.Response:
        with httpx.Client(verify=plain_trust()) as client:
            return client.get(url).raise_for_status()


class AsyncIgnoresTheGivenClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        async with httpx.AsyncClient(verify=plain_trust()) as client:
            return (await client.get(url)).raise_for_status()


class NeverClosesItsClient(Fetcher):  # type: ignore[valid-type,misc]
    def close(self) -> None:
        self._closed = True


class AsyncNeverClosesItsClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def aclose(self) -> None:
        self._closed = True


class NoStatusCheck(Fetcher):  # type: ignore[valid-type,misc]
    def fetch(self, url: str) -> httpx.Response:
        if self._closed:
            raise RuntimeError("closed")
        return self._client.get(url)  # type: ignore[no-any-return]


class AsyncNoStatusCheck(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        if self._closed:
            raise RuntimeError("closed")
        return await self._client.get(url)  # type: ignore[no-any-return]


class OnlyTwoHundred(Fetcher):  # type: ignore[valid-type,misc]
    def fetch(self, url: str) -> httpx.Response:
        response = super().fetch(url)
        if response.status_code != 200:
            raise RuntimeError(f"unexpected status {response.status_code}")
        return response  # type: ignore[no-any-return]


class AsyncOnlyTwoHundred(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        response = await super().fetch(url)
        if response.status_code != 200:
            raise RuntimeError(f"unexpected status {response.status_code}")
        return response  # type: ignore[no-any-return]


class EntersTheBorrowedClient(Fetcher):  # type: ignore[valid-type,misc]
    def __enter__(self) -> Self:
        self._client.__enter__()  # "open" the client for the block, borrowed or not
        return self


class AsyncEntersTheBorrowedClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def __aenter__(self) -> Self:
        await self._client.__aenter__()
        return self


class EntersTheOwnedClient(Fetcher):  # type: ignore[valid-type,misc]
    def __enter__(self) -> Self:
        if self.owns_client:
            self._client.__enter__()  # fine on a fresh client; fails once fetch() opened it
        return self


class AsyncEntersTheOwnedClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def __aenter__(self) -> Self:
        if self.owns_client:
            await self._client.__aenter__()
        return self


class EntersItInInit(Fetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)
        self._client.__enter__()


class EnterReturnsTheClient(Fetcher):  # type: ignore[valid-type,misc]
    def __enter__(self) -> httpx.Client:
        return self._client  # type: ignore[no-any-return]


class AsyncEnterReturnsTheClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def __aenter__(self) -> httpx.AsyncClient:
        return self._client  # type: ignore[no-any-return]


class ExitDoesNotClose(Fetcher):  # type: ignore[valid-type,misc]
    def __exit__(self, *exc_info: object) -> None:
        pass


class AsyncExitDoesNotClose(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def __aexit__(self, *exc_info: object) -> None:
        pass


class ExitSwallowsErrors(Fetcher):  # type: ignore[valid-type,misc]
    def __exit__(self, *exc_info: object) -> bool:  # type: ignore[override]
        self.close()
        return True  # "handled": the error inside `with` vanishes


class AsyncExitSwallowsErrors(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def __aexit__(self, *exc_info: object) -> bool:  # type: ignore[override]
        await self.aclose()
        return True


class ClosesOnlyOnSuccess(Fetcher):  # type: ignore[valid-type,misc]
    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()


class AsyncClosesOnlyOnSuccess(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def __aexit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            await self.aclose()


class CloseTwiceFails(Fetcher):  # type: ignore[valid-type,misc]
    def close(self) -> None:
        if self._closed:
            raise RuntimeError("already closed")
        super().close()


class AsyncCloseTwiceFails(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def aclose(self) -> None:
        if self._closed:
            raise RuntimeError("already closed")
        await super().aclose()


class WorksAfterClose(Fetcher):  # type: ignore[valid-type,misc]
    def fetch(self, url: str) -> httpx.Response:
        return self._client.get(url).raise_for_status()


class AsyncWorksAfterClose(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        return (await self._client.get(url)).raise_for_status()


class WarnsOnExit(Fetcher):  # type: ignore[valid-type,misc]
    def __exit__(self, *exc_info: object) -> None:
        if not self.owns_client:
            warnings.warn("the borrowed client is still open", stacklevel=2)
        super().__exit__(*exc_info)


class AsyncWarnsOnExit(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def __aexit__(self, *exc_info: object) -> None:
        if not self.owns_client:
            warnings.warn("the borrowed client is still open", stacklevel=2)
        await super().__aexit__(*exc_info)


class AlwaysWarnsInDel:
    """A ResourceWarning from __del__ whether or not the facade was closed: noise (rule 7)."""

    def __del__(self) -> None:
        warnings.warn(f"{type(self).__name__} was never closed", ResourceWarning, stacklevel=2)


class ClosesEachConnection(Fetcher):  # type: ignore[valid-type,misc]
    """Every request on the right client, but each asks the server to hang up after it."""

    def fetch(self, url: str) -> httpx.Response:
        if self._closed:
            raise RuntimeError("closed")
        return self._client.get(url, headers={"Connection": "close"}).raise_for_status()


class AsyncClosesEachConnection(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        if self._closed:
            raise RuntimeError("closed")
        return (await self._client.get(url, headers={"Connection": "close"})).raise_for_status()


class FetchesTwice(Fetcher):  # type: ignore[valid-type,misc]
    def fetch(self, url: str) -> httpx.Response:
        super().fetch(url)  # "warm up" first
        return super().fetch(url)  # type: ignore[no-any-return]


class AsyncFetchesTwice(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        await super().fetch(url)
        return await super().fetch(url)  # type: ignore[no-any-return]


class LazyWithoutLock(Fetcher):  # type: ignore[valid-type,misc]
    """Makes its owned client on first use; two threads can both find none and make one."""

    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        if client is not None and client_kwargs:
            raise TypeError("both")
        self._owns_client, self._settings, self._closed = client is None, client_kwargs, False
        self._client = client  # type: ignore[assignment]

    def fetch(self, url: str) -> httpx.Response:
        if self._client is None:
            self._client = httpx.Client(**self._settings)
        return super().fetch(url)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._closed = True
        if self._owns_client and self._client is not None:
            self._client.close()


class AsyncLazy(AsyncFetcher):  # type: ignore[valid-type,misc]
    """On one event loop, check-and-make with no await between them needs no lock."""

    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        if client is not None and client_kwargs:
            raise TypeError("both")
        self._owns_client, self._settings, self._closed = client is None, client_kwargs, False
        self._client = client  # type: ignore[assignment]

    async def fetch(self, url: str) -> httpx.Response:
        if self._client is None:
            self._client = httpx.AsyncClient(**self._settings)
        return await super().fetch(url)  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        self._closed = True
        if self._owns_client and self._client is not None:
            await self._client.aclose()


class AsyncLazyAcrossAnAwait(AsyncLazy):
    """Checks for its client, awaits, then makes one: tasks that meet at that await all make one."""

    async def fetch(self, url: str) -> httpx.Response:
        if self._client is None:
            await asyncio.sleep(0)  # any await here lets the other tasks check too
            self._client = httpx.AsyncClient(**self._settings)
        return await super().fetch(url)


class SyncMethods:
    """Notebook 04's Fetcher with AsyncClient inside, but plain `def` methods."""

    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        self._client = client if client is not None else httpx.AsyncClient(**client_kwargs)

    def fetch(self, url: str) -> Any:
        return self._client.get(url)

    def aclose(self) -> Any:
        return self._client.aclose()

    async def __aenter__(self) -> SyncMethods:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class AsyncDefMethods(Fetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:  # type: ignore[override]
        return super().fetch(url)  # type: ignore[no-any-return]


class AsyncInit(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def __init__(self, client: Any = None, **client_kwargs: Any) -> None:  # type: ignore[misc]
        super().__init__(client, **client_kwargs)


class FetchYields(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> Any:  # type: ignore[override]
        yield await super().fetch(url)


class ForgetsAwaitInFetch(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        response = self._client.get(url)  # a coroutine, not a response
        return response.raise_for_status()  # type: ignore[attr-defined, no-any-return]


class ForgetsAwaitInATaskGroup(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        async def get() -> httpx.Response:
            return self._client.get(url).raise_for_status()  # type: ignore[attr-defined, no-any-return]

        async with asyncio.TaskGroup() as group:
            task = group.create_task(get())
        return task.result()


class NoContextManager:
    """Everything but __enter__ and __exit__: `with Fetcher(...)` was never written."""

    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        self._fetcher = Fetcher(client, **client_kwargs)

    def fetch(self, url: str) -> httpx.Response:
        return self._fetcher.fetch(url)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._fetcher.close()


class AsyncNoContextManager:
    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        self._fetcher = AsyncFetcher(client, **client_kwargs)

    async def fetch(self, url: str) -> httpx.Response:
        return await self._fetcher.fetch(url)  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        await self._fetcher.aclose()


class AsyncStub:
    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        raise NotImplementedError  # your code here

    async def fetch(self, url: str) -> httpx.Response:
        raise NotImplementedError  # your code here

    async def aclose(self) -> None:
        raise NotImplementedError  # your code here

    async def __aenter__(self) -> AsyncStub:
        raise NotImplementedError  # your code here

    async def __aexit__(self, *exc_info: object) -> None:
        raise NotImplementedError  # your code here


class EnterForgetsReturn(Fetcher):  # type: ignore[valid-type,misc]
    def __enter__(self) -> None:  # type: ignore[override]
        pass  # no `return self`: `with Fetcher(...) as f` makes f None


class ReturnsTheText(Fetcher):  # type: ignore[valid-type,misc]
    def fetch(self, url: str) -> str:  # type: ignore[override]
        return super().fetch(url).text  # type: ignore[no-any-return]


class AexitForgetsAwait(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def __aexit__(self, *exc_info: object) -> None:
        self.aclose()  # a coroutine, never awaited: nothing is closed


class ReturnsAStream(Fetcher):  # type: ignore[valid-type,misc]
    def fetch(self, url: str) -> httpx.Response:
        request = self._client.build_request("GET", url)
        return self._client.send(request, stream=True).raise_for_status()  # never read


class AsyncReturnsAStream(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        request = self._client.build_request("GET", url)
        return (await self._client.send(request, stream=True)).raise_for_status()


class ExitWithoutArguments(Fetcher):  # type: ignore[valid-type,misc]
    def __exit__(self) -> None:  # type: ignore[override]
        self.close()


@dataclass(frozen=True)
class Mistake:
    sync: type | None
    async_: type | None
    mistake: str  # the catalogue's id the verdict must name
    evidence: tuple[str, ...] = ()  # what it must say happened, in the flavour's spelling


MISTAKES: dict[str, Mistake] = {
    "naive facade": Mistake(
        NaiveFacade, AsyncNaiveFacade, "04.opened-client", ("fetch() (call 2 of 3, borrowed",)
    ),
    "`with client:` in fetch": Mistake(
        WithClientInFetch,
        AsyncWithClientInFetch,
        "04.opened-client",
        ("fetch() (call 2 of 3, borrowed client)",),
    ),
    "closes the borrowed client": Mistake(
        ClosesTheBorrowedClient,
        AsyncClosesTheBorrowedClient,
        "04.closed-borrowed",
        ("{close}() closed the client",),
    ),
    "a client per fetch": Mistake(
        ClientPerFetch, AsyncClientPerFetch, "04.client-per-fetch", ("made 4 {client}s for 3",)
    ),
    "ignores the given client": Mistake(
        IgnoresTheGivenClient,
        AsyncIgnoresTheGivenClient,
        "04.ignores-given",
        ("sent 0 of its 3 requests", "made 3 {client}s"),
    ),
    "keeps a client of its own": Mistake(
        *both(KeepsAClientOfItsOwn), "04.ignores-given", ("sent 0 of its 3", "made 1 {client}")
    ),
    "builds a client when borrowing": Mistake(
        *both(BuildsOneAnyway), "04.builds-when-borrowing", ("made 1 {client}",)
    ),
    "builds one and drops it": Mistake(
        *both(BuildsOneAndDropsIt), "04.builds-when-borrowing", ("made 1 {client}",)
    ),
    "never closes its client": Mistake(
        NeverClosesItsClient, AsyncNeverClosesItsClient, "04.close-not-closing", ("{close}()",)
    ),
    "no status check": Mistake(
        NoStatusCheck, AsyncNoStatusCheck, "04.status-not-raised", ("a 404 answer",)
    ),
    "refuses every status but 200": Mistake(
        OnlyTwoHundred, AsyncOnlyTwoHundred, "04.refuses-success", ("a 201 answer",)
    ),
    "enters the borrowed client": Mistake(
        EntersTheBorrowedClient,
        AsyncEntersTheBorrowedClient,
        "04.opened-client",
        ("`{with} {name}(client) as f:` inside the caller's `{with} client:`",),
    ),
    "enters the owned client in __enter__": Mistake(
        EntersTheOwnedClient,
        AsyncEntersTheOwnedClient,
        "04.opened-client",
        ("`{with} f:` (f, which had fetched already)",),  # the scenario that fetches first
    ),
    "enters it in __init__": Mistake(
        EntersItInInit, None, "04.opened-client", ("{name}(client) inside the caller's",)
    ),
    "__enter__ returns the client": Mistake(
        EnterReturnsTheClient, AsyncEnterReturnsTheClient, "04.enter-returns", ("the {client}",)
    ),
    "ignores its settings": Mistake(
        *both(IgnoresItsSettings), "04.settings-ignored", ("transport carried 0 of 3",)
    ),
    "__exit__ does not close": Mistake(
        ExitDoesNotClose,
        AsyncExitDoesNotClose,
        "04.exit-not-closing",
        (f"leaving `{{with}} {OWNED}",),
    ),
    "__exit__ swallows the error": Mistake(
        ExitSwallowsErrors, AsyncExitSwallowsErrors, "04.exit-loses-error", ("returned True",)
    ),
    "closes only on success": Mistake(
        ClosesOnlyOnSuccess, AsyncClosesOnlyOnSuccess, "04.error-not-closing", ("by an error",)
    ),
    "close twice fails": Mistake(
        CloseTwiceFails, AsyncCloseTwiceFails, "04.close-twice", ("{close}() a second time",)
    ),
    "works after close": Mistake(
        WorksAfterClose,
        AsyncWorksAfterClose,
        "04.works-after-close",
        ("sent on the caller's client",),
    ),
    "accepts client and settings": Mistake(
        *both(AcceptsClientAndSettings), "04.accepts-both", ("{name}(client, timeout=1.0)",)
    ),
    "owns_client can be set": Mistake(
        *both(WritableOwnsClient), "04.owns-client", ("`fetcher.owns_client = False`",)
    ),
    "owns_client as cached_property": Mistake(
        *both(CachedOwnsClient), "04.owns-client", ("setting owns_client",)
    ),
    "one client for the whole class": Mistake(
        *both(ClassWideClient), "04.shared-client-error", ("(call 1 of 1, owned client)",)
    ),
    "a lazy client without a lock": Mistake(
        LazyWithoutLock, AsyncLazyAcrossAnAwait, "04.lazy-without-lock", ("{who}' first fetches",)
    ),
    "no __enter__/__exit__": Mistake(
        NoContextManager, AsyncNoContextManager, "04.no-context-manager", ("no {enter}",)
    ),
    "only takes a client": Mistake(  # names the settings it got
        *both(OnlyTakesAClient), "04.settings-error", ("keyword argument 'transport'",)
    ),
    "warns on exit": Mistake(
        WarnsOnExit, AsyncWarnsOnExit, "04.noise", ("UserWarning: the borrowed client",)
    ),
    "ResourceWarning in __del__ even when closed": Mistake(
        *both(AlwaysWarnsInDel), "04.warns-on-correct-use", ("AlwaysWarnsInDel was never closed",)
    ),
    "Connection: close on every request": Mistake(
        ClosesEachConnection,
        AsyncClosesEachConnection,
        "04.connection-close",
        ("opened 3 TCP connections",),
    ),
    "fetches each url twice": Mistake(
        FetchesTwice, AsyncFetchesTwice, "04.extra-requests", ("sent 6 requests",)
    ),
    "a wrong __del__": Mistake(
        *both(BuggyDel), "kernel.ignored-error", ("BuggyDel.__del__: AttributeError",)
    ),
    "async def in a Fetcher": Mistake(
        AsyncDefMethods, None, "kernel.wrong-kind", ("Fetcher.fetch is an async def",)
    ),
    "plain def methods": Mistake(
        None, SyncMethods, "kernel.wrong-kind", ("AsyncFetcher.fetch is a plain def",)
    ),
    "async def __init__": Mistake(None, AsyncInit, "05.async-init"),
    "fetch is an async generator": Mistake(
        None, FetchYields, "kernel.wrong-kind", ("an async generator",)
    ),
    "forgets await in fetch": Mistake(
        None, ForgetsAwaitInFetch, "05.missing-await", ("'raise_for_status'",)
    ),
    "forgets await inside a TaskGroup": Mistake(
        None, ForgetsAwaitInATaskGroup, "05.missing-await", ("(inside it: AttributeError",)
    ),
    "__enter__ forgets to return self": Mistake(
        EnterForgetsReturn, None, "04.enter-returns", ("made f None",)
    ),
    "fetch returns the text": Mistake(
        ReturnsTheText, None, "kernel.not-a-response", ("returned a str",)
    ),
    "__aexit__ forgets to await aclose()": Mistake(
        None, AexitForgetsAwait, "04.exit-not-closing", ("leaving `async with",)
    ),
    "returns a stream never read": Mistake(
        ReturnsAStream, AsyncReturnsAStream, "kernel.unread-body", ("(call 1 of 3, borrowed",)
    ),
    "__exit__ without its arguments": Mistake(
        ExitWithoutArguments, None, "04.exit-arguments", ("4 were given",)
    ),
    "stub": Mistake(*both(Stub), "kernel.not-yet", ("{name}(client)",)),
    "stub with async methods": Mistake(
        None, AsyncStub, "kernel.not-yet", ("AsyncFetcher(client)",)
    ),
}
CASES = flavour_cases({name: (m.sync, m.async_) for name, m in MISTAKES.items()})


@pytest.mark.parametrize(("flavour", "name"), CASES)
def test_each_wrong_answer_is_rejected_with_a_verdict_naming_its_mistake(
    flavour: str, name: str, capfd: pytest.CaptureFixture[str]
) -> None:
    mistake = MISTAKES[name]
    answer = mistake.sync if flavour == "sync" else mistake.async_
    evidence = [words.format(**SPELLING[flavour]) for words in mistake.evidence]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # what a wrong answer leaks, it leaks
        assert_diagnosed(CHECKS[flavour], answer, mistake.mistake, capfd, evidence)


# --- right answers, in many styles --------------------------------------------------------------


class ExitStackFetcher(contextlib.ExitStack):
    """Owns its client through an ExitStack: entered in __init__, closed by the stack."""

    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        super().__init__()
        if client is not None and client_kwargs:
            raise TypeError("a client or settings, not both")
        self._owns = client is None
        self._client = client or self.enter_context(httpx.Client(**client_kwargs))
        self._done = False

    @property
    def owns_client(self) -> bool:
        return self._owns

    def fetch(self, url: str) -> httpx.Response:
        if self._done:
            raise RuntimeError("closed")
        return self._client.get(url).raise_for_status()

    def close(self) -> None:
        self._done = True
        super().close()


class AsyncExitStackFetcher:
    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        if client is not None and client_kwargs:
            raise TypeError("a client or settings, not both")
        self._owns = client is None
        self._client = httpx.AsyncClient(**client_kwargs) if client is None else client
        self._stack = contextlib.AsyncExitStack()
        if self._owns:
            self._stack.push_async_callback(self._client.aclose)
        self._done = False

    @property
    def owns_client(self) -> bool:
        return self._owns

    async def fetch(self, url: str) -> httpx.Response:
        if self._done:
            raise RuntimeError("closed")
        return (await self._client.get(url)).raise_for_status()

    async def aclose(self) -> None:
        self._done = True
        await self._stack.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> bool:
        await self.aclose()
        return False


class FinalizeFetcher(Fetcher):  # type: ignore[valid-type,misc]
    """Closes an owned client with weakref.finalize: at close(), or when forgotten."""

    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)
        self._finalizer = weakref.finalize(self, self._client.close) if self.owns_client else None

    def close(self) -> None:
        self._closed = True
        if self._finalizer is not None:
            self._finalizer()


class SlotsFetcher:
    __slots__ = ("_client", "_closed", "_owns")

    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        if client is not None and client_kwargs:
            raise TypeError("both")
        self._owns, self._closed = client is None, False
        self._client = client if client is not None else httpx.Client(**client_kwargs)

    owns_client = property(lambda self: self._owns)

    def fetch(self, url: str) -> httpx.Response:
        if self._closed:
            raise RuntimeError("closed")
        return self._client.get(url).raise_for_status()

    def close(self) -> None:
        self._closed = True
        if self._owns:
            self._client.close()

    def __enter__(self) -> SlotsFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncSlotsFetcher:
    __slots__ = ("_client", "_closed", "_owns")

    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        if client is not None and client_kwargs:
            raise TypeError("both")
        self._owns, self._closed = client is None, False
        self._client = client if client is not None else httpx.AsyncClient(**client_kwargs)

    owns_client = property(lambda self: self._owns)

    async def fetch(self, url: str) -> httpx.Response:
        if self._closed:
            raise RuntimeError("closed")
        return (await self._client.get(url)).raise_for_status()

    async def aclose(self) -> None:
        self._closed = True
        if self._owns:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncSlotsFetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def logged(method: Callable[..., Any]) -> Callable[..., Any]:
    """A plain decorator: around an `async def` it returns the coroutine, still awaitable."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    return wrapper


class DecoratedFetcher(Fetcher):  # type: ignore[valid-type,misc]
    fetch = logged(Fetcher.fetch)
    close = logged(Fetcher.close)


class AsyncDecoratedFetcher(AsyncFetcher):  # type: ignore[valid-type,misc]
    fetch = logged(AsyncFetcher.fetch)
    aclose = logged(AsyncFetcher.aclose)


class LazyWithALock(Fetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        if client is not None and client_kwargs:
            raise TypeError("both")
        self._owns_client, self._settings, self._closed = client is None, client_kwargs, False
        self._client = client  # type: ignore[assignment]
        self._lock = threading.Lock()

    def fetch(self, url: str) -> httpx.Response:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(**self._settings)
        return super().fetch(url)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._closed = True
        with self._lock:
            if self._owns_client and self._client is not None:
                self._client.close()


@dataclass(init=False, eq=False)
class DataclassFetcher(contextlib.AbstractContextManager["DataclassFetcher"]):
    _client: httpx.Client
    _owns: bool
    _closed: bool

    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        if client is not None and client_kwargs:
            raise TypeError("both")
        self._owns, self._closed = client is None, False
        self._client = client if client is not None else httpx.Client(**client_kwargs)

    @property
    def owns_client(self) -> bool:
        return self._owns

    def fetch(self, url: str) -> httpx.Response:
        if self._closed:
            raise RuntimeError("closed")
        response = self._client.request("GET", url)
        if response.is_error:
            response.raise_for_status()
        return response

    def close(self) -> None:
        self._closed = True
        if self._owns:
            self._client.close()

    def __exit__(self, *exc_info: object) -> Literal[False]:
        self.close()
        return False


class ReRaisingExit(Fetcher):  # type: ignore[valid-type,misc]
    """Closes, then raises the block's error itself: the caller still sees it."""

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self.close()
        if exc is not None:
            raise exc


class FetcherClosedError(RuntimeError):
    pass


class OwnErrorAfterClose(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        if self._closed:
            raise FetcherClosedError("closed: make a new AsyncFetcher")
        return await super().fetch(url)  # type: ignore[no-any-return]


class SafeDelWarns(Fetcher):  # type: ignore[valid-type,misc]
    """A ResourceWarning when an owned Fetcher is dropped unclosed; safe if __init__ failed."""

    def __del__(self) -> None:
        if getattr(self, "_owns_client", False) and not getattr(self, "_closed", True):
            warnings.warn("a Fetcher was never closed", ResourceWarning, stacklevel=2)


class AsyncDelClosesOwned(AsyncFetcher):  # type: ignore[valid-type,misc]
    """__del__ schedules aclose() of an owned client left unclosed; a borrowed one is the
    caller's, left alone (05af_W4 without its mistake)."""

    def __del__(self) -> None:
        if getattr(self, "_owns_client", False) and not getattr(self, "_closed", True):
            with contextlib.suppress(RuntimeError):  # no loop running: nothing to schedule on
                asyncio.get_running_loop().create_task(self._client.aclose())


class AsyncLockLazy(AsyncLazy):
    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)
        self._lock = asyncio.Lock()

    async def fetch(self, url: str) -> httpx.Response:
        async with self._lock:
            if self._client is None:
                self._client = httpx.AsyncClient(**self._settings)
        return await super().fetch(url)  # type: ignore[no-any-return]


class AsyncOnAbstractBase(contextlib.AbstractAsyncContextManager["AsyncOnAbstractBase"]):
    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        if client and client_kwargs:
            raise TypeError("both")
        self._fetcher = AsyncFetcher(client, **client_kwargs)

    @property
    def owns_client(self) -> bool:
        return self._fetcher.owns_client  # type: ignore[no-any-return]

    async def fetch(self, url: str) -> httpx.Response:
        return await self._fetcher.fetch(url)  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        await self._fetcher.aclose()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


RIGHT: dict[str, tuple[type | None, type | None]] = {
    "the solution": (Fetcher, AsyncFetcher),
    "ExitStack / AsyncExitStack": (ExitStackFetcher, AsyncExitStackFetcher),
    "weakref.finalize": (FinalizeFetcher, None),
    "__slots__": (SlotsFetcher, AsyncSlotsFetcher),
    "sync decorators on the methods": (DecoratedFetcher, AsyncDecoratedFetcher),
    "a lazy client (with a lock for threads)": (LazyWithALock, AsyncLazy),
    "a dataclass on AbstractContextManager": (DataclassFetcher, None),
    "__exit__ that re-raises": (ReRaisingExit, None),
    "its own RuntimeError subclass after close": (None, OwnErrorAfterClose),
    "a ResourceWarning when never closed": (SafeDelWarns, None),
    "__del__ that schedules aclose() of an owned client only": (None, AsyncDelClosesOwned),
    "a lazy client under an asyncio.Lock": (None, AsyncLockLazy),
    "on AbstractAsyncContextManager, wrapping another": (None, AsyncOnAbstractBase),
}
RIGHT_CASES = flavour_cases(RIGHT)


@pytest.mark.parametrize(("flavour", "name"), RIGHT_CASES)
def test_each_right_answer_passes(
    flavour: str, name: str, capfd: pytest.CaptureFixture[str]
) -> None:
    answer = RIGHT[name][0 if flavour == "sync" else 1]
    passed, out = verdict(CHECKS[flavour], answer, capfd)
    assert passed, out
    assert out.startswith(f"✅ {SPELLING[flavour]['name']} works")


def test_the_solution_reuses_one_connection_and_leaves_borrowed_open(server: LabServer) -> None:
    """What the check relies on, seen from the server's own count."""
    with httpx.Client(**server.client_kwargs()) as client:
        with Fetcher(client) as fetcher:
            for _ in range(3):
                fetcher.fetch(server.url + "/")
        assert not client.is_closed and not fetcher.owns_client
    with Fetcher(**server.client_kwargs()) as fetcher:
        for _ in range(3):
            fetcher.fetch(server.url + "/")
    assert fetcher.owns_client and server.connections_opened == 2


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_wrong_answer_leaves_no_socket_for_later(
    flavour: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Fetcher that ignores the client it is given fails with its own client open."""
    answer = both(KeepsAClientOfItsOwn)[flavour == "async"]

    def run() -> None:
        assert_diagnosed(CHECKS[flavour], answer, "04.ignores-given", capfd, ["made 1 "])

    assert left_behind(run, monkeypatch) == []


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_an_instance_instead_of_the_class_gets_a_hint(
    flavour: str, capfd: pytest.CaptureFixture[str]
) -> None:
    cls = Fetcher if flavour == "sync" else AsyncFetcher
    fetcher = cls(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    name = SPELLING[flavour]["name"]
    check = "check_fetcher" if flavour == "sync" else "check_async_fetcher"
    assert_diagnosed(CHECKS[flavour], fetcher, "kernel.needs-class", capfd, [check, name])


def test_after_a_missing_await_the_fixed_answer_passes(capfd: pytest.CaptureFixture[str]) -> None:
    """The coroutine a wrong answer never awaited is collected in its own check, not the next:
    the fixed answer, checked right after, is not blamed for its RuntimeWarning."""
    assert verdict(check_async_fetcher, ForgetsAwaitInFetch, capfd)[0] is False
    passed, out = verdict(check_async_fetcher, AsyncFetcher, capfd)
    assert passed, out


def test_httpx_is_left_as_it_was_found(capfd: pytest.CaptureFixture[str]) -> None:
    """The check counts client builds by wrapping httpx's __init__s for its own run only."""
    before = (httpx.Client.__init__, httpx.AsyncClient.__init__)
    verdict(check_fetcher, LazyWithoutLock, capfd)
    verdict(check_async_fetcher, AsyncFetcher, capfd)
    assert (httpx.Client.__init__, httpx.AsyncClient.__init__) == before


# --- kinds accepted or misdiagnosed before the catalogue (issue 19): each names its mistake ---


class DelClosesTheBorrowedClient(Fetcher):  # type: ignore[valid-type,misc]
    """Closes whatever client it has when it is garbage collected, borrowed or not."""

    def __del__(self) -> None:
        self._client.close()


class AsyncDelClosesTheBorrowedClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    """The same, for asyncio: a borrowed AsyncClient, closed from __del__ (its transport)."""

    def __del__(self) -> None:
        self._client._transport._pool._connections.clear()  # what a sync close can reach
        self._client._state = type(self._client._state).CLOSED


class AsyncDelSchedulesAclose(AsyncFetcher):  # type: ignore[valid-type,misc]
    """__del__ schedules aclose() on whatever client it has, borrowed or not: a task that
    closes the caller's client once the loop runs it (held-out answer 05af_W4)."""

    def __del__(self) -> None:
        with contextlib.suppress(RuntimeError, AttributeError):  # no loop; __init__ failed
            asyncio.get_running_loop().create_task(self._client.aclose())


class AsyncWarnsLikePython(AsyncFetcher):  # type: ignore[valid-type,misc]
    """A __del__ that warns in Python's own words, on every instance, closed or not."""

    def __del__(self) -> None:
        warnings.warn(f"unclosed <{type(self).__name__}>", ResourceWarning, stacklevel=2)


class AcloseCallsClose(AsyncFetcher):  # type: ignore[valid-type,misc]
    """aclose() calls the sync name: an AsyncClient has no close()."""

    async def aclose(self) -> None:
        self._closed = True
        if self._owns_client:
            self._client.close()


class AcloseWithoutAwait(AsyncFetcher):  # type: ignore[valid-type,misc]
    """aclose() calls the client's aclose() without awaiting it: nothing closes."""

    async def aclose(self) -> None:
        self._closed = True
        if self._owns_client:
            self._client.aclose()  # noqa: RUF006 - the mistake under test


class ExitRaisesWhenOwned(Fetcher):  # type: ignore[valid-type,misc]
    """Leaving `with` raises its own error, for an owned client only."""

    def __exit__(self, *exc_info: object) -> None:
        self.close()
        if self._owns_client:
            raise RuntimeError("exit failed")


class ExitRaisesWhenBorrowed(Fetcher):  # type: ignore[valid-type,misc]
    """Leaving `with` raises its own error, for a borrowed client only."""

    def __exit__(self, *exc_info: object) -> None:
        self.close()
        if not self._owns_client:
            raise RuntimeError("exit failed")


class CloseRaisesWhenOwned(Fetcher):  # type: ignore[valid-type,misc]
    def close(self) -> None:
        super().close()
        if self._owns_client:
            raise RuntimeError("close failed")


class NoCloseMethod:
    """Everything but close(): nothing for a caller to end it with, outside `with`."""

    def __init__(self, client: Any = None, **client_kwargs: Any) -> None:
        self._client = client if client is not None else httpx.Client(**client_kwargs)

    def fetch(self, url: str) -> httpx.Response:
        return self._client.get(url).raise_for_status()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


class OwnsClientRaises(Fetcher):  # type: ignore[valid-type,misc]
    @property
    def owns_client(self) -> bool:  # type: ignore[override]
        raise RuntimeError("not decided yet")


class SharedWhileUsed(Fetcher):  # type: ignore[valid-type,misc]
    """Owned instances share one client, closed by the last of them: its settings are the first
    instance's, whatever the others were given."""

    shared: Any = None
    users = 0

    def __init__(self, client: Any = None, **client_kwargs: Any) -> None:
        cls = type(self)
        if client is None and cls.shared is None:
            cls.shared = httpx.Client(**client_kwargs)
        super().__init__(client if client is not None else cls.shared)
        self._owns_client = client is None
        cls.users += self._owns_client

    def close(self) -> None:
        cls = type(self)
        if self._owns_client and not self._closed:  # type: ignore[has-type]
            cls.users -= 1
            if cls.users == 0:
                cls.shared.close()
                cls.shared = None
        self._closed = True


class DropsItsConnections(Fetcher):  # type: ignore[valid-type,misc]
    """Closes the pool's connections after every fetch: no header asks for it, none is reused."""

    def fetch(self, url: str) -> httpx.Response:
        response = super().fetch(url)
        self._client._transport.close()
        return response  # type: ignore[no-any-return]


DIAGNOSED: dict[str, tuple[str, Any, str, list[str]]] = {
    # name: (flavour, answer, the mistake it must get, evidence the verdict must say)
    "__del__ closes a borrowed client": (
        "sync",
        DelClosesTheBorrowedClient,
        "04.del-closes-borrowed",
        [],
    ),
    "__del__ closes a borrowed AsyncClient": (
        "async",
        AsyncDelClosesTheBorrowedClient,
        "04.del-closes-borrowed",
        [],
    ),
    "__del__ schedules aclose() of a borrowed AsyncClient": (
        "async",
        AsyncDelSchedulesAclose,
        "04.del-closes-borrowed",
        [],
    ),
    "__del__ warns on correct use, in Python's words": (
        "async",
        AsyncWarnsLikePython,
        "04.warns-on-correct-use",
        ["unclosed <AsyncWarnsLikePython>"],
    ),
    "aclose() calls close()": ("async", AcloseCallsClose, "05.aclose-calls-close", []),
    "__exit__ raises, owned": ("sync", ExitRaisesWhenOwned, "04.exit-error", ["exit failed"]),
    "__exit__ raises, borrowed": (
        "sync",
        ExitRaisesWhenBorrowed,
        "04.borrowed-error",
        ["inside the caller's `with client:`"],
    ),
    "close() raises, owned": ("sync", CloseRaisesWhenOwned, "04.owned-error", ["close failed"]),
    "no close() method": ("sync", NoCloseMethod, "04.no-method", ["no close()"]),
    "connections closed after each fetch": (
        "sync",
        DropsItsConnections,
        "04.churn",
        ["3 fetches (borrowed client) opened 3 TCP connections"],
    ),
    "owns_client raises": ("sync", OwnsClientRaises, "04.owns-client-error", ["not decided"]),
    "one client shared while used": (
        "sync",
        SharedWhileUsed,
        "04.shared-client",
        ["two Fetchers made 1 httpx.Client"],
    ),
    "aclose() without await": (
        "async",
        AcloseWithoutAwait,
        "05.aclose-not-awaited",
        ["AsyncClient.aclose"],
    ),
}


def test_requests_on_a_client_made_before_the_check_are_named(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """No client built while the check ran, yet the given one carried nothing: another one did."""
    with httpx.Client(verify=plain_trust()) as elsewhere:

        class UsesAnotherClient(Fetcher):  # type: ignore[valid-type,misc]
            def fetch(self, url: str) -> httpx.Response:
                return elsewhere.get(url).raise_for_status()

        evidence = ["sent 0 of its 3 requests", "the server saw"]
        assert_diagnosed(check_fetcher, UsesAnotherClient, "04.ignores-given", capfd, evidence)


@pytest.mark.parametrize("name", DIAGNOSED)
def test_each_kind_once_misdiagnosed_is_named(name: str, capfd: pytest.CaptureFixture[str]) -> None:
    flavour, answer, mistake, evidence = DIAGNOSED[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # what a wrong answer leaks, it leaks
        assert_diagnosed(CHECKS[flavour], answer, mistake, capfd, evidence)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_the_solution_passes_in_httpx2(flavour: str, capfd: pytest.CaptureFixture[str]) -> None:
    stem, name = (
        ("04_fetcher", "Fetcher") if flavour == "sync" else ("05_async_fetcher", "AsyncFetcher")
    )
    solution = load_solution(stem, name, library="httpx2")
    passed, out = verdict(CHECKS[flavour], solution, capfd)
    assert passed, out


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_wrong_answer_in_httpx2_gets_the_same_diagnosis(
    flavour: str, capfd: pytest.CaptureFixture[str]
) -> None:
    stem, name = (
        ("04_fetcher", "Fetcher") if flavour == "sync" else ("05_async_fetcher", "AsyncFetcher")
    )
    base = load_solution(stem, name, library="httpx2")
    wrong = DelClosesTheBorrowedClient if flavour == "sync" else AcloseWithoutAwait
    mistake = "04.del-closes-borrowed" if flavour == "sync" else "05.aclose-not-awaited"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        assert_diagnosed(CHECKS[flavour], in_httpx2(wrong, base), mistake, capfd)

"""Lesson 05's checks pass the solutions and reject the async twins of the classic mistakes."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import httpx
import pytest

from labkit import LabServer
from labkit.checks import check_async_fetcher, check_fetch_all_async
from tests.verdicts import assert_rejected, load_solution
from tests.verdicts import verdict as _verdict

fetch_all_async = load_solution("05_fetch_all_async", "fetch_all_async")
AsyncFetcher = load_solution("05_async_fetcher", "AsyncFetcher")


# --- check_fetch_all_async --------------------------------------------------------------------

def test_fetch_all_async_solution_passes(capfd: pytest.CaptureFixture[str]) -> None:
    passed, out = _verdict(check_fetch_all_async, fetch_all_async, capfd)
    assert passed, out
    assert out.startswith("✅ fetch_all_async works")


def test_the_solution_shares_one_client_and_caps_what_is_in_flight(server: LabServer) -> None:
    """What the check relies on, seen from the server's own records."""
    from labkit.pool import peak_in_flight

    delays = ["0.06", "0.02", "0.04", "0.01", "0.05", "0.03"]

    async def main() -> list[str]:
        async with httpx.AsyncClient() as client:
            bodies: list[str] = await fetch_all_async(
                client, [f"{server.url}/delay/{delay}" for delay in delays], 3)
            assert not client.is_closed
            return bodies

    bodies = asyncio.run(main())
    assert bodies == [f"waited {delay} s\n" for delay in delays]
    assert server.connections_opened <= 3 and 2 <= peak_in_flight(server.requests) <= 3


# Wrong answers, each as a learner might write it.

async def client_per_request(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    semaphore = asyncio.Semaphore(cap)

    async def fetch(url: str) -> str:
        async with semaphore, httpx.AsyncClient() as own:
            return (await own.get(url)).text

    return await asyncio.gather(*(fetch(url) for url in urls))


async def closes_the_client(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    bodies: list[str] = await fetch_all_async(client, urls, cap)
    await client.aclose()
    return bodies


async def async_with_the_given_client(client: httpx.AsyncClient, urls: list[str],
                                      cap: int) -> list[str]:
    async with client:
        return await fetch_all_async(client, urls, cap)  # type: ignore[no-any-return]


async def sequential(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    return [(await client.get(url)).text for url in urls]


async def completion_order(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    semaphore = asyncio.Semaphore(cap)

    async def fetch(url: str) -> str:
        async with semaphore:
            return (await client.get(url)).text

    return [await done for done in asyncio.as_completed([fetch(url) for url in urls])]


async def gathers_everything(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    responses = await asyncio.gather(*(client.get(url) for url in urls))
    return [response.text for response in responses]


async def hardcoded_three(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    return await fetch_all_async(client, urls, 3)  # type: ignore[no-any-return]


async def status_codes(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[int]:
    semaphore = asyncio.Semaphore(cap)

    async def fetch(url: str) -> int:
        async with semaphore:
            return (await client.get(url)).status_code

    return await asyncio.gather(*(fetch(url) for url in urls))


async def forgets_await(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[Any]:
    return [client.get(url) for url in urls]  # coroutines, never awaited


async def leaves_failing_tasks(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    async def fetch(url: str) -> str:
        async with client:  # fails: the client is open already
            return (await client.get(url)).text

    tasks = [asyncio.create_task(fetch(url)) for url in urls]
    await asyncio.sleep(0.01)  # the tasks fail; nobody looks at their exceptions
    del tasks
    return []


async def forgets_await_on_get(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    semaphore = asyncio.Semaphore(cap)

    async def fetch(url: str) -> str:
        async with semaphore:
            response = client.get(url)  # a coroutine, not a response
            return response.text  # type: ignore[attr-defined, no-any-return]

    return await asyncio.gather(*(fetch(url) for url in urls))


async def forgets_await_on_gather(client: httpx.AsyncClient, urls: list[str],
                                  cap: int) -> Any:
    return asyncio.gather(*(client.get(url) for url in urls))  # a future, never awaited here


async def gathers_a_list(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    semaphore = asyncio.Semaphore(cap)

    async def fetch(url: str) -> str:
        async with semaphore:
            return (await client.get(url)).text

    coroutines = [fetch(url) for url in urls]
    try:
        return await asyncio.gather(coroutines)  # type: ignore[arg-type] - no star
    finally:
        for coroutine in coroutines:
            coroutine.close()


async def semaphore_per_request(client: httpx.AsyncClient, urls: list[str],
                                cap: int) -> list[str]:
    async def fetch(url: str) -> str:
        async with asyncio.Semaphore(cap):  # a new one for each request: caps nothing
            return (await client.get(url)).text

    return await asyncio.gather(*(fetch(url) for url in urls))


async def runs_a_new_loop(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    coroutine = fetch_all_async(client, urls, cap)
    try:
        return asyncio.run(coroutine)  # type: ignore[no-any-return]
    finally:
        coroutine.close()


async def makes_spare_coroutines(client: httpx.AsyncClient, urls: list[str],
                                 cap: int) -> list[str]:
    spare = [client.get(url) for url in urls]  # made, never awaited: Python warns
    del spare
    return await fetch_all_async(client, urls, cap)  # type: ignore[no-any-return]


def plain_def(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    return []


async def stub(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    raise NotImplementedError  # your code here


async def raises(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
    raise ValueError("oops, a typo")


WRONG_FETCH_ALL: dict[str, tuple[Any, list[str]]] = {
    # name: (answer, words the verdict must contain)
    "a client per request": (client_per_request, [
        "sent 0 of its 8 requests on the client it was given", "8 TCP connections",
        "Don't build clients inside fetch_all_async"]),
    "closes the given client": (closes_the_client, ["closed the client it was given"]),
    "async with client: inside": (async_with_the_given_client, [
        "raised RuntimeError: Cannot open a client instance more than once.", "don't open it"]),
    "sequential awaits": (sequential, ["one at a time", "asyncio.gather"]),
    "completion order": (completion_order, ["not in the order of urls", "asyncio.gather"]),
    "ignores max_concurrency": (gathers_everything, [
        "requests were in flight at once, but max_concurrency=3", "asyncio.Semaphore"]),
    "a hard-coded cap": (hardcoded_three, [
        "up to 3 requests were in flight at once, but max_concurrency=2"]),
    "status codes": (status_codes, ["status codes", "response.text"]),
    "forgets await": (forgets_await, ["returned coroutines", "missing await"]),
    "forgets await on client.get": (forgets_await_on_get, [
        "raised AttributeError: 'coroutine' object has no attribute 'text'",
        "A missing await", "response = await client.get(url)"]),
    "forgets await on gather": (forgets_await_on_gather, [
        "returned something to await", "return await asyncio.gather(...)"]),
    "gathers a list": (gathers_a_list, ["raised TypeError: unhashable type: 'list'",
                                        "asyncio.gather(*coroutines)"]),
    "a semaphore per request": (semaphore_per_request, [  # 7 or 8 at once: the 0.01 s one may end first
        "requests were in flight at once, but max_concurrency=3", "not one per request"]),
    "asyncio.run inside": (runs_a_new_loop, [
        "asyncio.run() cannot be called from a running event loop",
        "already runs inside an event loop"]),
    "leaves failing tasks": (leaves_failing_tasks, ["returned 0 bodies for 8 URLs"]),
    "makes coroutines it never awaits": (makes_spare_coroutines, [
        "fetch_all_async warned during correct use: RuntimeWarning: coroutine "
        "'AsyncClient.get' was never awaited", "await every coroutine you make"]),
    "plain def": (plain_def, ["fetch_all_async is a plain def, not `async def`", "async def fetch_all_async"]),
    "stub": (stub, ["❌ Not yet: fetch_all_async still raises NotImplementedError."]),
    "another exception": (raises, ["fetch_all_async raised ValueError: oops, a typo"]),
}


# --- check_async_fetcher ----------------------------------------------------------------------

def test_async_fetcher_solution_passes(capfd: pytest.CaptureFixture[str]) -> None:
    passed, out = _verdict(check_async_fetcher, AsyncFetcher, capfd)
    assert passed, out
    assert out.startswith("✅ AsyncFetcher works")


def test_the_solution_reuses_one_connection_and_leaves_borrowed_open(server: LabServer) -> None:
    """What the check relies on, seen from the server's own count."""
    async def main() -> None:
        async with httpx.AsyncClient() as client:
            async with AsyncFetcher(client) as fetcher:
                for _ in range(3):
                    await fetcher.fetch(server.url + "/")
            assert not client.is_closed and not fetcher.owns_client
        async with AsyncFetcher() as fetcher:
            for _ in range(3):
                await fetcher.fetch(server.url + "/")
        assert fetcher.owns_client and fetcher._client.is_closed

    asyncio.run(main())
    assert server.connections_opened == 2


class NaiveAsyncWithClient:
    """`async with self.client:` around each fetch: opens, and closes, the client every time."""

    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        self.client = client if client is not None else httpx.AsyncClient(**client_kwargs)

    async def fetch(self, url: str) -> httpx.Response:
        async with self.client:
            response = await self.client.get(url)
        return response.raise_for_status()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> NaiveAsyncWithClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class NaiveFacade:
    """Notebook 04's naive facade, in async: forwards `async with` and opens it around fetch."""

    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        self.client = client if client is not None else httpx.AsyncClient(**client_kwargs)
        self.borrowed = client is not None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    async def __aenter__(self) -> NaiveFacade:
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


class ClosesTheBorrowedClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def aclose(self) -> None:
        self._closed = True
        await self._client.aclose()


class ClientPerFetch(AsyncFetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)
        self._settings = client_kwargs

    async def fetch(self, url: str) -> httpx.Response:
        if not self.owns_client:
            return await super().fetch(url)  # type: ignore[no-any-return]
        async with httpx.AsyncClient(**self._settings) as client:  # a fresh one each time
            response = await client.get(url)
        return response.raise_for_status()


class IgnoresTheGivenClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return (await client.get(url)).raise_for_status()


class KeepsAClientOfItsOwn(AsyncFetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        super().__init__(**client_kwargs)  # the client given is ignored: it makes its own


class NeverClosesItsClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def aclose(self) -> None:
        self._closed = True


class NoStatusCheck(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        if self._closed:
            raise RuntimeError("closed")
        return await self._client.get(url)  # type: ignore[no-any-return]


class EntersTheBorrowedClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def __aenter__(self) -> EntersTheBorrowedClient:
        await self._client.__aenter__()  # "open" the client for the block, borrowed or not
        return self


class AenterReturnsTheClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def __aenter__(self) -> httpx.AsyncClient:
        return self._client  # type: ignore[no-any-return]


class IgnoresItsSettings(AsyncFetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        super().__init__(client)


class AexitDoesNotClose(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def __aexit__(self, *exc_info: object) -> None:
        pass


class AcloseTwiceFails(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def aclose(self) -> None:
        if self._closed:
            raise RuntimeError("already closed")
        await super().aclose()


class WorksAfterClose(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        return (await self._client.get(url)).raise_for_status()


class AcceptsClientAndSettings(AsyncFetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        super().__init__(client, **({} if client is not None else client_kwargs))


class WritableOwnsClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    owns_client = None  # replaces the property by a plain attribute

    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)
        self.owns_client = client is None


class WarnsOnExit(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def __aexit__(self, *exc_info: object) -> None:
        if not self.owns_client:
            warnings.warn("the borrowed client is still open", stacklevel=2)
        await super().__aexit__(*exc_info)


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


class ForgetsAwaitInFetch(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        response = self._client.get(url)  # a coroutine, not a response
        return response.raise_for_status()  # type: ignore[attr-defined, no-any-return]


class NoContextManager:
    """Everything but __aenter__ and __aexit__: `async with AsyncFetcher(...)` was never written."""

    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        self._fetcher = AsyncFetcher(client, **client_kwargs)
        self.owns_client = self._fetcher.owns_client

    async def fetch(self, url: str) -> httpx.Response:
        return await self._fetcher.fetch(url)  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        await self._fetcher.aclose()


class OnlyTakesAClient(AsyncFetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.AsyncClient | None = None) -> None:  # no **client_kwargs
        super().__init__(client)


class AsyncWithClientInFetch(AsyncFetcher):  # type: ignore[valid-type,misc]
    async def fetch(self, url: str) -> httpx.Response:
        async with self._client:  # "open it for this request": the end of the block closes it
            return (await self._client.get(url)).raise_for_status()


class Stub:
    def __init__(self, client: httpx.AsyncClient | None = None, **client_kwargs: Any) -> None:
        raise NotImplementedError  # your code here

    async def fetch(self, url: str) -> httpx.Response:
        raise NotImplementedError  # your code here

    async def aclose(self) -> None:
        raise NotImplementedError  # your code here

    async def __aenter__(self) -> Stub:
        raise NotImplementedError  # your code here

    async def __aexit__(self, *exc_info: object) -> None:
        raise NotImplementedError  # your code here


WRONG_FETCHER: dict[str, tuple[Any, list[str]]] = {
    # name: (answer, words the verdict must contain)
    "naive: async with self.client around each fetch": (NaiveAsyncWithClient, [
        "fetch() (call 2 of 3, borrowed client) raised RuntimeError: "
        "Cannot reopen a client instance, once it has been closed.", "no `async with client:`"]),
    "naive facade from notebook 04": (NaiveFacade, [
        "fetch() (call 2 of 3, borrowed client) raised RuntimeError: "
        "Cannot open a client instance more than once.", "no `async with client:`"]),
    "closes the borrowed client": (ClosesTheBorrowedClient, [
        "aclose() closed the client the AsyncFetcher was given (borrowed)", "never enter it"]),
    "a client per fetch": (ClientPerFetch, [
        "3 fetches with an owned client opened 3 TCP connections, not 1", "Make the client once"]),
    "ignores the given client": (IgnoresTheGivenClient, [
        "fetch() sent 0 of its 3 requests on the client it was given", "3 TCP connections"]),
    "keeps a client of its own": (KeepsAClientOfItsOwn, [
        "fetch() sent 0 of its 3 requests on the client it was given", "don't make a client"]),
    "never closes its owned client": (NeverClosesItsClient, [
        "aclose() did not close the client the AsyncFetcher made", "In aclose()"]),
    "no status check": (NoStatusCheck, [
        "fetch() returned a 404 answer instead of raising httpx.HTTPStatusError",
        "response.raise_for_status()", "no one mistakes an error for data"]),
    "enters the borrowed client": (EntersTheBorrowedClient, [
        "`async with AsyncFetcher(client) as f:` inside the caller's `async with client:` raised "
        "RuntimeError: Cannot open a client instance more than once.", "client.__aenter__()"]),
    "__aenter__ returns the client": (AenterReturnsTheClient, [
        "made f the httpx.AsyncClient, not the AsyncFetcher", "return self"]),
    "ignores its settings": (IgnoresItsSettings, [
        "did not give its settings to httpx.AsyncClient: the transport carried 0 of 2 requests"]),
    "__aexit__ does not close": (AexitDoesNotClose, [
        "leaving `async with AsyncFetcher(transport=...) as f:` did not close the client"]),
    "aclose twice fails": (AcloseTwiceFails, [
        "aclose() a second time raised RuntimeError: already closed", "harmless"]),
    "works after close": (WorksAfterClose, [
        "fetch() after aclose() still worked (borrowed client, sent on the caller's client).",
        "raise RuntimeError"]),
    "accepts client and settings": (AcceptsClientAndSettings, [
        "AsyncFetcher(client, timeout=1.0) was accepted", "TypeError"]),
    "owns_client can be set": (WritableOwnsClient, [
        "owns_client can be changed", "@property without a setter", "aclose() trusts"]),
    "no __aenter__/__aexit__": (NoContextManager, [
        "AsyncFetcher has no __aenter__ and no __aexit__, so `async with AsyncFetcher(client) as "
        "f:` can't work.", "__aenter__ should return self"]),
    "only takes a client": (OnlyTakesAClient, [  # the label names the settings the check passed
        "AsyncFetcher(verify=...) raised TypeError:", "unexpected keyword argument 'verify'",
        "**client_kwargs (the check passes verify="]),
    "`async with client:` in fetch": (AsyncWithClientInFetch, [
        "fetch() (call 2 of 3, borrowed client) raised RuntimeError: "
        "Cannot reopen a client instance, once it has been closed.", "closes a client for good"]),
    "warns on exit": (WarnsOnExit, [
        "AsyncFetcher warned during correct use: UserWarning: the borrowed client is still open",
        "noise"]),
    "forgets await in fetch": (ForgetsAwaitInFetch, [
        "raised AttributeError: 'coroutine' object has no attribute 'raise_for_status'",
        "A missing await"]),
    "plain def methods": (SyncMethods, ["AsyncFetcher.fetch is a plain def, not `async def`"]),
    "stub": (Stub, ["❌ Not yet: AsyncFetcher(client) still raises NotImplementedError."]),
}


WRONG: dict[str, tuple[Any, Any, list[str]]] = {  # both checks' wrong answers, with their check
    **{f"fetch_all_async: {name}": (check_fetch_all_async, *case)
       for name, case in WRONG_FETCH_ALL.items()},
    **{f"AsyncFetcher: {name}": (check_async_fetcher, *case) for name, case in WRONG_FETCHER.items()},
}


@pytest.mark.parametrize("name", WRONG)
def test_each_wrong_answer_is_rejected_with_a_telling_verdict(
    name: str, capfd: pytest.CaptureFixture[str]
) -> None:
    assert_rejected(*WRONG[name], capfd)


def test_an_instance_instead_of_the_class_gets_a_hint(capfd: pytest.CaptureFixture[str]) -> None:
    fetcher = AsyncFetcher(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    passed, out = _verdict(check_async_fetcher, fetcher, capfd)
    assert not passed and "needs the class itself" in out and "check_async_fetcher(AsyncFetcher)" in out


async def semaphore_never_released(client: httpx.AsyncClient, urls: list[str],
                                   cap: int) -> list[str]:
    semaphore = asyncio.Semaphore(cap)

    async def fetch(url: str) -> str:
        await semaphore.acquire()  # ... and no release(): after `cap` requests, everyone waits
        return (await client.get(url)).text

    return await asyncio.gather(*(fetch(url) for url in urls))


def test_a_fetch_all_async_that_hangs_gets_a_verdict(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("labkit.checks.lesson05.TIME_LIMIT", 0.5)
    passed, out = _verdict(check_fetch_all_async, semaphore_never_released, capfd)
    assert not passed and "did not finish within 0.5 s" in out and "released" in out


def test_a_called_function_instead_of_the_function_gets_a_hint(
    capfd: pytest.CaptureFixture[str]
) -> None:
    coroutine = fetch_all_async(httpx.AsyncClient(), [], 1)  # called, not passed: a coroutine
    passed, out = _verdict(check_fetch_all_async, coroutine, capfd)
    assert not passed and "needs the function itself, not a coroutine" in out


def test_a_semaphore_from_another_event_loop_gets_a_hint(capfd: pytest.CaptureFixture[str]) -> None:
    semaphore = asyncio.Semaphore(2)

    async def contend() -> None:  # a semaphore binds to the loop of the first task that waits on it
        async def hold() -> None:
            async with semaphore:
                await asyncio.sleep(0.001)
        await asyncio.gather(hold(), hold(), hold())

    asyncio.run(contend())

    async def shared_semaphore(client: httpx.AsyncClient, urls: list[str], cap: int) -> list[str]:
        async def fetch(url: str) -> str:
            async with semaphore:
                return (await client.get(url)).text
        return await asyncio.gather(*(fetch(url) for url in urls))

    passed, out = _verdict(check_fetch_all_async, shared_semaphore, capfd)
    assert not passed and "made in another event loop" in out and "inside fetch_all_async" in out
    assert "0x" not in out  # no memory address in the verdict


def test_after_a_missing_await_the_fixed_answer_passes(capfd: pytest.CaptureFixture[str]) -> None:
    """The coroutine a wrong answer never awaited is collected in its own check, not the next:
    the fixed answer, checked right after, is not blamed for its RuntimeWarning."""
    assert _verdict(check_async_fetcher, ForgetsAwaitInFetch, capfd)[0] is False
    passed, out = _verdict(check_async_fetcher, AsyncFetcher, capfd)
    assert passed, out
    assert _verdict(check_fetch_all_async, forgets_await_on_get, capfd)[0] is False
    passed, out = _verdict(check_fetch_all_async, fetch_all_async, capfd)
    assert passed, out

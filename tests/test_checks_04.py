"""check_fetcher passes the solution and rejects each classic mistake with a telling verdict."""

from __future__ import annotations

import warnings
from typing import Any

import httpx
import pytest

from labkit import LabServer
from labkit.checks import check_fetcher
from tests.verdicts import assert_rejected, left_behind, load_solution, verdict

Fetcher = load_solution("04_fetcher", "Fetcher")


def _verdict(candidate: Any, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    return verdict(check_fetcher, candidate, capsys)


def test_the_solution_passes(capsys: pytest.CaptureFixture[str]) -> None:
    passed, out = _verdict(Fetcher, capsys)
    assert passed, out
    assert out.startswith("✅ Fetcher works") and out.count("\n") == 1


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


# Wrong answers, each as a learner might write it.

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
        response.raise_for_status()
        return response


class WithClientInFetch(Fetcher):  # type: ignore[valid-type,misc]
    def fetch(self, url: str) -> httpx.Response:
        with self._client:  # "open it for this request": the end of the block closes it
            return self._client.get(url).raise_for_status()


class ClosesTheBorrowedClient(Fetcher):  # type: ignore[valid-type,misc]
    def close(self) -> None:
        self._closed = True
        self._client.close()


class ClientPerFetch(Fetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)
        self._settings = client_kwargs

    def fetch(self, url: str) -> httpx.Response:
        if not self.owns_client:
            return super().fetch(url)  # type: ignore[no-any-return]
        with httpx.Client(**self._settings) as client:  # "owned" means "a fresh one each time"
            response = client.get(url)
        response.raise_for_status()
        return response


class IgnoresTheGivenClient(Fetcher):  # type: ignore[valid-type,misc]
    def fetch(self, url: str) -> httpx.Response:
        with httpx.Client() as client:
            return client.get(url).raise_for_status()


class KeepsAClientOfItsOwn(Fetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        super().__init__(**client_kwargs)  # the client given is ignored: it makes its own


class NeverClosesItsClient(Fetcher):  # type: ignore[valid-type,misc]
    def close(self) -> None:
        self._closed = True


class NoStatusCheck(Fetcher):  # type: ignore[valid-type,misc]
    def fetch(self, url: str) -> httpx.Response:
        if self._closed:
            raise RuntimeError("closed")
        return self._client.get(url)  # type: ignore[no-any-return]


class EntersTheBorrowedClient(Fetcher):  # type: ignore[valid-type,misc]
    def __enter__(self) -> EntersTheBorrowedClient:
        self._client.__enter__()  # "open" the client for the block, borrowed or not
        return self


class EntersItInInit(Fetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)
        self._client.__enter__()


class EnterReturnsTheClient(Fetcher):  # type: ignore[valid-type,misc]
    def __enter__(self) -> httpx.Client:
        return self._client  # type: ignore[no-any-return]


class IgnoresItsSettings(Fetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        super().__init__(client)


class ExitDoesNotClose(Fetcher):  # type: ignore[valid-type,misc]
    def __exit__(self, *exc_info: object) -> None:
        pass


class CloseTwiceFails(Fetcher):  # type: ignore[valid-type,misc]
    def close(self) -> None:
        if self._closed:
            raise RuntimeError("already closed")
        super().close()


class WorksAfterClose(Fetcher):  # type: ignore[valid-type,misc]
    def fetch(self, url: str) -> httpx.Response:
        return self._client.get(url).raise_for_status()


class AcceptsClientAndSettings(Fetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        super().__init__(client, **({} if client is not None else client_kwargs))


class WritableOwnsClient(Fetcher):  # type: ignore[valid-type,misc]
    owns_client = None  # replaces the property by a plain attribute

    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        super().__init__(client, **client_kwargs)
        self.owns_client = client is None


class WarnsOnExit(Fetcher):  # type: ignore[valid-type,misc]
    def __exit__(self, *exc_info: object) -> None:
        if not self.owns_client:
            warnings.warn("the borrowed client is still open", stacklevel=2)
        super().__exit__(*exc_info)


class NoContextManager:
    """Everything but __enter__ and __exit__: `with Fetcher(...)` was never written."""

    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        self._fetcher = Fetcher(client, **client_kwargs)
        self.owns_client = self._fetcher.owns_client

    def fetch(self, url: str) -> httpx.Response:
        return self._fetcher.fetch(url)  # type: ignore[no-any-return]

    def close(self) -> None:
        self._fetcher.close()


class OnlyTakesAClient(Fetcher):  # type: ignore[valid-type,misc]
    def __init__(self, client: httpx.Client | None = None) -> None:  # no **client_kwargs
        super().__init__(client)


class Stub:
    def __init__(self, client: httpx.Client | None = None, **client_kwargs: Any) -> None:
        raise NotImplementedError  # your code here


WRONG: dict[str, tuple[Any, list[str]]] = {
    # name: (answer, words the verdict must contain)
    "naive facade": (NaiveFacade, [
        "fetch() (call 2 of 3, borrowed client) raised RuntimeError: "
        "Cannot open a client instance more than once.", "no `with client:`"]),
    "`with client:` in fetch": (WithClientInFetch, [
        "fetch() (call 2 of 3, borrowed client) raised RuntimeError: "
        "Cannot reopen a client instance, once it has been closed.", "closes a client for good"]),
    "closes the borrowed client": (ClosesTheBorrowedClient, [
        "close() closed the client the Fetcher was given (borrowed)", "never enter it"]),
    "a client per fetch": (ClientPerFetch, [
        "3 fetches with an owned client opened 3 TCP connections, not 1", "Make the client once"]),
    "ignores the given client": (IgnoresTheGivenClient, [
        "fetch() sent 0 of its 3 requests on the client it was given", "3 TCP connections"]),
    "keeps a client of its own": (KeepsAClientOfItsOwn, [
        "fetch() sent 0 of its 3 requests on the client it was given", "don't make a client"]),
    "never closes its client": (NeverClosesItsClient, [
        "close() did not close the client the Fetcher made", "In close(), close the client"]),
    "no status check": (NoStatusCheck, [
        "fetch() returned a 404 answer instead of raising httpx.HTTPStatusError",
        "response.raise_for_status()"]),
    "enters the borrowed client": (EntersTheBorrowedClient, [
        "`with Fetcher(client) as f:` inside the caller's `with client:` raised RuntimeError: "
        "Cannot open a client instance more than once.", "client.__enter__()"]),
    "enters it in __init__": (EntersItInInit, [
        "Fetcher(client) inside the caller's `with client:` raised RuntimeError: "
        "Cannot open a client instance more than once."]),
    "__enter__ returns the client": (EnterReturnsTheClient, [
        "made f the httpx.Client, not the Fetcher", "return self"]),
    "ignores its settings": (IgnoresItsSettings, [
        "did not give its settings to httpx.Client: the transport carried 0 of 2 requests",
        "httpx.Client(**client_kwargs)"]),
    "__exit__ does not close": (ExitDoesNotClose, [
        "leaving `with Fetcher(transport=...) as f:` did not close the client the Fetcher made"]),
    "close twice fails": (CloseTwiceFails, [
        "close() a second time raised RuntimeError: already closed", "harmless"]),
    "works after close": (WorksAfterClose, [
        "fetch() after close() still worked (borrowed client, sent on the caller's client).",
        "raise RuntimeError"]),
    "accepts client and settings": (AcceptsClientAndSettings, [
        "Fetcher(client, timeout=1.0) was accepted: that timeout is silently ignored.",
        "TypeError"]),
    "owns_client can be set": (WritableOwnsClient, [
        "owns_client can be changed", "@property without a setter", "close() trusts"]),
    "no __enter__/__exit__": (NoContextManager, [
        "Fetcher has no __enter__ and no __exit__, so `with Fetcher(client) as f:` can't work.",
        "__enter__ should return self"]),
    "only takes a client": (OnlyTakesAClient, [  # the label names the settings the check passed
        "Fetcher(verify=...) raised TypeError:", "unexpected keyword argument 'verify'",
        "**client_kwargs (the check passes verify="]),
    "warns on exit": (WarnsOnExit, [
        "Fetcher warned during correct use: UserWarning: the borrowed client is still open",
        "noise"]),
    "stub": (Stub, ["❌ Not yet: Fetcher(client) still raises NotImplementedError."]),
}


@pytest.mark.parametrize("name", WRONG)
def test_each_wrong_answer_is_rejected_with_a_telling_verdict(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_rejected(check_fetcher, *WRONG[name], capsys)


def test_a_wrong_answer_leaves_no_socket_for_later(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Fetcher that ignores the client it is given fails with its own client open."""
    def run() -> None:
        assert_rejected(check_fetcher, KeepsAClientOfItsOwn, ["sent 0 of its 3 requests"], capsys)

    assert left_behind(run, monkeypatch) == []


def test_an_instance_instead_of_the_class_gets_a_hint(
    server: LabServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with Fetcher(**server.client_kwargs()) as fetcher:
        passed, out = _verdict(fetcher, capsys)
    assert not passed and "needs the class itself" in out and "check_fetcher(Fetcher)" in out

"""check_lifespan_client passes the solution and rejects each way of getting the app's client
wrong."""

# No `from __future__ import annotations` here: FastAPI reads the path functions' annotations,
# and a dependency defined inside a function can't be found from a string annotation.

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import nbformat
import pytest
from fastapi import Depends, FastAPI, Request

from labkit.apps import burst
from labkit.checks import check_lifespan_client, lesson06
from labkit.server import plain_trust
from tests.notebook_runner import ROOT, stub_cells
from tests.verdicts import assert_diagnosed, left_behind, load_solution, verdict

NOTEBOOK = ROOT / "notebooks" / "06_one_client_per_application.ipynb"
MakeApp = Callable[[str], FastAPI]


def _verdict(candidate: Any, capfd: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    return verdict(check_lifespan_client, candidate, capfd)


@pytest.mark.parametrize("library", ["httpx", "httpx2"])
def test_the_solution_passes(library: str, capfd: pytest.CaptureFixture[str]) -> None:
    passed, out = _verdict(load_solution("06_lifespan_client", "make_app", library=library), capfd)
    assert passed, out
    assert "over at most 5 connections, all closed by the client" in out


def test_the_notebook_stub_is_not_yet(capfd: pytest.CaptureFixture[str]) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    [(index, _)] = stub_cells(nb)
    namespace: dict[str, Any] = {}
    exec(compile(nb.cells[index].source, "stub", "exec"), namespace)  # noqa: S102 - our own stub
    passed, out = _verdict(namespace["make_app"], capfd)
    assert not passed and out.startswith("❌ Not yet: the app's lifespan still raises"), out


# Wrong answers, each as a learner might write it. Every client gets the same prebuilt SSL
# context (as the check's own clients do): it changes no count, and keeps the tests quick.


def _lifespan_on_state(app: FastAPI) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(base_url=app.state.upstream, verify=plain_trust()) as client:
            app.state.client = client
            yield

    return lifespan


def _from_state(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.client
    return client


def _with_status(
    app: FastAPI, dependency: Callable[..., Any] = _from_state, path: str = "/delay/0.05"
) -> FastAPI:
    """`app` with the exercise's endpoint: GET /status asks the upstream for `path`, on the
    client that `dependency` gives."""

    @app.get("/status")
    async def status(client: Annotated[httpx.AsyncClient, Depends(dependency)]) -> dict[str, str]:
        return {"upstream": (await client.get(path)).text}

    return app


def lifespan_unused(upstream: str) -> FastAPI:
    """The lifespan is written, but the path function still makes a client per request."""
    app = FastAPI(lifespan=_lifespan_on_state(FastAPI()))
    app.state.upstream = upstream

    @app.get("/status")
    async def status() -> dict[str, str]:
        async with httpx.AsyncClient(base_url=upstream, verify=plain_trust()) as client:
            return {"upstream": (await client.get("/delay/0.05")).text}

    return app


def client_per_request_in_a_dependency(upstream: str) -> FastAPI:
    """A dependency that yields a new client: still a client (and a connection) per request."""

    async def get_client() -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(base_url=upstream, verify=plain_trust()) as client:
            yield client

    app = FastAPI()
    return _with_status(app, get_client)


def lifespan_never_closes(upstream: str) -> FastAPI:
    """One client, made in the lifespan, shared... and never closed."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.client = httpx.AsyncClient(base_url=upstream, verify=plain_trust())
        yield

    app = FastAPI(lifespan=lifespan)
    return _with_status(app)


def module_level_client(upstream: str) -> FastAPI:
    """A client made when the module is imported (here: when the app is built); no lifespan."""
    client = httpx.AsyncClient(base_url=upstream, verify=plain_trust())
    app = FastAPI()

    @app.get("/status")
    async def status() -> dict[str, str]:
        return {"upstream": (await client.get("/delay/0.05")).text}

    return app


def yields_after_closing(upstream: str) -> FastAPI:
    """`yield` after the `async with` block: the client is closed before the app serves."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(base_url=upstream, verify=plain_trust()) as client:
            app.state.client = client
        yield

    app = FastAPI(lifespan=lifespan)
    return _with_status(app)


def dependency_not_written(upstream: str) -> FastAPI:
    """The lifespan is done; get_client still raises NotImplementedError."""

    def get_client(request: Request) -> httpx.AsyncClient:
        raise NotImplementedError

    app = FastAPI(lifespan=_lifespan_on_state(FastAPI()))
    app.state.upstream = upstream
    return _with_status(app, get_client)


def lifespan_raises(upstream: str) -> FastAPI:
    """A lifespan that reads a setting that isn't there."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(base_url=app.state.upstream) as client:  # never set
            app.state.client = client
            yield

    return FastAPI(lifespan=lifespan)


def lifespan_reads_the_state_first(upstream: str) -> FastAPI:
    """A lifespan that enters `app.state.client` as if something had put it there already."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with app.state.client:  # nothing set it: no client is made anywhere
            yield

    return _with_status(FastAPI(lifespan=lifespan))


def wrong_path(upstream: str) -> FastAPI:
    """Shares one client well, but asks the upstream for its home page instead of /delay/0.05."""
    app = FastAPI(lifespan=_lifespan_on_state(FastAPI()))
    app.state.upstream = upstream
    return _with_status(app, path="/")


def no_keepalive(upstream: str) -> FastAPI:
    """One client, made and closed in the lifespan, that closes each connection after use."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=upstream, verify=plain_trust(), limits=limits
        ) as client:
            app.state.client = client
            yield

    app = FastAPI(lifespan=lifespan)
    return _with_status(app)


def lifespan_not_passed(upstream: str) -> FastAPI:
    """The lifespan is written, but the app is built without lifespan=: it never runs."""
    app = FastAPI()
    app.state.upstream = upstream
    app.state.lifespan = _lifespan_on_state(app)  # defined, kept, never handed to FastAPI
    return _with_status(app)


def sync_client_in_async_path(upstream: str) -> FastAPI:
    """One client, opened and closed in the lifespan, but a synchronous httpx.Client: each
    downstream request blocks the event loop, so the app serves one visitor at a time."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with httpx.Client(base_url=upstream, verify=plain_trust()) as client:
            app.state.client = client
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/status")
    async def status(request: Request) -> dict[str, str]:
        return {"upstream": request.app.state.client.get("/delay/0.05").text}

    return app


_MODULE_LEVEL: dict[str, httpx.AsyncClient] = {}  # a learner's module-level client, by upstream


def module_client_closed_by_the_lifespan(upstream: str) -> FastAPI:
    """A module-level client, closed at shutdown by the lifespan: fine once, closed for good
    for every app served after the first (tests, reloads)."""
    if upstream not in _MODULE_LEVEL:
        _MODULE_LEVEL[upstream] = httpx.AsyncClient(base_url=upstream, verify=plain_trust())
    client = _MODULE_LEVEL[upstream]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.client = client
        yield
        await client.aclose()

    return _with_status(FastAPI(lifespan=lifespan))


def closes_in_the_path_function(upstream: str) -> FastAPI:
    """The lifespan's client, closed by the path function after its first use."""
    app = FastAPI(lifespan=_lifespan_on_state(FastAPI()))
    app.state.upstream = upstream

    @app.get("/status")
    async def status(client: Annotated[httpx.AsyncClient, Depends(_from_state)]) -> dict[str, str]:
        response = await client.get("/delay/0.05")
        await client.aclose()  # "tidy up"
        return {"upstream": response.text}

    return app


def enters_the_borrowed_client(upstream: str) -> FastAPI:
    """The lifespan's client, entered again (`async with client:`) in the path function."""
    app = FastAPI(lifespan=_lifespan_on_state(FastAPI()))
    app.state.upstream = upstream

    @app.get("/status")
    async def status(client: Annotated[httpx.AsyncClient, Depends(_from_state)]) -> dict[str, str]:
        async with client:
            response = await client.get("/delay/0.05")
        return {"upstream": response.text}

    return app


def aclose_not_awaited(upstream: str) -> FastAPI:
    """The lifespan's shutdown calls client.aclose() without `await`: a coroutine that never
    runs, so the client stays open."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.client = httpx.AsyncClient(base_url=upstream, verify=plain_trust())
        try:
            yield
        finally:
            app.state.client.aclose()  # no await

    return _with_status(FastAPI(lifespan=lifespan))


def module_client_entered_by_the_lifespan(upstream: str) -> FastAPI:
    """A module-level client that the lifespan enters (`async with`): its end closes the client
    at the first shutdown, and the next app's lifespan cannot open it again."""
    if upstream not in _MODULE_LEVEL:
        _MODULE_LEVEL[upstream] = httpx.AsyncClient(base_url=upstream, verify=plain_trust())
    shared = _MODULE_LEVEL[upstream]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with shared as client:
            app.state.client = client
            yield

    return _with_status(FastAPI(lifespan=lifespan))


def calls_the_lifespan(upstream: str) -> FastAPI:
    """`lifespan=lifespan()`: the lifespan called in make_app, not handed to FastAPI."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(base_url=upstream, verify=plain_trust()) as client:
            app.state.client = client
            yield

    return _with_status(FastAPI(lifespan=lifespan()))  # type: ignore[call-arg,arg-type]


def reads_another_name(upstream: str) -> FastAPI:
    """The lifespan keeps `app.state.client`; get_client reads `app.state.http_client`."""

    def get_client(request: Request) -> httpx.AsyncClient:
        client: httpx.AsyncClient = request.app.state.http_client
        return client

    app = FastAPI(lifespan=_lifespan_on_state(FastAPI()))
    app.state.upstream = upstream
    return _with_status(app, get_client)


def forgets_the_await(upstream: str) -> FastAPI:
    """The path function calls the shared AsyncClient's get() without `await`."""
    app = FastAPI(lifespan=_lifespan_on_state(FastAPI()))
    app.state.upstream = upstream

    @app.get("/status")
    async def status(client: Annotated[httpx.AsyncClient, Depends(_from_state)]) -> dict[str, str]:
        response = client.get("/delay/0.05")  # no await: a coroutine, never awaited
        return {"upstream": response.text}  # type: ignore[attr-defined]

    return app


def get_client_without_annotation(upstream: str) -> FastAPI:
    """get_client(request) without `: Request`: FastAPI reads `request` as a query parameter,
    which no visitor sends."""

    def get_client(request):  # no `: Request`
        return request.app.state.client

    app = FastAPI(lifespan=_lifespan_on_state(FastAPI()))
    app.state.upstream = upstream
    return _with_status(app, get_client)


def gate_never_released(upstream: str) -> FastAPI:
    """Five downstream requests at a time, by a semaphore the path function acquires and never
    releases (`async with gate:` was meant): after the first five, every visitor waits."""
    app = FastAPI(lifespan=_lifespan_on_state(FastAPI()))
    app.state.upstream = upstream
    gate = asyncio.Semaphore(5)

    @app.get("/status")
    async def status(client: Annotated[httpx.AsyncClient, Depends(_from_state)]) -> dict[str, str]:
        await gate.acquire()
        return {"upstream": (await client.get("/delay/0.05")).text}

    return app


def closes_with_close(upstream: str) -> FastAPI:
    """The lifespan's shutdown calls close(), the sync client's method: an AsyncClient has
    aclose()."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.client = httpx.AsyncClient(base_url=upstream, verify=plain_trust())
        yield
        app.state.client.close()

    return _with_status(FastAPI(lifespan=lifespan))


def asks_twice(upstream: str) -> FastAPI:
    """One shared client, but the path function asks the upstream twice per visitor: once to
    see it is up, once for the answer."""
    app = FastAPI(lifespan=_lifespan_on_state(FastAPI()))
    app.state.upstream = upstream

    @app.get("/status")
    async def status(client: Annotated[httpx.AsyncClient, Depends(_from_state)]) -> dict[str, str]:
        if (await client.get("/delay/0.05")).is_success:
            return {"upstream": (await client.get("/delay/0.05")).text}
        return {"upstream": "down"}

    return app


WRONG: dict[str, tuple[MakeApp | Any, str, list[str]]] = {
    # name: (answer, the mistake it must get, evidence the verdict must say)
    "one client with max_keepalive_connections=0": (no_keepalive, "06.no-keepalive", []),
    "a lifespan never handed to FastAPI": (lifespan_not_passed, "06.no-lifespan", []),
    "lifespan written, client per request in the path function": (
        lifespan_unused,
        "06.client-per-request",
        ["opened 30 downstream TCP connections (one per request"],
    ),
    "a client per request inside a dependency": (
        client_per_request_in_a_dependency,
        "06.client-per-request",
        [],
    ),
    "a lifespan that never closes its client": (lifespan_never_closes, "06.never-closed", []),
    "a module-level client that nothing closes": (module_level_client, "06.never-closed", []),
    "yield after the async with block": (yields_after_closing, "06.yield-outside", []),
    "get_client not written yet": (dependency_not_written, "06.not-yet-dependency", []),
    "a lifespan that raises": (lifespan_raises, "06.startup-failed", ["'upstream'"]),
    # The lifespan's error names app.state: the hint says what to keep there (a slip of the check).
    "a lifespan that reads app.state.client first": (
        lifespan_reads_the_state_first,
        "06.no-state",
        ["The app did not start"],
    ),
    "the wrong downstream path": (wrong_path, "06.wrong-answers", ["30 of 30"]),
    # Kinds accepted or misdiagnosed before the catalogue (issue 19):
    "a synchronous client in an async path function": (
        sync_client_in_async_path,
        "06.blocking-client",
        [],
    ),
    "a module-level client closed by the first lifespan": (
        module_client_closed_by_the_lifespan,
        "06.second-serve",
        [],
    ),
    "aclose() in the path function": (closes_in_the_path_function, "06.closed-in-path", []),
    "not the function": (FastAPI(), "06.not-the-function", []),
    # Misdiagnosed before the walker's report (H19b): one full stop, not "once..".
    "async with on the borrowed client": (
        enters_the_borrowed_client,
        "06.entered-borrowed",
        ["more than once.\n"],
    ),
    # Misjudged held-out answers (heldout2: 06_W8, 06_W2):
    "aclose() without await": (aclose_not_awaited, "06.aclose-not-awaited", ["5 of its 5"]),
    "a module-level client entered by the lifespan": (
        module_client_entered_by_the_lifespan,
        "06.second-start",
        ["Cannot reopen"],
    ),
    # Ids no test reached before (coverage run):
    "lifespan=lifespan()": (calls_the_lifespan, "06.error", ["missing 1 required positional"]),
    "get_client reads another name": (reads_another_name, "06.served-error", ["'http_client'"]),
    "get() without await": (forgets_the_await, "06.missing-await", ["'coroutine' object"]),
    "get_client(request) without its annotation": (
        get_client_without_annotation,
        "06.unprocessable",
        ["to 30 of 30 requests"],
    ),
    "close() on an AsyncClient at shutdown": (closes_with_close, "06.shutdown-failed", ["close"]),
    "asks the upstream twice per visitor": (asks_twice, "06.downstream-count", ["sent 60"]),
}


@pytest.mark.parametrize("name", WRONG)
def test_each_wrong_answer_is_rejected_with_a_telling_verdict(
    name: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """...and whatever it left open (a client nobody closed) is collected inside the check,
    so no ResourceWarning surfaces later, in another cell."""
    answer, mistake, evidence = WRONG[name]

    def check() -> None:
        assert_diagnosed(check_lifespan_client, answer, mistake, capfd, evidence)

    try:
        assert left_behind(check, monkeypatch) == []
    finally:
        _MODULE_LEVEL.clear()


def test_an_app_instead_of_the_function_gets_a_hint(capfd: pytest.CaptureFixture[str]) -> None:
    app = load_solution("06_lifespan_client", "make_app")("http://127.0.0.1:9")
    passed, out = _verdict(app, capfd)
    assert not passed and "needs the function make_app itself" in out


def test_make_app_returning_none_gets_a_hint(capfd: pytest.CaptureFixture[str]) -> None:
    passed, out = _verdict(lambda upstream: None, capfd)
    assert not passed and "did not return an app" in out and "return app" in out


def test_visitors_that_wait_in_vain_are_told_their_request_failed(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A visitor's request that fails outright (here: it never gets an answer) is named, with
    its error. The check's visitors give up after 10 s; after 1 s here, to keep the test quick."""
    monkeypatch.setattr(lesson06, "burst", functools.partial(burst, timeout=1.0))

    def check() -> None:
        assert_diagnosed(
            check_lifespan_client, gate_never_released, "06.request-failed", capfd, ["ReadTimeout"]
        )

    assert left_behind(check, monkeypatch) == []

"""check_lifespan_client passes the solution and rejects each way of getting the app's client
wrong."""

# No `from __future__ import annotations` here: FastAPI reads the path functions' annotations,
# and a dependency defined inside a function can't be found from a string annotation.

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import nbformat
import pytest
from fastapi import Depends, FastAPI, Request

from labkit.checks import check_lifespan_client
from labkit.server import plain_trust
from tests.notebook_runner import ROOT, stub_cells
from tests.verdicts import assert_rejected, left_behind, load_solution, verdict

NOTEBOOK = ROOT / "notebooks" / "06_one_client_per_application.ipynb"
MakeApp = Callable[[str], FastAPI]


def _verdict(candidate: Any, capfd: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    return verdict(check_lifespan_client, candidate, capfd)


def test_the_solution_passes(capfd: pytest.CaptureFixture[str]) -> None:
    passed, out = _verdict(load_solution("06_lifespan_client", "make_app"), capfd)
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


WRONG: dict[str, tuple[MakeApp | Any, list[str]]] = {
    "one client with max_keepalive_connections=0": (
        no_keepalive,
        ["all from one client", "not kept alive", "max_keepalive_connections=0"],
    ),
    "a lifespan never handed to FastAPI": (
        lifespan_not_passed,
        ["the app's lifespan never ran", "without lifespan=", "FastAPI(lifespan=lifespan)"],
    ),
    # name: (answer, words the verdict must contain)
    "lifespan written, client per request in the path function": (
        lifespan_unused,
        [
            "30 requests, 5 at a time, opened 30 downstream TCP connections (one per request",
            "Depends(get_client)",
        ],
    ),
    "a client per request inside a dependency": (
        client_per_request_in_a_dependency,
        ["opened 30 downstream TCP connections", "Make the client once, in the lifespan"],
    ),
    "a lifespan that never closes its client": (
        lifespan_never_closes,
        [
            "After the app shut down, ",
            "downstream connections were still open: nothing closed its client.",
            "yield` inside that block",
        ],
    ),
    "a module-level client that nothing closes": (
        module_level_client,
        ["downstream connections were still open", "A client made at module level"],
    ),
    "yield after the async with block": (
        yields_after_closing,
        [
            "GET /status failed: the app raised RuntimeError: Cannot send a request, as the client "
            "has been closed.",
            "`yield` inside the `async with` block",
        ],
    ),
    "get_client not written yet": (
        dependency_not_written,
        ["❌ Not yet: the app raised NotImplementedError while serving GET /status."],
    ),
    "a lifespan that raises": (
        lifespan_raises,
        [
            "The app did not start: its lifespan raised AttributeError: 'State' object has no "
            "attribute 'upstream'"
        ],
    ),
    "the wrong downstream path": (
        wrong_path,
        ["30 of 30 answers to GET /status were not the upstream's 'waited 0.05 s'"],
    ),
}


@pytest.mark.parametrize("name", WRONG)
def test_each_wrong_answer_is_rejected_with_a_telling_verdict(
    name: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """...and whatever it left open (a client nobody closed) is collected inside the check,
    so no ResourceWarning surfaces later, in another cell."""
    answer, words = WRONG[name]

    def check() -> None:
        assert_rejected(check_lifespan_client, answer, words, capfd)

    assert left_behind(check, monkeypatch) == []


def test_an_app_instead_of_the_function_gets_a_hint(capfd: pytest.CaptureFixture[str]) -> None:
    app = load_solution("06_lifespan_client", "make_app")("http://127.0.0.1:9")
    passed, out = _verdict(app, capfd)
    assert not passed and "needs the function make_app itself" in out


def test_make_app_returning_none_gets_a_hint(capfd: pytest.CaptureFixture[str]) -> None:
    passed, out = _verdict(lambda upstream: None, capfd)
    assert not passed and "did not return an app" in out and "return app" in out

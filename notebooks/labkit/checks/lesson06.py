"""Check for 06_one_client_per_application: Exercise 6.1, one client for the app's whole life.

`check_lifespan_client(make_app)` calls `make_app(upstream)` with the URL of a lab server of
its own, serves the app with uvicorn (as notebook 06 does), and sends it a burst: 30 requests
to GET /status, 5 at a time. Then it judges from the lab server's records, in this order
(each ❌ a mistake of the catalogue, ids `06.*`):

1. the app started (its lifespan ran) and answered every request with the upstream's answer;
2. it sent one request downstream per request it got;
3. those went over at most 5 TCP connections (the requests in flight): one shared client.
   A client per request, in the path function or in a dependency, opens 30;
4. after uvicorn stopped (the lifespan's shutdown ran), the lab server saw every one of those
   connections closed by the client: the lifespan closed its client. A client that nothing
   closes (made at module level, or in a lifespan that never closes it) leaves them open;
5. a second app from make_app, served after the first one shut down (as a test suite or a
   reload does), works too: a module-level client closed by the first shutdown would not.
The downstream requests must overlap (an app that waits for each one, with a synchronous
client in an `async def` path function, serves one visitor at a time).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import httpx

from ..apps import AsgiServer, StartupFailed, burst
from ..pool import peak_in_flight
from ..server import LabServer
from ._evidence import OPEN_TWICE, REOPEN, SEND_CLOSED
from ._kernel import (
    CheckServer,
    describe,
    exercise_check,
    flunk,
    learner_call,
    libraries,
    quietly,
    run_in_own_loop,
)

__all__ = ["check_lifespan_client"]

REQUESTS = 30  # sent to the app...
AT_ONCE = 5  # ...this many at a time
AGAIN = 5  # sent to a second app made by make_app, served after the first one shut down
UPSTREAM_ANSWER = "waited 0.05 s"  # what the upstream's /delay/0.05 says
UNAWAITED_ACLOSE = "aclose' was never awaited"  # RuntimeWarning: coroutine '...' was never...
CLOSE_WAIT = 1.0  # seconds the lab server may take to notice the client's FINs after shutdown

# Errors whose own message doesn't say what to change, and the mistake each shows.
KNOWN_SLIPS = (("'State' object has no attribute 'client'", "06.no-state"),)


@contextlib.contextmanager
def _upstream_senders(upstream: LabServer) -> Iterator[dict[int, Any]]:
    """The AsyncClient objects (httpx's or httpx2's) that sent requests to the upstream, by id.

    `AsyncClient.send` is wrapped in every thread (uvicorn serves in its own), then put back;
    the clients are held meanwhile, so their ids stay unique.
    """
    port = httpx.URL(upstream.url).port
    clients: dict[int, Any] = {}
    originals = {m.AsyncClient: m.AsyncClient.__dict__["send"] for m in libraries()}

    def wrapped(original: Any) -> Any:
        async def send(client: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            if request.url.port == port:
                clients.setdefault(id(client), client)
            return await original(client, request, *args, **kwargs)

        return send

    for cls, original in originals.items():
        setattr(cls, "send", wrapped(original))  # noqa: B010
    try:
        yield clients
    finally:
        for cls, original in originals.items():
            setattr(cls, "send", original)  # noqa: B010


def _has_lifespan(app: Any) -> bool:
    """False for `FastAPI()` built without lifespan= (Starlette's default does nothing)."""
    context = getattr(getattr(app, "router", None), "lifespan_context", None)
    return context is None or type(context).__name__ != "_DefaultLifespan"


def _start(app: Any, again: bool) -> AsgiServer:
    web = AsgiServer(app, quiet=True)
    try:
        return web.start()
    except StartupFailed as failed:
        errors = failed.errors
    if errors and errors[0].kind == "NotImplementedError":
        flunk("06.not-yet-lifespan")
    if again and errors and REOPEN in errors[0].message:  # the first app's shutdown closed it
        flunk("06.second-start", error=errors[0].message)
    flunk("06.startup-failed", error=errors[0].message if errors else "uvicorn could not start it")


def _judge_answers(
    responses: list[Any], web: AsgiServer, lifespan: bool, upstream: LabServer, again: bool
) -> None:
    served = [e for e in web.errors if e.where == "http"]
    if served:
        first = served[0]
        if again and SEND_CLOSED in first.message:  # the first app's shutdown closed it
            flunk("06.second-serve", error=first.message)
        if first.kind == "NotImplementedError":
            flunk("06.not-yet-dependency")
        if not lifespan and "'State' object has no attribute" in first.message:
            flunk("06.no-lifespan")
        if OPEN_TWICE in first.message or REOPEN in first.message:
            flunk("06.entered-borrowed", error=first.message)
        closed = [e.message for e in served if SEND_CLOSED in e.message]
        if closed and upstream.requests:  # it worked, then it didn't: closed while serving
            flunk("06.closed-in-path", served=len(upstream.requests), error=closed[0])
        if SEND_CLOSED in first.message:
            flunk("06.yield-outside", error=first.message)
        if "'State' object has no attribute 'client'" in first.message:
            flunk("06.no-state", error=first.message)
        flunk("06.served-error", error=first.message)
    wrong = [r for r in responses if r.status_code != 200 or UPSTREAM_ANSWER not in r.text]
    if wrong and wrong[0].status_code == 422:
        flunk("06.unprocessable", wrong=len(wrong), total=len(responses))
    if wrong:
        status = wrong[0].status_code
        total, answer = len(responses), UPSTREAM_ANSWER
        flunk("06.wrong-answers", wrong=len(wrong), total=total, answer=answer, status=status)


def _judge_downstream(upstream: LabServer, clients: int) -> None:
    sent = len(upstream.requests)
    if sent != REQUESTS:
        flunk("06.downstream-count", sent=sent, total=REQUESTS)
    if peak_in_flight(upstream.requests) < 2:
        flunk("06.blocking-client", total=REQUESTS, at_once=AT_ONCE)
    opened = upstream.connections_opened
    if opened > AT_ONCE and clients == 1:
        flunk("06.no-keepalive", total=REQUESTS, at_once=AT_ONCE, opened=opened)
    if opened > AT_ONCE:
        per = " (one per request: a new client each time)" if opened == REQUESTS else ""
        flunk("06.client-per-request", total=REQUESTS, at_once=AT_ONCE, opened=opened, per=per)


def _judge_closed(upstream: LabServer, unawaited: bool) -> None:
    """Every connection closed, and so by the client: the upstream has no idle timeout, and its
    60 s request timeout outlasts any check, so the server closes none of them itself.
    `unawaited`: the shutdown dropped an aclose() coroutine that never ran."""
    if not upstream.wait_until_closed(timeout=CLOSE_WAIT):
        still, opened = upstream.open_connections, upstream.connections_opened
        flunk(
            "06.aclose-not-awaited" if unawaited else "06.never-closed", still=still, opened=opened
        )


def _serve(make_app: Any, upstream: LabServer, requests: int, *, again: bool = False) -> bool:
    """make_app(upstream), served by uvicorn to `requests` visitors, then shut down: `again`,
    after an earlier app shut down (as a test suite, or a reload, serves one). True if the
    shutdown called aclose() without `await` (Python warns of a coroutine never awaited)."""
    app = learner_call("make_app(upstream)", make_app, upstream.url, mistake="06.error")
    if not callable(app):
        flunk("06.no-app")
    web = _start(app, again)
    responses: list[Any] = []
    try:
        responses = run_in_own_loop(
            lambda: burst(web.url + "/status", requests=requests, at_once=AT_ONCE)
        )
    except httpx.HTTPError as exc:  # a visitor's request failed outright
        failed = describe(exc)
    else:
        failed = ""
    finally:
        with warnings.catch_warnings(record=True) as stopping:  # quietly's, in uvicorn's thread
            warnings.simplefilter("always")
            web.stop()  # the lifespan's shutdown runs here
    unawaited = any(UNAWAITED_ACLOSE in str(w.message) for w in stopping)
    _judge_answers(responses, web, _has_lifespan(app), upstream, again)  # its error says most
    if failed:
        flunk("06.request-failed", error=failed)
    shutdown = [e for e in web.errors if e.where == "lifespan"]
    if shutdown:
        flunk("06.shutdown-failed", error=shutdown[0].message)
    return unawaited


@exercise_check
def check_lifespan_client(make_app: Any) -> str:
    """`make_app(upstream) -> FastAPI`: one client, opened in the lifespan, handed out."""
    if not callable(make_app) or hasattr(make_app, "router"):
        flunk("06.not-the-function")

    def scenario() -> None:
        with CheckServer() as upstream, _upstream_senders(upstream) as senders:
            unawaited = _serve(make_app, upstream, REQUESTS)
            _judge_downstream(upstream, len(senders))
            _judge_closed(upstream, unawaited)
            upstream.reset()
            _serve(make_app, upstream, AGAIN, again=True)  # a second app: a client of its own

    quietly(scenario, slips=KNOWN_SLIPS)
    return (
        f"{REQUESTS} requests, {AT_ONCE} at a time, went downstream over at most {AT_ONCE} "
        "connections, all closed by the client when the app shut down: one client for "
        "the app's whole life."
    )

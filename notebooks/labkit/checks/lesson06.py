"""Check for 06_one_client_per_application: Exercise 6.1, one client for the app's whole life.

`check_lifespan_client(make_app)` serves `make_app(upstream)` with uvicorn, as notebook 06 does
(`upstream`: a lab server of the check's own), and sends it 30 requests to GET /status, 5 at a
time. Judged by the lab server's records, in this order (each ❌ a mistake of the catalogue,
ids `06.*`): the app started and gave every visitor the upstream's answer; it sent one request
downstream per visitor, overlapping, over at most 5 TCP connections (one shared client: a
client per request opens 30); the client closed them all when uvicorn stopped (the lifespan's
shutdown); and a second app from make_app, served after the first one shut down (as a test
suite or a reload does), works too.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any
from unittest import mock

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
# Errors whose own messages don't say what to change, and the mistake each shows.
NO_STATE, AWAIT = "'State' object has no attribute 'client'", "'coroutine' object has no"
CAUSES = {SEND_CLOSED: "06.yield-outside", NO_STATE: "06.no-state", AWAIT: "06.missing-await"}


@contextlib.contextmanager
def _upstream_senders(upstream: LabServer) -> Iterator[set[Any]]:
    """The AsyncClients (httpx's or httpx2's) that sent requests to the upstream: their `send`
    is wrapped meanwhile, in every thread (uvicorn serves in its own)."""
    port = httpx.URL(upstream.url).port
    clients: set[Any] = set()

    def wrapped(original: Any) -> Any:
        async def send(client: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            if request.url.port == port:
                clients.add(client)
            return await original(client, request, *args, **kwargs)

        return send

    with contextlib.ExitStack() as patches:
        for cls in (m.AsyncClient for m in libraries()):
            patches.enter_context(mock.patch.object(cls, "send", wrapped(cls.send)))
        yield clients


def _has_lifespan(app: Any) -> bool:
    """False for `FastAPI()` built without lifespan= (Starlette's default does nothing)."""
    context = getattr(getattr(app, "router", None), "lifespan_context", None)
    return context is None or type(context).__name__ != "_DefaultLifespan"


def _start(app: Any, again: bool) -> AsgiServer:
    try:
        return AsgiServer(app, quiet=True).start()
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
        error = served[0].message
        if again and SEND_CLOSED in error:  # the first app's shutdown closed it
            flunk("06.second-serve", error=error)
        if served[0].kind == "NotImplementedError":
            flunk("06.not-yet-dependency")
        if not lifespan and "'State' object has no attribute" in error:
            flunk("06.no-lifespan")
        if OPEN_TWICE in error or REOPEN in error:
            flunk("06.entered-borrowed", error=error)
        closed = [e.message for e in served if SEND_CLOSED in e.message]
        if closed and upstream.requests:  # it worked, then it didn't: closed while serving
            flunk("06.closed-in-path", served=len(upstream.requests), error=closed[0])
        flunk(next((m for w, m in CAUSES.items() if w in error), "06.served-error"), error=error)
    wrong = [r for r in responses if r.status_code != 200 or UPSTREAM_ANSWER not in r.text]
    if wrong:
        status, words = wrong[0].status_code, {"wrong": len(wrong), "total": len(responses)}
        if status == 422:
            flunk("06.unprocessable", **words)
        flunk("06.wrong-answers", answer=UPSTREAM_ANSWER, status=status, **words)


def _judge_downstream(upstream: LabServer, clients: int, unawaited: bool) -> None:
    """One request per visitor, overlapping, over at most AT_ONCE connections, all closed by the
    client (the upstream closes none itself: no idle timeout, and a 60 s request timeout).
    `unawaited`: the shutdown dropped an aclose() coroutine that never ran."""
    sent, opened = len(upstream.requests), upstream.connections_opened
    if sent != REQUESTS:
        flunk("06.downstream-count", sent=sent, total=REQUESTS)
    if peak_in_flight(upstream.requests) < 2:
        flunk("06.blocking-client", total=REQUESTS, at_once=AT_ONCE)
    if opened > AT_ONCE:
        per = " (one per request: a new client each time)" if opened == REQUESTS else ""
        mistake = "06.no-keepalive" if clients == 1 else "06.client-per-request"
        flunk(mistake, total=REQUESTS, at_once=AT_ONCE, opened=opened, per=per)
    if not upstream.wait_until_closed(timeout=CLOSE_WAIT):
        mistake = "06.aclose-not-awaited" if unawaited else "06.never-closed"
        flunk(mistake, still=upstream.open_connections, opened=upstream.connections_opened)


def _serve(make_app: Any, upstream: LabServer, requests: int, *, again: bool = False) -> bool:
    """make_app(upstream), served to `requests` visitors, then shut down (`again`: after an
    earlier one, as a test suite or a reload does). True if its shutdown didn't await aclose()."""
    app = learner_call("make_app(upstream)", make_app, upstream.url, mistake="06.error")
    if not callable(app):
        flunk("06.no-app")
    web = _start(app, again)
    responses: list[Any] = []
    failed = ""
    try:
        responses = run_in_own_loop(
            lambda: burst(web.url + "/status", requests=requests, at_once=AT_ONCE)
        )
    except httpx.HTTPError as exc:  # a visitor's request failed outright
        failed = describe(exc)
    finally:
        with warnings.catch_warnings(record=True, action="always") as stopping:  # any thread's
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
            _judge_downstream(upstream, len(senders), unawaited)
            upstream.reset()
            _serve(make_app, upstream, AGAIN, again=True)  # a second app: a client of its own

    quietly(scenario, slips=[(NO_STATE, "06.no-state")])
    return (
        f"{REQUESTS} requests, {AT_ONCE} at a time, went downstream over at most {AT_ONCE} "
        "connections, all closed by the client when the app shut down: one client for "
        "the app's whole life."
    )

"""Check for 06_one_client_per_application: Exercise 6.1, one client for the app's whole life.

`check_lifespan_client(make_app)` calls `make_app(upstream)` with the URL of a lab server of
its own, serves the app with uvicorn (as notebook 06 does), and sends it a burst: 30 requests
to GET /status, 5 at a time. Then it judges from the lab server's records, in this order:

1. the app started (its lifespan ran) and answered every request with the upstream's answer;
2. it sent one request downstream per request it got;
3. those went over at most 5 TCP connections (the requests in flight): one shared client.
   A client per request, in the path function or in a dependency, opens 30;
4. after uvicorn stopped (the lifespan's shutdown ran), the lab server saw every one of those
   connections closed by the client: the lifespan closed its client. A client that nothing
   closes (made at module level, or in a lifespan that never closes it) leaves them open.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx

from ..apps import AsgiServer, StartupFailed, burst
from ..server import LabServer
from ._kernel import (
    CheckServer,
    describe,
    exercise_check,
    fail,
    learner_call,
    quietly,
    run_in_own_loop,
)

__all__ = ["check_lifespan_client"]

REQUESTS = 30  # sent to the app...
AT_ONCE = 5  # ...this many at a time
UPSTREAM_ANSWER = "waited 0.05 s"  # what the upstream's /delay/0.05 says
CLOSE_WAIT = 1.0  # seconds the lab server may take to notice the client's FINs after shutdown

HINT_DEPENDENCY = (
    "Make the client once, in the lifespan (`async with httpx.AsyncClient(...) "
    "as client:`, keep it on app.state, then `yield`), and let get_client "
    "return that one client: `return request.app.state.client`. The path "
    "function takes it as a parameter, `client: Annotated[httpx.AsyncClient, "
    "Depends(get_client)]`, and makes no client of its own."
)
HINT_CLOSE = (
    "Open the client with `async with httpx.AsyncClient(...) as client:` inside the "
    "lifespan, and `yield` inside that block: when the app shuts down, the code after "
    "`yield` runs and the block closes the client, once. A client made at module level "
    "or in a lifespan without `async with` (or `await client.aclose()` after `yield`) "
    "is never closed."
)


# Errors whose own message doesn't say what to change: (words in the verdict, a pointed hint).
KNOWN_SLIPS = (
    (
        "Cannot send a request, as the client has been closed",
        "The client was closed before the app served: put `yield` inside the `async with` block "
        "of the lifespan, so that the client stays open while the app serves and closes at "
        "shutdown.",
    ),
    (
        "'State' object has no attribute 'client'",
        "The lifespan did not keep the client on app.state: `app.state.client = client` before "
        "`yield` (and get_client returns `request.app.state.client`).",
    ),
)


HINT_KEEPALIVE = (
    "The app shares one client, rightly, but that client does not keep its connections "
    "alive: each one closes after its answer and the next request opens another. Drop "
    "max_keepalive_connections=0 (and any `Connection: close` header): keep at least as many "
    "connections alive as requests in flight, as httpx's default limits do."
)
HINT_NO_LIFESPAN = (
    "Hand the lifespan to the app: `app = FastAPI(lifespan=lifespan)`. A lifespan that is only "
    "defined never runs, so nothing opens the client or puts it on app.state."
)


class _UpstreamSenders:
    """Which httpx.AsyncClient objects sent requests to the upstream, while `watching()`.

    `httpx.AsyncClient.send` is wrapped in every thread (uvicorn serves in its own), then put
    back; the clients are held meanwhile, so their ids stay unique.
    """

    def __init__(self, upstream: LabServer) -> None:
        self.port = httpx.URL(upstream.url).port
        self.clients: dict[int, httpx.AsyncClient] = {}

    @contextlib.contextmanager
    def watching(self) -> Iterator[_UpstreamSenders]:
        original = httpx.AsyncClient.__dict__["send"]

        async def send(
            client: httpx.AsyncClient, request: httpx.Request, *args: Any, **kwargs: Any
        ) -> Any:
            if request.url.port == self.port:
                self.clients.setdefault(id(client), client)
            return await original(client, request, *args, **kwargs)

        setattr(httpx.AsyncClient, "send", send)  # noqa: B010
        try:
            yield self
        finally:
            setattr(httpx.AsyncClient, "send", original)  # noqa: B010


def _has_lifespan(app: Any) -> bool:
    """False for `FastAPI()` built without lifespan= (Starlette's default does nothing)."""
    context = getattr(getattr(app, "router", None), "lifespan_context", None)
    return context is None or type(context).__name__ != "_DefaultLifespan"


def _start(app: Any) -> AsgiServer:
    web = AsgiServer(app, quiet=True)
    try:
        return web.start()
    except StartupFailed as failed:
        errors = failed.errors
    problem = errors[0].message if errors else "uvicorn could not start it"
    if errors and errors[0].kind == "NotImplementedError":
        fail(
            "Not yet: the app's lifespan still raises NotImplementedError.",
            "Write the lifespan and get_client, change the path function, run that cell, "
            "then run this check again.",
        )
    fail(
        f"The app did not start: its lifespan raised {problem}.",
        "The lifespan runs before the app serves anything: open the client there, keep it on "
        "app.state, then yield.",
    )


def _judge_answers(responses: list[httpx.Response], web: AsgiServer, lifespan: bool) -> None:
    served = [e for e in web.errors if e.where == "http"]
    if served:
        first = served[0]
        if first.kind == "NotImplementedError":
            fail(
                "Not yet: the app raised NotImplementedError while serving GET /status.",
                "Write get_client's body, run that cell, then run this check again.",
            )
        if not lifespan and "'State' object has no attribute" in first.message:
            fail(
                "GET /status failed: app.state had nothing on it, because the app's lifespan "
                "never ran: make_app built its FastAPI() without lifespan=.",
                HINT_NO_LIFESPAN,
            )
        fail(f"GET /status failed: the app raised {first.message}.", HINT_DEPENDENCY)
    wrong = [r for r in responses if r.status_code != 200 or UPSTREAM_ANSWER not in r.text]
    if wrong and wrong[0].status_code == 422:
        fail(
            f"GET /status answered 422 (Unprocessable Content) to {len(wrong)} of "
            f"{len(responses)} requests: FastAPI could not fill in the path function's "
            "parameters.",
            HINT_DEPENDENCY,
        )
    if wrong:
        status = wrong[0].status_code
        fail(
            f"{len(wrong)} of {len(responses)} answers to GET /status were not the upstream's "
            f"'{UPSTREAM_ANSWER}' (the first: status {status}).",
            "GET /status should ask the upstream for /delay/0.05 and return its text, e.g. "
            '`{"upstream": response.text}`.',
        )


def _judge_downstream(upstream: LabServer, clients: int) -> None:
    sent = len(upstream.requests)
    if sent != REQUESTS:
        fail(
            f"The app sent {sent} requests downstream for the {REQUESTS} it got.",
            "Send one request downstream (to /delay/0.05) per GET /status.",
        )
    opened = upstream.connections_opened
    if opened > AT_ONCE and clients == 1:
        fail(
            f"{REQUESTS} requests, {AT_ONCE} at a time, opened {opened} downstream TCP "
            f"connections, not at most {AT_ONCE}, all from one client: its connections "
            "were not kept alive between requests.",
            HINT_KEEPALIVE,
        )
    if opened > AT_ONCE:
        per = " (one per request: a new client each time)" if opened == REQUESTS else ""
        fail(
            f"{REQUESTS} requests, {AT_ONCE} at a time, opened {opened} downstream TCP "
            f"connections{per}, not at most {AT_ONCE}: the app does not share one client.",
            HINT_DEPENDENCY,
        )


def _judge_closed(upstream: LabServer) -> None:
    if upstream.wait_until_closed(timeout=CLOSE_WAIT):
        if any(c.closed_by != "client" for c in upstream.connections):
            fail("The downstream connections were not closed by the app's client.", HINT_CLOSE)
        return
    still = upstream.open_connections
    fail(
        f"After the app shut down, {still} of its {upstream.connections_opened} downstream "
        "connections were still open: nothing closed its client.",
        HINT_CLOSE,
    )


@exercise_check
def check_lifespan_client(make_app: Any) -> str:
    """`make_app(upstream) -> FastAPI`: one client, opened in the lifespan, handed out."""
    if not callable(make_app) or hasattr(make_app, "router"):
        fail(
            "check_lifespan_client needs the function make_app itself, not an app or a call's "
            "result.",
            "Call check_lifespan_client(make_app): no parentheses after make_app.",
        )

    def scenario() -> None:
        with CheckServer() as upstream, _UpstreamSenders(upstream).watching() as senders:
            app = learner_call(
                "make_app(upstream)",
                make_app,
                upstream.url,
                hint="make_app should build the FastAPI app and return it.",
            )
            if not callable(app):
                fail(
                    "make_app(upstream) did not return an app (a FastAPI instance).",
                    "End make_app with `return app`.",
                )
            web = _start(app)
            responses: list[httpx.Response] = []
            problem = ""
            try:
                responses = run_in_own_loop(
                    lambda: burst(web.url + "/status", requests=REQUESTS, at_once=AT_ONCE)
                )
            except httpx.HTTPError as exc:  # a visitor's request failed outright
                problem = f"GET /status failed: {describe(exc)}"
            finally:
                web.stop()  # the lifespan's shutdown runs here
            _judge_answers(
                responses, web, _has_lifespan(app)
            )  # what the app raised explains a failed request best
            if problem:
                fail(
                    problem,
                    "GET /status should answer within a few seconds: ask the "
                    "upstream once and return its answer.",
                )
            shutdown = [e for e in web.errors if e.where == "lifespan"]
            if shutdown:
                fail(f"The app's shutdown raised {shutdown[0].message}.", HINT_CLOSE)
            _judge_downstream(upstream, len(senders.clients))
            _judge_closed(upstream)

    quietly(scenario, slips=KNOWN_SLIPS)
    return (
        f"{REQUESTS} requests, {AT_ONCE} at a time, went downstream over at most {AT_ONCE} "
        "connections, all closed by the client when the app shut down: one client for "
        "the app's whole life."
    )

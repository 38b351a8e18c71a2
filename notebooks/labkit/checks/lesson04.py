"""Check for 04_building_a_client_facade: `Fetcher`, a class that owns or borrows an httpx.Client.

`check_fetcher(Fetcher)` runs these scenarios in order, against real lab servers; the first one
that goes wrong gives the verdict. Each is a function below, named after what it proves.

 1. borrowed: `Fetcher(client)`, a fresh client. Three fetches, all on that client, one TCP
    connection; `close()` leaves the client open.
 2. borrowed, inside the caller's `with client:`. `with Fetcher(client) as f` gives the Fetcher;
    leaving it leaves the client open and usable.
 3. borrowed, a client the caller already used without `with`: it works and reuses the connection.
 4. owned: `Fetcher(verify=...)` (a CheckServer's settings). Three fetches on one TCP connection.
 5. owned, settings reach `httpx.Client`: a `transport=` that notes requests and its closing.
    a) `close()` closes the client, and a second `close()` is harmless;
    b) `with Fetcher(transport=...) as f` gives the Fetcher, and leaving the block closes the
       client. (A Fetcher without __enter__/__exit__ is told so in scenario 2.)
 6. owned, over HTTPS: `verify=` (the lab's CA), `timeout=` and `event_hooks=` all pass through.
 7. after `close()`, `fetch()` raises RuntimeError and sends nothing (borrowed and owned).
 8. `Fetcher(client, timeout=...)` raises TypeError: the timeout would be silently ignored.
 9. `owns_client` is True (owned) or False (borrowed), and setting it raises AttributeError.
10. a 404 or a 500 answer raises `httpx.HTTPStatusError`.
11. correct use raises no warnings (a ResourceWarning for a real mistake is fine).
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx

from ..server import LabServer
from ._evidence import expect_body, kind, recorder
from ._facade import (HINT_CLIENT_AND_SETTINGS, HINT_STATUS, SYNC, judge_left_open,
                      judge_one_connection, judge_owns_client, judge_warnings, need_a_class,
                      need_context_manager)
from ._framework import CheckServer, describe, exercise_check, fail, learner_call, quietly

F = SYNC  # how this lesson spells the shared texts: Fetcher, httpx.Client, `with`, close()


class _SpyTransport(httpx.HTTPTransport):
    """A real HTTP transport that counts the requests it carries and notes when it is closed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requests = 0
        self.closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return super().handle_request(request)

    def close(self) -> None:  # what httpx.Client.close() calls
        self.closed = True
        super().close()

    def __exit__(self, *exc_info: Any) -> None:  # what leaving `with httpx.Client(...)` calls
        self.closed = True
        super().__exit__(*exc_info)


def _close_leftovers(fetcher: object, keep: httpx.Client | None = None) -> None:
    """Close any client a (wrong) Fetcher left open, so the check itself leaks no sockets."""
    for value in list(vars(fetcher).values()) if hasattr(fetcher, "__dict__") else []:
        if isinstance(value, httpx.Client) and value is not keep:
            value.close()


def _fetch_three(fetcher: Any, server: LabServer, situation: str, hint: str) -> None:
    for n, delay in enumerate(("0.001", "0.002", "0.003"), start=1):  # bodies tell answers apart
        response = learner_call(f"fetch() (call {n} of 3, {situation})", fetcher.fetch,
                                f"{server.url}/delay/{delay}", hint=hint)
        expect_body(response, f"waited {delay} s\n", f"fetch() (call {n} of 3, {situation})")


def borrowed_client_is_used_and_left_open(candidate: type, server: LabServer) -> None:
    """Scenario 1: a borrowed client carries every fetch and stays open after close()."""
    server.reset()
    sent: list[httpx.Request] = []
    client = httpx.Client(**server.client_kwargs(), **recorder(sent))
    fetcher: Any = None
    try:
        fetcher = learner_call("Fetcher(client)", candidate, client, hint=F.hint_borrowed)
        _fetch_three(fetcher, server, "borrowed client", F.hint_no_with)
        if len(sent) < 3:
            fail(f"fetch() sent {len(sent)} of its 3 requests on the client it was given (the "
                 f"server saw {server.connections_opened} TCP connections).",
                 "Use the client you were given: don't make a client in fetch().")
        learner_call("close() (borrowed client)", fetcher.close, hint=F.hint_borrowed)
        judge_left_open(F, client, "close()")
        judge_one_connection(server, "3 fetches with a borrowed client")
    finally:
        _close_leftovers(fetcher, keep=client)  # e.g. a client of its own, beside this one
        client.close()


def works_inside_the_callers_with(candidate: type, server: LabServer) -> None:
    """Scenario 2: the caller's client is already open; the Fetcher must not enter or close it."""
    server.reset()
    with httpx.Client(**server.client_kwargs()) as client:  # the caller opened it already
        situation = "inside the caller's `with client:`"
        fetcher = learner_call(f"Fetcher(client) {situation}", candidate, client,
                               hint=F.hint_no_with)
        try:
            need_context_manager(F, candidate)
            block = contextlib.ExitStack()
            entered = learner_call(f"`with Fetcher(client) as f:` {situation}",
                                   block.enter_context, fetcher, hint=F.hint_no_with)
            if entered is not fetcher:
                fail(f"`with Fetcher(client) as f:` made f {kind(entered)}, not the Fetcher.",
                     F.hint_enter)
            _fetch_three(fetcher, server, situation, F.hint_no_with)
            learner_call(f"leaving `with Fetcher(client) as f:` {situation}", block.close,
                         hint=F.hint_borrowed)
            judge_left_open(F, client, "leaving `with Fetcher(client) as f:`")
        finally:
            _close_leftovers(fetcher, keep=client)
        client.get(server.url + "/")  # the caller's client still works after the Fetcher's `with`
    judge_one_connection(server, "3 fetches inside the caller's `with client:`")


def works_with_a_client_used_before(candidate: type, server: LabServer) -> None:
    """Scenario 3: a client used without `with` is open too (it opened on its first request)."""
    server.reset()
    client = httpx.Client(**server.client_kwargs())
    fetcher: Any = None
    try:
        client.get(server.url + "/")  # used without `with`: the client is open now
        situation = "with a client the caller already used"
        fetcher = learner_call(f"Fetcher(client) {situation}", candidate, client,
                               hint=F.hint_no_with)
        _fetch_three(fetcher, server, situation, F.hint_no_with)
        learner_call(f"close() {situation}", fetcher.close, hint=F.hint_borrowed)
        judge_left_open(F, client, "close()")
        judge_one_connection(server, "the caller's request and 3 fetches")
    finally:
        _close_leftovers(fetcher, keep=client)
        client.close()


def owned_client_is_reused(candidate: type, server: LabServer) -> None:
    """Scenario 4: an owned client is made once and reused: one TCP connection for three fetches."""
    server.reset()
    settings = server.client_kwargs()
    fetcher = learner_call(F.owned(settings), candidate, **settings, hint=F.hint_settings)
    try:
        _fetch_three(fetcher, server, "owned client", F.hint_owned)
        judge_one_connection(server, "3 fetches with an owned client", F.hint_owned,
                             guess=": a new client per fetch?")
        learner_call("close() (owned client)", fetcher.close, hint=F.hint_owned)
    finally:
        _close_leftovers(fetcher)


def owned_client_is_closed_by_close(candidate: type, server: LabServer) -> None:
    """Scenario 5a: the settings reach httpx.Client, and close() closes it (twice is harmless)."""
    spy = _SpyTransport(**server.client_kwargs())
    fetcher: Any = None
    try:
        fetcher = learner_call("Fetcher(transport=...)", candidate, transport=spy,
                               hint=F.hint_settings)
        for _ in range(2):
            learner_call("fetch() (owned client)", fetcher.fetch, server.url + "/",
                         hint=F.hint_owned)
        if spy.requests != 2:
            fail(f"Fetcher(transport=...) did not give its settings to httpx.Client: the "
                 f"transport carried {spy.requests} of 2 requests.",
                 "Make the client with httpx.Client(**client_kwargs).")
        learner_call("close() (owned client)", fetcher.close, hint=F.hint_owned)
        if not spy.closed:
            fail("close() did not close the client the Fetcher made (owns_client is True): its "
                 "connections stay open.", "In close(), close the client when the Fetcher made it.")
        learner_call("close() a second time", fetcher.close,
                     hint="close() must be harmless when called again (httpx's own close() is).")
    finally:
        httpx.HTTPTransport.close(spy)  # whatever the Fetcher did, no socket stays open
        _close_leftovers(fetcher)


def owned_client_is_closed_by_with(candidate: type, server: LabServer) -> None:
    """Scenario 5b: `with Fetcher(transport=...) as f` gives the Fetcher; leaving it closes the
    client."""
    spy = _SpyTransport(**server.client_kwargs())
    fetcher: Any = None
    try:
        fetcher = learner_call("Fetcher(transport=...)", candidate, transport=spy,
                               hint=F.hint_settings)
        block, within = contextlib.ExitStack(), "`with Fetcher(transport=...) as f:`"
        entered = learner_call(within, block.enter_context, fetcher, hint=F.hint_enter)
        if entered is not fetcher:
            fail(f"{within} made f {kind(entered)}, not the Fetcher.", F.hint_enter)
        learner_call(f"fetch() inside {within}", fetcher.fetch, server.url + "/", hint=F.hint_owned)
        learner_call(f"leaving {within}", block.close, hint=F.hint_enter)
        if not spy.closed:
            fail(f"leaving {within} did not close the client the Fetcher made.", F.hint_enter)
    finally:
        httpx.HTTPTransport.close(spy)
        _close_leftovers(fetcher)


def owned_client_over_https(candidate: type) -> None:
    """Scenario 6: the lab's CA (verify=), a timeout and event hooks all reach the client."""
    with CheckServer(tls=True) as tls_server:
        sent: list[httpx.Request] = []
        settings = {**tls_server.client_kwargs(), "timeout": httpx.Timeout(4.5), **recorder(sent)}
        fetcher = learner_call(F.owned(settings), candidate, **settings, hint=F.hint_settings)
        try:
            block = contextlib.ExitStack()
            learner_call("`with Fetcher(verify=...) as f:`", block.enter_context, fetcher,
                         hint=F.hint_enter)
            _fetch_three(fetcher, tls_server, "owned client, HTTPS",
                         "Pass **client_kwargs on to httpx.Client(...): here they hold verify= "
                         "(trust in the lab's certificate authority) and timeout=.")
            learner_call("leaving `with Fetcher(verify=...) as f:`", block.close, hint=F.hint_enter)
            timeouts = {r.extensions.get("timeout", {}).get("read") for r in sent}
            if len(sent) != 3 or timeouts != {4.5}:
                fail("Fetcher(timeout=..., event_hooks=...) did not give those settings to its "
                     "httpx.Client.", "Make the client with httpx.Client(**client_kwargs).")
            judge_one_connection(tls_server, "3 fetches over HTTPS", F.hint_owned,
                                 guess=": each one a TLS handshake.")
        finally:
            _close_leftovers(fetcher)


def fetch_after_close_raises(candidate: type, server: LabServer) -> None:
    """Scenario 7: a closed Fetcher refuses to work, even when its (borrowed) client still could."""
    hint = F.hint_after_close
    sent: list[httpx.Request] = []
    with httpx.Client(**server.client_kwargs(), **recorder(sent)) as client:
        settings = server.client_kwargs()
        for whose, make in (("borrowed", lambda: candidate(client)),
                           ("owned", lambda: candidate(**settings))):
            what = "Fetcher(client)" if whose == "borrowed" else F.owned(settings)
            fetcher = learner_call(what, make, hint=F.hint_owned)
            try:
                learner_call(f"fetch() ({whose} client)", fetcher.fetch, server.url + "/",
                             hint=hint)
                learner_call(f"close() ({whose} client)", fetcher.close, hint=hint)
                before = len(sent)
                problem = ""  # failing outside `except` keeps no traceback of the learner's frames
                try:
                    fetcher.fetch(server.url + "/")
                except RuntimeError:
                    pass
                except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
                    problem = (f"fetch() after close() ({whose} client) raised {describe(exc)}, "
                               "not RuntimeError.")
                else:
                    where = ", sent on the caller's client" if len(sent) > before else ""
                    problem = f"fetch() after close() still worked ({whose} client{where})."
                if problem:
                    fail(problem, hint)
            finally:
                _close_leftovers(fetcher, keep=client)


def client_and_settings_raise_type_error(candidate: type, server: LabServer) -> None:
    """Scenario 8: a client plus settings for a client is a mistake to refuse, not to ignore."""
    hint = HINT_CLIENT_AND_SETTINGS
    with httpx.Client(**server.client_kwargs()) as client:
        try:
            fetcher = candidate(client, timeout=1.0)
        except TypeError:
            return
        except Exception as exc:  # noqa: BLE001
            problem = f"Fetcher(client, timeout=1.0) raised {describe(exc)}, not TypeError."
        else:
            _close_leftovers(fetcher, keep=client)
            problem = "Fetcher(client, timeout=1.0) was accepted: that timeout is silently ignored."
    fail(problem, hint)


def owns_client_is_a_read_only_bool(candidate: type, server: LabServer) -> None:
    """Scenario 9: ownership is decided once, in __init__, and can be read but not changed."""
    with httpx.Client(**server.client_kwargs()) as client:
        settings = server.client_kwargs()
        owned = learner_call(F.owned(settings), candidate, **settings, hint=F.hint_settings)
        borrowed = learner_call("Fetcher(client)", candidate, client, hint=F.hint_borrowed)
        try:
            judge_owns_client(F, owned, F.owned(settings), borrowed)
        finally:
            for fetcher in (owned, borrowed):
                with contextlib.suppress(Exception):
                    fetcher.close()
                _close_leftovers(fetcher, keep=client)


def error_status_raises(candidate: type, server: LabServer) -> None:
    """Scenario 10: an error answer raises, so callers can't mistake it for data."""
    hint = HINT_STATUS
    with httpx.Client(**server.client_kwargs()) as client:
        fetcher = learner_call("Fetcher(client)", candidate, client, hint=F.hint_borrowed)
        try:
            for code in (404, 500):
                try:
                    fetcher.fetch(f"{server.url}/status/{code}")
                except httpx.HTTPStatusError:
                    continue
                except Exception as exc:  # noqa: BLE001
                    problem = (f"fetch() of a {code} answer raised {describe(exc)}, "
                               "not httpx.HTTPStatusError.")
                else:
                    problem = (f"fetch() returned a {code} answer instead of raising "
                               "httpx.HTTPStatusError.")
                fail(problem, hint)
            learner_call("close() (borrowed client)", fetcher.close, hint=F.hint_borrowed)
        finally:
            _close_leftovers(fetcher, keep=client)


@exercise_check
def check_fetcher(candidate: type) -> str:
    """`Fetcher(client=None, **client_kwargs)`: owns or borrows a client; gets its life right."""
    need_a_class(F, "check_fetcher", candidate)

    def scenarios() -> None:
        with CheckServer() as server:
            borrowed_client_is_used_and_left_open(candidate, server)
            works_inside_the_callers_with(candidate, server)
            works_with_a_client_used_before(candidate, server)
            owned_client_is_reused(candidate, server)
            owned_client_is_closed_by_close(candidate, server)
            owned_client_is_closed_by_with(candidate, server)
            owned_client_over_https(candidate)
            fetch_after_close_raises(candidate, server)
            client_and_settings_raise_type_error(candidate, server)
            owns_client_is_a_read_only_bool(candidate, server)
            error_status_raises(candidate, server)

    caught = quietly(scenarios)  # learner warnings are judged below, never printed
    judge_warnings(F.name, caught)
    return F.works

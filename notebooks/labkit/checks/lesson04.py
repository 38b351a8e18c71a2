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
import gc
import warnings
from typing import Any

import httpx

from ..server import LabServer
from ._framework import CheckServer, describe, exercise_check, fail, learner_call

HINT_NO_WITH = ("Send with client.get(url) and nothing else: no `with client:` and no "
                "client.__enter__() in fetch, __init__ or __enter__. A client opens by itself on "
                "its first request, a borrowed one may already be open, and leaving "
                "`with client:` closes a client for good.")
HINT_BORROWED = ("A borrowed client is the caller's: use it, but never enter it (`with client:`, "
                 "client.__enter__()) or close it. Close only a client your Fetcher made.")
HINT_OWNED = ("Make the client once, in __init__, with httpx.Client(**client_kwargs); reuse it in "
              "every fetch; close it once, in close().")
HINT_SETTINGS = ("Accept any client settings as **client_kwargs (the check passes verify=, "
                 "timeout=, transport=...) and make the client once, in __init__, with "
                 "httpx.Client(**client_kwargs).")
HINT_ENTER = "__enter__ should return self (the Fetcher), and __exit__ should call self.close()."


def _owned(settings: dict[str, Any]) -> str:
    """`Fetcher(verify=...)`: how the check made an owned Fetcher, so a verdict names it truly."""
    return f"Fetcher({', '.join(f'{name}=...' for name in settings)})"


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


def _expect_body(response: object, body: str, what: str) -> None:
    if not isinstance(response, httpx.Response):
        fail(f"{what} returned {_kind(response)}, not an httpx.Response.",
             "Return the response itself, after response.raise_for_status().")
    if response.text != body:
        fail(f"{what} returned an answer with the body {response.text!r}, not {body!r}.",
             "GET the url you were given and return that response.")


def _kind(value: object) -> str:
    """`None`, `the httpx.Client`, `a str`: what the learner's code gave back, in words."""
    if value is None:
        return "None"
    if isinstance(value, httpx.Client):
        return "the httpx.Client"
    return f"a {type(value).__name__}"


def _recorder(sent: list[httpx.Request]) -> dict[str, Any]:
    """Client settings that note every request the client sends: proof of which client sent it."""
    return {"event_hooks": {"request": [sent.append]}}


def _close_leftovers(fetcher: object, keep: httpx.Client | None = None) -> None:
    """Close any client a (wrong) Fetcher left open, so the check itself leaks no sockets."""
    for value in list(vars(fetcher).values()) if hasattr(fetcher, "__dict__") else []:
        if isinstance(value, httpx.Client) and value is not keep:
            value.close()


def _fetch_three(fetcher: Any, server: LabServer, situation: str, hint: str) -> None:
    for n, delay in enumerate(("0.001", "0.002", "0.003"), start=1):  # bodies tell answers apart
        response = learner_call(f"fetch() (call {n} of 3, {situation})", fetcher.fetch,
                                f"{server.url}/delay/{delay}", hint=hint)
        _expect_body(response, f"waited {delay} s\n", f"fetch() (call {n} of 3, {situation})")


def borrowed_client_is_used_and_left_open(candidate: type, server: LabServer) -> None:
    """Scenario 1: a borrowed client carries every fetch and stays open after close()."""
    server.reset()
    sent: list[httpx.Request] = []
    client = httpx.Client(**server.client_kwargs(), **_recorder(sent))
    try:
        fetcher = learner_call("Fetcher(client)", candidate, client, hint=HINT_BORROWED)
        _fetch_three(fetcher, server, "borrowed client", HINT_NO_WITH)
        if len(sent) < 3:
            fail(f"fetch() sent {len(sent)} of its 3 requests on the client it was given (the "
                 f"server saw {server.connections_opened} TCP connections).",
                 "Use the client you were given: don't make a client in fetch().")
        learner_call("close() (borrowed client)", fetcher.close, hint=HINT_BORROWED)
        if client.is_closed:
            fail("close() closed the client the Fetcher was given (borrowed).", HINT_BORROWED)
        if server.connections_opened != 1:
            fail(f"3 fetches with a borrowed client opened {server.connections_opened} TCP "
                 "connections, not 1.", "Send every request with the client you were given.")
    finally:
        client.close()


def works_inside_the_callers_with(candidate: type, server: LabServer) -> None:
    """Scenario 2: the caller's client is already open; the Fetcher must not enter or close it."""
    server.reset()
    with httpx.Client(**server.client_kwargs()) as client:  # the caller opened it already
        situation = "inside the caller's `with client:`"
        fetcher = learner_call(f"Fetcher(client) {situation}", candidate, client,
                               hint=HINT_NO_WITH)
        missing = [name for name in ("__enter__", "__exit__") if not hasattr(candidate, name)]
        if missing:
            fail(f"Fetcher has no {' and no '.join(missing)}, so `with Fetcher(client) as f:` "
                 "can't work.", HINT_ENTER)
        block = contextlib.ExitStack()
        entered = learner_call(f"`with Fetcher(client) as f:` {situation}", block.enter_context,
                               fetcher, hint=HINT_NO_WITH)
        if entered is not fetcher:
            fail(f"`with Fetcher(client) as f:` made f {_kind(entered)}, not the Fetcher.",
                 HINT_ENTER)
        _fetch_three(fetcher, server, situation, HINT_NO_WITH)
        learner_call(f"leaving `with Fetcher(client) as f:` {situation}", block.close,
                     hint=HINT_BORROWED)
        if client.is_closed:
            fail("leaving `with Fetcher(client) as f:` closed the client it was given (borrowed).",
                 HINT_BORROWED)
        client.get(server.url + "/")  # the caller's client still works after the Fetcher's `with`
    if server.connections_opened != 1:
        fail(f"3 fetches inside the caller's `with client:` opened {server.connections_opened} "
             "TCP connections, not 1.", "Send every request with the client you were given.")


def works_with_a_client_used_before(candidate: type, server: LabServer) -> None:
    """Scenario 3: a client used without `with` is open too (it opened on its first request)."""
    server.reset()
    client = httpx.Client(**server.client_kwargs())
    try:
        client.get(server.url + "/")  # used without `with`: the client is open now
        situation = "with a client the caller already used"
        fetcher = learner_call(f"Fetcher(client) {situation}", candidate, client, hint=HINT_NO_WITH)
        _fetch_three(fetcher, server, situation, HINT_NO_WITH)
        learner_call(f"close() {situation}", fetcher.close, hint=HINT_BORROWED)
        if client.is_closed:
            fail("close() closed the client the Fetcher was given (borrowed).", HINT_BORROWED)
        if server.connections_opened != 1:
            fail(f"the caller's request and 3 fetches opened {server.connections_opened} TCP "
                 "connections, not 1.", "Send every request with the client you were given.")
    finally:
        client.close()


def owned_client_is_reused(candidate: type, server: LabServer) -> None:
    """Scenario 4: an owned client is made once and reused: one TCP connection for three fetches."""
    server.reset()
    settings = server.client_kwargs()
    fetcher = learner_call(_owned(settings), candidate, **settings, hint=HINT_SETTINGS)
    try:
        _fetch_three(fetcher, server, "owned client", HINT_OWNED)
        if server.connections_opened != 1:
            fail(f"3 fetches with an owned client opened {server.connections_opened} TCP "
                 "connections, not 1: a new client per fetch?", HINT_OWNED)
        learner_call("close() (owned client)", fetcher.close, hint=HINT_OWNED)
    finally:
        _close_leftovers(fetcher)


def owned_client_is_closed_by_close(candidate: type, server: LabServer) -> None:
    """Scenario 5a: the settings reach httpx.Client, and close() closes it (twice is harmless)."""
    spy = _SpyTransport(**server.client_kwargs())
    fetcher: Any = None
    try:
        fetcher = learner_call("Fetcher(transport=...)", candidate, transport=spy,
                               hint=HINT_SETTINGS)
        for _ in range(2):
            learner_call("fetch() (owned client)", fetcher.fetch, server.url + "/", hint=HINT_OWNED)
        if spy.requests != 2:
            fail(f"Fetcher(transport=...) did not give its settings to httpx.Client: the "
                 f"transport carried {spy.requests} of 2 requests.",
                 "Make the client with httpx.Client(**client_kwargs).")
        learner_call("close() (owned client)", fetcher.close, hint=HINT_OWNED)
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
                               hint=HINT_SETTINGS)
        block = contextlib.ExitStack()
        entered = learner_call("`with Fetcher(transport=...) as f:`", block.enter_context,
                               fetcher, hint=HINT_ENTER)
        if entered is not fetcher:
            fail(f"`with Fetcher(transport=...) as f:` made f {_kind(entered)}, not the "
                 "Fetcher.", HINT_ENTER)
        learner_call("fetch() inside `with Fetcher(transport=...) as f:`", fetcher.fetch,
                     server.url + "/", hint=HINT_OWNED)
        learner_call("leaving `with Fetcher(transport=...) as f:`", block.close,
                     hint=HINT_ENTER)
        if not spy.closed:
            fail("leaving `with Fetcher(transport=...) as f:` did not close the client the "
                 "Fetcher made.", HINT_ENTER)
    finally:
        httpx.HTTPTransport.close(spy)
        _close_leftovers(fetcher)


def owned_client_over_https(candidate: type) -> None:
    """Scenario 6: the lab's CA (verify=), a timeout and event hooks all reach the client."""
    with CheckServer(tls=True) as tls_server:
        sent: list[httpx.Request] = []
        settings = {**tls_server.client_kwargs(), "timeout": httpx.Timeout(4.5), **_recorder(sent)}
        fetcher = learner_call("Fetcher(verify=..., timeout=..., event_hooks=...)", candidate,
                               **settings, hint=HINT_OWNED)
        try:
            block = contextlib.ExitStack()
            learner_call("`with Fetcher(verify=...) as f:`", block.enter_context, fetcher,
                         hint=HINT_ENTER)
            _fetch_three(fetcher, tls_server, "owned client, HTTPS",
                         "Pass **client_kwargs on to httpx.Client(...): here they hold verify= "
                         "(trust in the lab's certificate authority) and timeout=.")
            learner_call("leaving `with Fetcher(verify=...) as f:`", block.close, hint=HINT_ENTER)
            timeouts = {r.extensions.get("timeout", {}).get("read") for r in sent}
            if len(sent) != 3 or timeouts != {4.5}:
                fail("Fetcher(timeout=..., event_hooks=...) did not give those settings to its "
                     "httpx.Client.", "Make the client with httpx.Client(**client_kwargs).")
            if tls_server.connections_opened != 1:
                fail(f"3 fetches over HTTPS opened {tls_server.connections_opened} TCP "
                     "connections (and TLS handshakes), not 1.", HINT_OWNED)
        finally:
            _close_leftovers(fetcher)


def fetch_after_close_raises(candidate: type, server: LabServer) -> None:
    """Scenario 7: a closed Fetcher refuses to work, even when its (borrowed) client still could."""
    hint = ("Note in close() that the Fetcher is closed, and make fetch() raise RuntimeError "
            "then: a closed Fetcher must not work, even if its client still does.")
    sent: list[httpx.Request] = []
    with httpx.Client(**server.client_kwargs(), **_recorder(sent)) as client:
        settings = server.client_kwargs()
        for kind, make in (("borrowed", lambda: candidate(client)),
                           ("owned", lambda: candidate(**settings))):
            what = "Fetcher(client)" if kind == "borrowed" else _owned(settings)
            fetcher = learner_call(what, make, hint=HINT_OWNED)
            try:
                learner_call(f"fetch() ({kind} client)", fetcher.fetch, server.url + "/", hint=hint)
                learner_call(f"close() ({kind} client)", fetcher.close, hint=hint)
                before = len(sent)
                try:
                    fetcher.fetch(server.url + "/")
                except RuntimeError:
                    pass
                except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
                    fail(f"fetch() after close() ({kind} client) raised {describe(exc)}, "
                         "not RuntimeError.", hint)
                else:
                    where = ", sent on the caller's client" if len(sent) > before else ""
                    fail(f"fetch() after close() still worked ({kind} client{where}).", hint)
            finally:
                _close_leftovers(fetcher, keep=client)


def client_and_settings_raise_type_error(candidate: type, server: LabServer) -> None:
    """Scenario 8: a client plus settings for a client is a mistake to refuse, not to ignore."""
    hint = ("Raise TypeError in __init__ when both a client and client settings are given: "
            "the settings can't reach a client that already exists.")
    with httpx.Client(**server.client_kwargs()) as client:
        try:
            fetcher = candidate(client, timeout=1.0)
        except TypeError:
            return
        except Exception as exc:  # noqa: BLE001
            fail(f"Fetcher(client, timeout=1.0) raised {describe(exc)}, not TypeError.", hint)
        _close_leftovers(fetcher, keep=client)
        fail("Fetcher(client, timeout=1.0) was accepted: that timeout is silently ignored.", hint)


def owns_client_is_a_read_only_bool(candidate: type, server: LabServer) -> None:
    """Scenario 9: ownership is decided once, in __init__, and can be read but not changed."""
    hint = ("close() trusts owns_client: if it could change, a Fetcher could close a client it "
            "only borrowed. Decide it once in __init__ (self._owns_client = client is None) and "
            "expose it as a @property without a setter.")
    with httpx.Client(**server.client_kwargs()) as client:
        settings = server.client_kwargs()
        owned = learner_call(_owned(settings), candidate, **settings, hint=HINT_SETTINGS)
        borrowed = learner_call("Fetcher(client)", candidate, client, hint=HINT_BORROWED)
        try:
            for fetcher, what, expected in ((owned, _owned(settings), True),
                                            (borrowed, "Fetcher(client)", False)):
                value = learner_call(f"{what}.owns_client", getattr, fetcher, "owns_client",
                                     hint=hint)
                if callable(value):
                    fail(f"{what}.owns_client is a method; make it a @property.", hint)
                if value is not expected:
                    fail(f"{what}.owns_client is {value!r}, not {expected}.", hint)
            try:
                owned.owns_client = False
            except AttributeError:
                pass
            except Exception as exc:  # noqa: BLE001
                fail(f"setting owns_client raised {describe(exc)}, not AttributeError.", hint)
            else:
                fail("owns_client can be changed: `fetcher.owns_client = False` was accepted.",
                     hint)
        finally:
            for fetcher in (owned, borrowed):
                with contextlib.suppress(Exception):
                    fetcher.close()
                _close_leftovers(fetcher, keep=client)


def error_status_raises(candidate: type, server: LabServer) -> None:
    """Scenario 10: an error answer raises, so callers can't mistake it for data."""
    hint = ("Call response.raise_for_status() before returning the response: it raises "
            "httpx.HTTPStatusError for a 4xx or 5xx answer, so no one mistakes an error for data.")
    with httpx.Client(**server.client_kwargs()) as client:
        fetcher = learner_call("Fetcher(client)", candidate, client, hint=HINT_BORROWED)
        for code in (404, 500):
            try:
                fetcher.fetch(f"{server.url}/status/{code}")
            except httpx.HTTPStatusError:
                continue
            except Exception as exc:  # noqa: BLE001
                fail(f"fetch() of a {code} answer raised {describe(exc)}, "
                     "not httpx.HTTPStatusError.", hint)
            fail(f"fetch() returned a {code} answer instead of raising httpx.HTTPStatusError.",
                 hint)
        learner_call("close() (borrowed client)", fetcher.close, hint=HINT_BORROWED)


@exercise_check
def check_fetcher(candidate: type) -> str:
    """`Fetcher(client=None, **client_kwargs)`: owns or borrows a client; gets its life right."""
    if not isinstance(candidate, type):
        fail(f"check_fetcher needs the class itself, not {type(candidate).__name__}.",
             "Call check_fetcher(Fetcher): the class, not Fetcher() or Fetcher.fetch.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # learner warnings are judged below, never printed
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
        gc.collect()  # anything left behind is collected here, where its warnings are caught
    noise = [w for w in caught if not issubclass(w.category, (ResourceWarning, DeprecationWarning))]
    if noise:
        fail(f"Fetcher warned during correct use: {noise[0].category.__name__}: {noise[0].message}",
             "A warning that fires when all is well is noise, and teaches people to ignore "
             "warnings. Warn only about a real mistake, such as an owned client never closed.")
    return ("Fetcher works: it borrows without opening or closing, owns and closes once, reuses "
            "one connection, and refuses misuse clearly.")

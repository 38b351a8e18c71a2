"""The Fetcher check (lesson 04) and its asyncio twin, the AsyncFetcher check (05): one table.

Each row of SCENARIOS gives the learner's class a client to borrow (in one of three states) or
settings to make its own, takes steps with it (`step_*`), then judges (`judge_*`) read the
frozen `Evidence` it left. The first that goes wrong names a catalogue mistake (`04.*`), in the
flavour's words (`_words`). A new kind of wrong answer costs a row, or a step. Steps and judges
are plain code in both flavours (`_twins`), so the threads check reads as sync code.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import warnings
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..server import LabServer
from ._evidence import OPEN_TWICE, REOPEN, SEND_CLOSED, expect_body, kind, plural
from ._kernel import CheckServer, explain, flunk, is_a, lib, need_class, quietly, scrub_addresses
from ._twins import ASYNC_SLIPS, ClientCount, Twin, closing, judge_kind, judge_warnings

__all__ = ["SCENARIOS", "check_facade"]


@dataclass(frozen=True)
class Given:
    """What the learner's class is given: a client to borrow (in some state), or settings."""

    situation: str  # how a verdict names it; {with_} is the flavour's `with`
    borrowed: bool = False
    caller: str = ""  # the borrowed client: "" fresh, "with" entered by the caller, "used"
    tls: bool = False  # owned, over HTTPS: verify= and timeout= must reach the client
    args: str = "client"  # how a verdict spells the call that made the instance


FRESH = Given("borrowed client", borrowed=True)
IN_WITH = Given("inside the caller's `{with_} client:`", borrowed=True, caller="with")
USED = Given("with a client the caller already used", borrowed=True, caller="used")
OWNED = Given("owned client", args="transport=..., event_hooks=...")
HTTPS = Given("owned client, HTTPS", tls=True, args="verify=..., timeout=..., event_hooks=...")


def _words(t: Twin) -> dict[str, str]:
    """The flavour's words that the catalogue's `04.*` entries take (`{facade}`, `{close}`...)."""
    loop = " (an AsyncClient also belongs to the event loop it first ran in)"
    names = ("facade", "client", "with_", "close", "enter", "exit")  # Twin's own
    return {
        **{name: getattr(t, name) for name in names},
        "get": t.run("client.get(url)"),
        "shut": t.run(f"client.{t.close}()"),
        "call": "await" if t.awaited else "call",
        "article": "an" if t.facade[0] in "AEIOU" else "a",
        "lock": "an asyncio.Lock" if t.awaited else "a threading.Lock",
        "workers": "tasks" if t.awaited else "threads",
        "loop": loop if t.awaited else "",
    }


class _Spy(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A real transport (either flavour) that counts the requests it carries, and its closing."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.requests, self.closed = inner, 0, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return self.inner.handle_request(request)  # type: ignore[no-any-return]

    def handle_async_request(self, request: httpx.Request) -> Coroutine[Any, Any, httpx.Response]:
        self.requests += 1  # the client awaits what the real transport gives back
        return self.inner.handle_async_request(request)  # type: ignore[no-any-return]

    def close(self) -> None:  # what Client.close() and leaving `with client:` call
        self.closed = True
        self.inner.close()

    def aclose(self) -> Coroutine[Any, Any, None]:
        self.closed = True
        return self.inner.aclose()  # type: ignore[no-any-return]


def _clients_of(obj: object) -> Iterator[Any]:
    """The httpx clients an object holds (attributes or slots, or one level inside them)."""
    slots = [getattr(cls, "__slots__", ()) for cls in type(obj).__mro__]
    names = {name for names in slots for name in ([names] if isinstance(names, str) else names)}
    values = [*getattr(obj, "__dict__", {}).values(), *(getattr(obj, n, None) for n in names)]
    for value in values:
        if isinstance(value, dict):
            value = list(value.values())
        for item in value if isinstance(value, (list, tuple, set)) else [value]:
            if is_a(item, "Client", "AsyncClient"):
                yield item


class _Probe(Exception):
    """The error the check raises inside `with Fetcher(...)`: it must reach the caller."""


@dataclass(frozen=True)
class Evidence:
    """What a scenario left behind, for the judges: counts and states, frozen after the steps."""

    given: Given
    words: Mapping[str, str]  # the flavour's words, and how verdicts name this scenario
    fetches: int  # fetch() calls that returned the right response
    sent: tuple[httpx.Request, ...]  # what the request hooks of the check's clients saw
    built: int  # httpx clients built while the learner's code ran
    instances: int  # instances made
    users: int  # instances that fetched: each has made its client by then
    at_once: int  # first fetches made at the same moment (threads, or tasks)
    carried: int | None  # requests the owned clients' transports carried (None: no spy)
    made_closed: bool  # every client the class made ended closed
    given_closed: bool  # the borrowed client ended closed
    ended: str  # how the instance's life ended: "close", "exit", "error" (or "", not yet)
    ended_by: str  # "close()", "leaving `with Fetcher(client) as f:`"...
    connections: int  # TCP connections the lab server saw


class Stage:
    """One row being played: what the learner's class was given, and what it did so far."""

    def __init__(self, t: Twin, candidate: type, row: Scenario, server: LabServer) -> None:
        self.t, self.candidate, self.row, self.server = t, candidate, row, server
        self.given = given = row.given
        situation = given.situation.format(with_=t.with_)
        self.words = {  # and how verdicts name the instance: `Fetcher(client) inside the ...`
            **_words(t),
            "label": f"{t.facade}({given.args})",
            "situation": situation,
            "where": f" {situation}" if given.caller else " over HTTPS" if given.tls else "",
        }
        self.slips = (  # errors whose message names a mistake (for `learner_call`)
            (OPEN_TWICE, "04.opened-client"),
            (REOPEN, "04.opened-client"),
            *(() if given.borrowed else ((SEND_CLOSED, "04.shared-client-error"),)),
            (f"{t.exit}() ", "04.exit-arguments"),  # "takes 1 positional argument", "missing"
            *(ASYNC_SLIPS if t.awaited else ()),
            ("'AsyncClient' object has no attribute 'close'", "05.aclose-calls-close"),
        )
        self.sent: list[httpx.Request] = []  # noted by a request hook: proof of who sent
        self.spies: list[_Spy] = []
        self.count = ClientCount()
        self.client: Any = None  # the caller's, when borrowed
        self.fetchers: list[Any] = []
        self.instances = self.fetches = self.calls = self.at_once = 0
        self.users: set[int] = set()
        self.block = self.ended_by = self.ended = ""  # `with Fetcher(client) as f:`; its end

    def run(self, what: str, mistake: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Call the learner's `fn`: an error is `mistake`, unless its message names another."""
        return self.t.attempt(what, fn, *args, mistake=mistake, slips=self.slips, words=self.words)

    def make(self) -> Any:
        """An instance, made as its caller would: given the client, or settings for its own."""
        args: tuple[Any, ...] = ()
        hooks, mistake = self.t.recorder(self.sent), "04.settings-error"
        if self.given.borrowed:
            args, kwargs = (self.client,), {}
            mistake = "04.opened-client" if self.given.caller else "04.borrowed-error"
        elif self.given.tls:  # verify= and timeout= must reach its client
            kwargs = {**self.server.client_kwargs(), "timeout": lib().Timeout(4.5), **hooks}
        else:  # a spy transport: counts the requests its client carries, and its closing
            self.spies.append(_Spy(self.t.transport_type(**self.server.client_kwargs())))
            kwargs = {"transport": self.spies[-1], **hooks}
        what = f"{self.words['label']}{self.words['where']}"
        fetcher = self.run(what, mistake, functools.partial(self.candidate, *args, **kwargs))
        self.fetchers.append(fetcher)
        self.instances += 1
        return fetcher

    def evidence(self) -> Evidence:
        return Evidence(
            given=self.given,
            words=self.words,
            fetches=self.fetches,
            sent=tuple(self.sent),
            built=self.count.built,
            instances=self.instances,
            users=len(self.users),
            at_once=self.at_once,
            carried=sum(spy.requests for spy in self.spies) if self.spies else None,
            made_closed=all(spy.closed for spy in self.spies),
            given_closed=self.client is not None and self.client.is_closed,
            ended=self.ended,
            ended_by=self.ended_by,
            connections=self.server.connections_opened,
        )

    def play(self) -> None:
        """The caller's client (used, or in its `with`, or fresh), the instance, the steps; then
        the judges, before anything is closed."""
        self.server.reset()
        try:
            if self.given.borrowed:
                kwargs = {**self.server.client_kwargs(), **self.t.recorder(self.sent)}
                self.client = self.t.client_type(**kwargs)
            if self.given.caller == "with":
                self.t.enter_block(self.client)
            if self.given.caller == "used":  # used without `with`: the client is open now
                self.t.call(self.client.get, self.server.url + "/")
                self.sent.clear()
            with self.count.watching(self.t.loop):
                self.make()
                for step in self.row.steps:
                    step(self)
            evidence = self.evidence()
            for judge in (judge_builds, *self.row.judges):
                judge(evidence)
        finally:
            self.cleanup()

    def cleanup(self) -> None:
        """Close whatever the scenario (or a wrong answer) left open: no socket outlives it."""
        t, leftovers = self.t, [c for f in self.fetchers for c in _clients_of(f)]
        for closable in [*leftovers, *(spy.inner for spy in self.spies), self.client]:
            if closable is not None:
                with contextlib.suppress(Exception):  # a wrong answer's leftovers, in any state
                    t.shut(closable)


# --- steps: what the check does with the instance, as its caller would -----------------------


def step_fetch(s: Stage, fetcher: Any = None, what: str = "", delay: str = "") -> None:
    """A fetch of a URL whose body names its delay (by default the row's next one, numbered)."""
    if fetcher is None:
        s.calls += 1
        calls = f"call {s.calls} of {s.row.steps.count(step_fetch)}"
        what = f"fetch() ({calls}, {s.words['situation']})"
        fetcher, delay = s.fetchers[0], f"0.00{s.calls}"
    mistake = "04.opened-client" if s.given.borrowed else "04.owned-error"
    response = s.run(what, mistake, fetcher.fetch, f"{s.server.url}/delay/{delay}")
    s.fetches += 1
    s.users.add(id(fetcher))
    if inspect.iscoroutine(response):
        response.close()  # never run: closed, so Python doesn't warn it was never awaited
    expect_body(response, f"waited {delay} s\n", what)


def step_close(s: Stage, fetcher: Any = None, what: str = "") -> None:
    """close() (or `await aclose()`), by the caller: it must not raise, nor forget an await."""
    fetcher = s.fetchers[0] if fetcher is None else fetcher
    what = what or f"{s.t.close}() ({s.words['situation']})"
    mistake = "04.borrowed-error" if s.given.borrowed else "04.owned-error"
    with warnings.catch_warnings(record=True) as caught:  # a coroutine made, never awaited
        warnings.simplefilter("always")
        s.run(what, mistake, getattr(fetcher, s.t.close))
    for warning in caught:  # to the check's own record, unless it names the missing await
        if "was never awaited" in str(warning.message):
            flunk("05.aclose-not-awaited", what=what, coroutine=str(warning.message).split("'")[1])
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    s.ended, s.ended_by = "close", f"{s.t.close}()"


def step_close_again(s: Stage) -> None:
    s.run(f"{s.t.close}() a second time", "04.close-twice", getattr(s.fetchers[0], s.t.close))


def step_enter(s: Stage) -> None:
    fetcher, t, w = s.fetchers[0], s.t, s.words
    block = "f:` (f, which had fetched already)" if s.fetches else f"{w['label']} as f:`"
    s.block = f"`{t.with_} {block}{w['where']}"
    entered = s.run(s.block, "04.opened-client", getattr(type(fetcher), t.enter), fetcher)
    if entered is not fetcher:
        flunk("04.enter-returns", block=s.block, got=kind(entered), **w)


def step_exit(s: Stage) -> None:
    s.ended, s.ended_by = "exit", f"leaving {s.block}"
    mistake = "04.borrowed-error" if s.given.borrowed else "04.exit-error"
    leave = getattr(type(s.fetchers[0]), s.t.exit)
    s.run(s.ended_by, mistake, leave, s.fetchers[0], None, None, None)


def step_raise_inside(s: Stage) -> None:
    """Leave the block by an error: it must reach the caller, and the closing still happen."""
    s.ended, s.ended_by = "error", f"leaving {s.block} by an error"
    try:
        swallowed = s.t.leave(s.fetchers[0], _Probe("raised inside the block"))
        did = f"swallowed that error: {s.t.exit} returned {scrub_addresses(repr(swallowed))}, so "
        did = "" if not swallowed else did + "the caller never saw it."
    except _Probe:
        did = ""
    except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
        did = f"raised {explain(exc)}"
    if did:
        flunk("04.exit-loses-error", ended_by=s.ended_by, did=did, **s.words)


def step_caller_uses(
    s: Stage, closed: str = "04.closed-borrowed", after: str = "afterwards"
) -> None:
    """The caller goes on using its client: the instance left it open and working."""
    if s.client.is_closed:
        flunk(closed, ended_by=s.ended_by, **s.words)
    before, what = len(s.sent), f"the caller's own request, {after}"
    s.run(what, "04.borrowed-error", s.client.get, s.server.url + "/")
    del s.sent[before:]  # the caller's, not the class's


def step_drop(s: Stage) -> None:
    """Dropped unclosed: its __del__ (if any) runs, and must leave a borrowed client alone.
    For asyncio, in the check's loop, which then runs what __del__ scheduled (an aclose() task)."""

    def drop() -> None:
        s.fetchers.clear()  # the last reference: __del__ runs here (or in the collection)
        gc.collect()

    s.t.call(drop)
    s.t.settle()
    step_caller_uses(s, "04.del-closes-borrowed", f"after dropping the {s.t.facade}")


def step_refused(s: Stage) -> None:
    """A closed instance refuses to work, even when its (borrowed) client still could."""
    before, what = len(s.sent), f"fetch() after {s.t.close}()"
    did = s.t.refuses(RuntimeError, s.fetchers[0].fetch, s.server.url + "/")
    if did == "":
        on = ", sent on the caller's client" if s.given.borrowed and len(s.sent) > before else ""
        did = f"still worked ({s.words['situation']}{on})."
    if did is not None:
        flunk("04.works-after-close", what=what, did=did, **s.words)


def step_statuses(s: Stage) -> None:
    """An error answer raises, so callers can't mistake it for data; a success doesn't."""
    url, fetch_ = f"{s.server.url}/status/", s.fetchers[0].fetch
    for code in (404, 500):
        did = s.t.refuses(lib().HTTPStatusError, fetch_, f"{url}{code}")
        if did is not None:
            did = did or "returned it instead of raising httpx.HTTPStatusError."
            flunk("04.status-not-raised", what=f"fetch() of a {code} answer", did=did, **s.words)
    for code in (201, 203):
        what = f"fetch() of a {code} answer (a success)"
        response = s.run(what, "04.refuses-success", fetch_, f"{url}{code}")
        expect_body(response, f"status {code}\n", what)


def step_race(s: Stage) -> None:
    """Four first fetches at once (threads, or tasks): still one client."""
    s.count.slow, s.at_once = 0.05, 4  # slow builds: a lazy build without a lock races
    what = f"fetch() (4 {s.words['workers']} at once, {s.words['situation']})"
    s.t.together(4, lambda: step_fetch(s, s.fetchers[0], what, "0.01"), count=s.count)


def step_two_instances(s: Stage) -> None:
    """Two owned instances at once: closing one leaves the other working."""
    name, shut = s.t.facade, s.t.close
    first, other = s.fetchers[0], s.make()
    step_fetch(s, first, f"fetch() with the first of two {name}s", "0.001")
    step_fetch(s, other, f"fetch() with the second {name}", "0.002")
    step_close(s, first, f"{shut}() of the first {name}")
    step_fetch(s, other, f"fetch() with the second {name}, after {shut}() of the first", "0.003")
    step_close(s, other, f"{shut}() of the second {name}")


def step_owns_client(s: Stage) -> None:
    """Ownership is decided once, in __init__, and can be read but not changed."""
    fetcher, expected = s.fetchers[0], not s.given.borrowed
    what = f"{s.words['label']}.owns_client"
    value = s.run(what, "04.owns-client-error", getattr, fetcher, "owns_client")
    said = repr(value) if value is None or isinstance(value, (bool, int)) else kind(value)
    got = "is a method; make it a @property." if callable(value) else f"is {said}, not {expected}."
    if callable(value) or value is not expected:
        flunk("04.owns-client", what=what, did=got, **s.words)
    did = s.t.refuses(AttributeError, setattr, fetcher, "owns_client", not expected)
    if did is not None:
        did = did or f"was accepted: `fetcher.owns_client = {not expected}`."
        flunk("04.owns-client", what="setting owns_client", did=did, **s.words)


def step_refuses_both(s: Stage) -> None:
    """A client plus settings for a client is a mistake to refuse, not to ignore."""
    did = s.t.refuses(TypeError, lambda: s.fetchers.append(s.candidate(s.client, timeout=1.0)))
    if did is not None:
        did = did or "was accepted: that timeout is silently ignored."
        flunk("04.accepts-both", what=f"{s.t.facade}(client, timeout=1.0)", did=did, **s.words)


# --- judges: what the evidence must show, once the steps are done --------------------------


def judge_builds(e: Evidence) -> None:
    """Always judged first: clients built, none when borrowing, one per owned instance."""
    w, made = e.words, plural(e.built, e.words["client"])
    if e.given.borrowed and e.built:
        if len(e.sent) < e.fetches:
            seen = f"{w['label']}{w['where']} made {made} of its own"
            flunk("04.ignores-given", sent=len(e.sent), fetches=e.fetches, seen=seen, **w)
        flunk("04.builds-when-borrowing", made=made, **w)
    if e.given.borrowed or e.users <= e.built <= e.instances:
        return  # none when borrowing; one per owned instance (none yet, if made lazily, unused)
    if e.built < e.users:
        two = f"two {w['facade']}s made {made} between them"
        between = two if e.instances > 1 else f"{w['label']} made no {w['client']}"
        flunk("04.shared-client", between=between, **w)
    if e.at_once > 1:
        flunk("04.lazy-without-lock", at_once=e.at_once, made=made, **w)
    flunk("04.client-per-fetch", made=made, fetches=e.fetches, **w)


def judge_on_given(e: Evidence) -> None:
    """Every fetch went on the client it was given, once."""
    sent, fetches = len(e.sent), e.fetches
    if sent < fetches:
        seen = f"the server saw {plural(e.connections, 'TCP connection')}"
        flunk("04.ignores-given", sent=sent, fetches=fetches, seen=seen, **e.words)
    if sent > fetches:
        flunk("04.extra-requests", sent=sent, fetches=fetches, **e.words)


def judge_settings(e: Evidence) -> None:
    """Owned: transport=, event_hooks= (and over HTTPS verify=, timeout=) reached the client."""
    timeouts, seen = {r.extensions["timeout"]["read"] for r in e.sent}, ""
    if e.given.tls and timeouts != {4.5}:
        seen = f"its requests' read timeouts were {timeouts}, not 4.5 s"
    if len(e.sent) != e.fetches:
        seen = f"its event hooks saw {len(e.sent)} of {e.fetches} requests"
    if e.carried not in (None, e.fetches):
        seen = f"the transport carried {e.carried} of {e.fetches} requests"
    if seen:
        flunk("04.settings-ignored", seen=seen, **e.words)


def judge_one_connection(e: Evidence) -> None:
    """One client, used rightly, keeps its connection alive and reuses it."""
    if e.connections != 1:
        mistake = "04.connection-close" if closing(e.sent) else "04.churn"
        before = "the caller's request and " if e.given.caller == "used" else ""
        guess = ": each one a TLS handshake." if e.given.tls else "."
        opened = plural(e.connections, "TCP connection")
        flunk(mistake, before=before, fetches=e.fetches, opened=opened, guess=guess, **e.words)


def judge_given_open(e: Evidence) -> None:
    """A borrowed client is left open, whatever ended the instance."""
    if e.given_closed:
        flunk("04.closed-borrowed", ended_by=e.ended_by, **e.words)


def judge_closed(e: Evidence) -> None:
    """The client the instance made ended closed, by whatever ended the instance."""
    if not e.made_closed:
        mistake = {"exit": "04.exit-not-closing", "error": "04.error-not-closing"}
        flunk(mistake.get(e.ended, "04.close-not-closing"), ended_by=e.ended_by, **e.words)


@dataclass(frozen=True)
class Scenario:
    """A row: the class is made as `given` says, then `steps`, then `judges` read the evidence
    (after `judge_builds`). `again`: played once more, after the others (asyncio: in a new loop)."""

    given: Given
    steps: tuple[Callable[[Stage], None], ...]
    judges: tuple[Callable[[Evidence], None], ...] = ()
    again: bool = False


FETCH3 = (step_fetch, step_fetch, step_fetch)
IN_BLOCK = (step_enter, *FETCH3, step_exit)  # `with Fetcher(...) as f:` and three fetches
ON_GIVEN = (judge_on_given, judge_given_open, judge_one_connection)  # borrowed, rightly used
OWN_CLIENT = (judge_settings, judge_one_connection, judge_closed)  # owned, rightly used
SCENARIOS = (
    Scenario(FRESH, (*FETCH3, step_close), ON_GIVEN),
    Scenario(IN_WITH, (*IN_BLOCK, step_caller_uses), (judge_on_given, judge_one_connection)),
    Scenario(USED, (*FETCH3, step_close), ON_GIVEN),
    Scenario(FRESH, (step_enter, step_fetch, step_raise_inside), (judge_given_open,)),
    Scenario(OWNED, (*FETCH3, step_close, step_close_again), OWN_CLIENT),
    Scenario(OWNED, (step_enter, step_fetch, step_exit), (judge_settings, judge_closed)),
    Scenario(OWNED, (step_fetch, step_enter, step_fetch, step_exit), OWN_CLIENT),
    Scenario(OWNED, (step_enter, step_fetch, step_raise_inside), (judge_closed,)),
    Scenario(OWNED, (step_two_instances,), (judge_settings, judge_closed), again=True),
    Scenario(OWNED, (step_race, step_close), (judge_settings, judge_closed)),
    Scenario(HTTPS, IN_BLOCK, (judge_settings, judge_one_connection)),
    Scenario(FRESH, (step_fetch, step_close, step_refused), (judge_given_open,)),
    Scenario(OWNED, (step_fetch, step_close, step_refused)),
    Scenario(FRESH, (step_refuses_both, step_close)),
    Scenario(OWNED, (step_owns_client, step_close)),
    Scenario(FRESH, (step_owns_client, step_close)),
    Scenario(FRESH, (step_statuses, step_close), (judge_given_open,)),
    Scenario(FRESH, (step_fetch, step_drop), (judge_given_open,)),
)


def _upfront(t: Twin, check: str, candidate: object) -> None:
    """What can be judged before anything runs: a class, with methods of the right kind."""
    need_class(check, t.facade, candidate)
    words = _words(t)
    if inspect.iscoroutinefunction(getattr(candidate, "__init__", None)):
        flunk("05.async-init", **words)
    missing = [method for method in (t.enter, t.exit) if not hasattr(candidate, method)]
    if missing:
        flunk("04.no-context-manager", missing=" and no ".join(missing), **words)
    for method in ("fetch", t.close, t.enter, t.exit):
        if hasattr(candidate, method):
            judge_kind(t, f"{t.facade}.{method}", getattr(candidate, method))
        elif not hasattr(candidate, "__getattr__"):
            flunk("04.no-method", method=method, **words)


def check_facade(t: Twin, check: str, candidate: type) -> str:
    """Play every row of SCENARIOS with the learner's class, in the flavour `t`; the verdict."""
    _upfront(t, check, candidate)

    def scenarios() -> None:
        for rows in (SCENARIOS, [row for row in SCENARIOS if row.again]):  # asyncio: 2 loops
            with contextlib.ExitStack() as stack:
                twin, http = (stack.enter_context(t.running()), stack.enter_context(CheckServer()))
                for row in rows:
                    tls = row.given.tls and stack.enter_context(CheckServer(tls=True))
                    Stage(twin, candidate, row, tls or http).play()

    judge_warnings(t.facade, quietly(scenarios), mistake="04.noise")
    works = "borrows without opening or closing, owns and closes once, reuses one connection"
    return f"{t.facade} works: it {works}, and refuses misuse clearly."

"""The Fetcher check (lesson 04) and its asyncio twin, the AsyncFetcher check (05): one table.

Each row of SCENARIOS says what the learner's class is given (a client to borrow, in one of
three states, or settings to make its own), the steps the check takes with it, and what the
evidence must show afterwards. The evidence: the lab server's count of TCP connections, the
request hook that notes which client sent each request, the httpx clients built while the
learner's code ran (counted as they are made), and whether each client ended open or closed.
One runner, `check_facade`, plays every row in order, for either flavour (`_twins`); the first
that goes wrong gives the verdict. A new kind of wrong answer costs a row, or a step.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import warnings
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ..server import LabServer
from ._evidence import OPEN_TWICE, REOPEN, SEND_CLOSED, expect_body, kind
from ._kernel import CheckServer, Slips, fail, flunk, is_a, lib, quietly, run_in_own_loop
from ._twins import (
    ASYNC_SLIPS,
    ClientCount,
    Twin,
    attempt,
    churn_hint,
    drive,
    explain,
    guard,
    judge_kind,
    judge_warnings,
    plural,
    scrub,
)

__all__ = ["SCENARIOS", "check_facade"]


@dataclass(frozen=True)
class Given:
    """What the learner's class is given: a client to borrow (in some state), or settings."""

    situation: str  # how a verdict names it; {with_} is the flavour's `with`
    borrowed: bool = False
    caller: str = ""  # the borrowed client: "" fresh, "with" entered by the caller, "used"
    tls: bool = False  # owned, over HTTPS: verify= and timeout= must reach the client

    @property
    def where(self) -> str:
        """Said after the class's label: `Fetcher(client) inside the caller's ...`."""
        return f" {self.situation}" if self.caller else " over HTTPS" if self.tls else ""


FRESH = Given("borrowed client", borrowed=True)
IN_WITH = Given("inside the caller's `{with_} client:`", borrowed=True, caller="with")
USED = Given("with a client the caller already used", borrowed=True, caller="used")
OWNED = Given("owned client")
HTTPS = Given("owned client, HTTPS", tls=True)


@dataclass(frozen=True)
class Scenario:
    """A row: the class is made as `given` says, then `steps`, then `evidence` is judged.

    Always judged first: the clients built (none when borrowing, one per owned instance).
    `again`: played once more after the others (asyncio: in a second event loop).
    """

    given: Given
    steps: tuple[str, ...]  # Stage.step_<name>
    evidence: tuple[str, ...] = ()  # Stage.judge_<name>
    again: bool = False


FETCH3 = ("fetch", "fetch", "fetch")
SCENARIOS = (
    Scenario(FRESH, (*FETCH3, "close"), ("on_given", "given_open", "one_connection")),
    Scenario(IN_WITH, ("enter", *FETCH3, "exit", "caller_uses"), ("on_given", "one_connection")),
    Scenario(USED, (*FETCH3, "close"), ("on_given", "given_open", "one_connection")),
    Scenario(FRESH, ("enter", "fetch", "raise_inside"), ("given_open",)),
    Scenario(OWNED, (*FETCH3, "close", "close_again"), ("settings", "one_connection", "closed")),
    Scenario(OWNED, ("enter", "fetch", "exit"), ("settings", "closed")),
    Scenario(OWNED, ("fetch", "enter", "fetch", "exit"), ("one_connection", "closed")),
    Scenario(OWNED, ("enter", "fetch", "raise_inside"), ("closed",)),
    Scenario(OWNED, ("twin",), ("settings", "closed"), again=True),
    Scenario(OWNED, ("race", "close"), ("settings", "closed")),
    Scenario(HTTPS, ("enter", *FETCH3, "exit"), ("settings", "one_connection")),
    Scenario(FRESH, ("fetch", "close", "refused"), ("given_open",)),
    Scenario(OWNED, ("fetch", "close", "refused")),
    Scenario(FRESH, ("refuses_both", "close")),
    Scenario(OWNED, ("owns_client", "close")),
    Scenario(FRESH, ("owns_client", "close")),
    Scenario(FRESH, ("statuses", "close"), ("given_open",)),
    Scenario(FRESH, ("fetch", "drop"), ("given_open",)),
)


class Words:
    """The hints, in one flavour's words (Fetcher, `with`, close() / AsyncFetcher, ...)."""

    def __init__(self, t: Twin) -> None:
        name, client, with_, close = t.facade, t.client, t.with_, t.close
        lock = "an asyncio.Lock" if t.awaited else "a threading.Lock"
        article = "an" if name[0] in "AEIOU" else "a"
        self.no_with = (
            f"Send with {t.run('client.get(url)')} and nothing else: no `{with_} client:` and no "
            f"client.{t.enter}() in fetch, __init__ or {t.enter}. A client opens by itself on "
            f"its first request, a borrowed one may already be open, and leaving `{with_} "
            "client:` closes a client for good."
        )
        self.borrowed = (
            f"A borrowed client is the caller's: use it, but never enter it (`{with_} client:`, "
            f"client.{t.enter}()) or close it ({t.run(f'client.{close}()')}). Close only a "
            f"client your {name} made."
        )
        self.owned = (
            f"Make the client once, in __init__, with {client}(**client_kwargs); reuse "
            f"it in every fetch; close it once, in {close}()."
        )
        self.settings = (
            "Accept any client settings as **client_kwargs (the check passes "
            "transport=, event_hooks=, verify=, timeout=) and make the client once, "
            f"in __init__, with {client}(**client_kwargs)."
        )
        self.enter = (
            f"{t.enter} should return self (the {name}), and {t.exit} should "
            f"{'await' if t.awaited else 'call'} self.{close}()."
        )
        self.exit_args = (
            f"{t.exit} is given the error that ended the block, as three arguments (type, value, "
            f"traceback; three Nones if none did): `def {t.exit}(self, *exc_info):`."
        )
        self.on_error = (
            f"{t.exit} runs however the block ends: close there whatever exc_info "
            "says, and return None, so an error goes on to the caller."
        )
        self.after_close = (
            f"Note in {close}() that the {name} is closed, and make fetch() raise "
            f"RuntimeError then: a closed {name} must not work, even if its "
            "client still does."
        )
        self.owns_client = (
            f"{close}() trusts owns_client: if it could change, {article} {name} could close a "
            "client "
            "it only borrowed. Decide it once in __init__ (self._owns_client = client is None) "
            "and expose it as a @property without a setter."
        )
        self.only_when_none = (
            f"Make a client only when none is given: `client if client is not "
            f"None else {client}(**client_kwargs)`, in __init__."
        )
        self.shared = (
            f"Give each {name} its own client, made in __init__ as self._client: a "
            "class attribute is shared by every instance, and the first "
            f"{close}() closes it for all"
            + (
                " (an AsyncClient also belongs to the event loop it first ran in)."
                if t.awaited
                else "."
            )
        )
        self.lock = (
            f"Make the client in __init__; or, to make it on first use, hold {lock} "
            "while you check for it and make it, so only one is ever made."
        )
        self.closes = {
            f"{close}()": f"In {close}(), close the client when the {name} made it.",
            "leaving": self.enter,
            "by an error": self.on_error,
        }
        self.works = (
            f"{name} works: it borrows without opening or closing, owns and closes "
            "once, reuses one connection, and refuses misuse clearly."
        )


HINT_STATUS = (
    "Call response.raise_for_status() before returning the response: it raises "
    "httpx.HTTPStatusError for a 4xx or 5xx answer, so no one mistakes an error for "
    "data."
)
HINT_SUCCESS = (
    "Raise only for an error answer: response.raise_for_status() raises for a 4xx "
    "or 5xx and lets any 2xx through (201 Created, 203...). `status_code != 200` "
    "refuses successes."
)
HINT_CLIENT_AND_SETTINGS = (
    "Raise TypeError in __init__ when both a client and client settings "
    "are given: the settings can't reach a client that already exists."
)


class _Spy(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A real transport (either flavour) that counts the requests it carries and its closing."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.requests, self.closed = inner, 0, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return self.inner.handle_request(request)  # type: ignore[no-any-return]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)  # type: ignore[no-any-return]

    def close(self) -> None:  # what Client.close() and leaving `with client:` call
        self.closed = True
        self.inner.close()

    async def aclose(self) -> None:
        self.closed = True
        await self.inner.aclose()


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


class Stage:
    """One scenario being played: what the learner's class was given, and the evidence."""

    def __init__(self, t: Twin, candidate: type, row: Scenario, server: LabServer) -> None:
        self.t, self.w, self.candidate, self.row, self.server = t, Words(t), candidate, row, server
        self.given = given = row.given
        self.situation = given.situation.format(with_=t.with_)
        self.where = given.where.format(with_=t.with_)
        self.slips: Slips = (
            (OPEN_TWICE, self.w.no_with),
            (REOPEN, self.w.no_with),
            *(() if given.borrowed else ((SEND_CLOSED, self.w.shared),)),
            *((f"{t.exit}() {words}", self.w.exit_args) for words in ("takes", "missing")),
            *(ASYNC_SLIPS if t.awaited else ()),
            ("'AsyncClient' object has no attribute 'close'", "05.aclose-calls-close"),
        )
        self.sent: list[httpx.Request] = []  # noted by a request hook: proof of who sent
        self.spies: list[_Spy] = []
        self.count = ClientCount()
        self.client: Any = None  # the caller's, when borrowed
        self.fetchers: list[Any] = []
        self.fetches = self.calls = 0  # requests the class was asked for; numbered fetch() calls
        self.users: set[int] = set()  # instances that fetched: each has made its client by now
        self.block = self.ended_by = ""  # "`with Fetcher(client) as f:`"; how its life ended
        names = ("verify", "timeout", "event_hooks") if given.tls else ("transport", "event_hooks")
        self.label = (
            f"{t.facade}(client)"
            if given.borrowed
            else f"{t.facade}({', '.join(f'{n}=...' for n in names)})"
        )

    def settings(self) -> dict[str, Any]:
        """Settings for one owned instance (a spy transport of its own, over HTTP)."""
        hooks = self.t.recorder(self.sent)
        if self.given.tls:
            return {**self.server.client_kwargs(), "timeout": lib().Timeout(4.5), **hooks}
        self.spies.append(_Spy(self.t.transport_type(**self.server.client_kwargs())))
        return {"transport": self.spies[-1], **hooks}

    async def setup(self) -> None:
        self.server.reset()
        if self.given.borrowed:
            self.client = self.t.client_type(
                **self.server.client_kwargs(), **self.t.recorder(self.sent)
            )
            if self.given.caller == "with":
                await self.t.enter_block(self.client)
            if self.given.caller == "used":  # used without `with`: the client is open now
                await self.t.call(self.client.get, self.server.url + "/")
                self.sent.clear()

    async def make(self) -> Any:
        t, kwargs = self.t, {}
        args: tuple[Any, ...] = (self.client,)
        hint = self.w.no_with if self.given.caller else self.w.borrowed
        if not self.given.borrowed:
            args, kwargs, hint = (), self.settings(), self.w.settings
        fetcher = await attempt(
            t,
            f"{self.label}{self.where}",
            self.candidate,
            *args,
            hint=hint,
            slips=self.slips,
            **kwargs,
        )
        self.fetchers.append(fetcher)
        return fetcher

    async def play(self) -> None:
        try:
            await self.setup()
            with self.count.watching():
                await self.make()
                for step in self.row.steps:
                    await getattr(self, f"step_{step}")()
            self.judge_builds()
            for rule in self.row.evidence:
                getattr(self, f"judge_{rule}")()
        finally:
            await self.cleanup()

    async def cleanup(self) -> None:
        """Close whatever the scenario (or a wrong answer) left open: no socket outlives it."""
        t, leftovers = self.t, [c for f in self.fetchers for c in _clients_of(f)]
        for closable in [*leftovers, *(spy.inner for spy in self.spies), self.client]:
            if closable is not None:
                try:
                    await t.shut(closable)
                except Exception:  # noqa: BLE001, S110 - a wrong answer's leftovers, whatever state
                    pass

    # --- steps ----------------------------------------------------------------------------

    async def fetch(self, fetcher: Any, what: str, delay: str, slips: Slips = ()) -> None:
        """One fetch of a URL whose body names its delay: the right answer must come back."""
        hint = self.w.no_with if self.given.borrowed else self.w.owned
        if self.given.tls:
            hint = (
                f"Pass **client_kwargs on to {self.t.client}(...): here they hold verify= "
                "(trust in the lab's certificate authority) and timeout=."
            )
        response = await attempt(
            self.t,
            what,
            fetcher.fetch,
            f"{self.server.url}/delay/{delay}",
            hint=hint,
            slips=(*slips, *self.slips),
        )
        self.fetches += 1
        self.users.add(id(fetcher))
        if inspect.iscoroutine(response):
            response.close()  # never run: closed, so Python doesn't warn it was never awaited
        expect_body(response, f"waited {delay} s\n", what)

    async def step_fetch(self) -> None:
        self.calls += 1
        total = self.row.steps.count("fetch")
        await self.fetch(
            self.fetchers[0],
            f"fetch() (call {self.calls} of {total}, {self.situation})",
            f"0.00{self.calls}",
        )

    async def close(self, fetcher: Any, what: str) -> None:
        hint = self.w.borrowed if self.given.borrowed else self.w.owned
        with warnings.catch_warnings(record=True) as caught:  # a coroutine made, never awaited
            warnings.simplefilter("always")
            await guard(self.t, what, self.t.shut(fetcher), hint=hint, slips=self.slips)
        unawaited = [w for w in caught if "was never awaited" in str(w.message)]
        if unawaited:
            coroutine = str(unawaited[0].message).split("'")[1]
            flunk("05.aclose-not-awaited", what=what, coroutine=coroutine)
        for warning in caught:  # the others, to the check's own record
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
        self.ended_by = f"{self.t.close}()"

    async def step_drop(self) -> None:
        """The caller drops the instance without closing it: its __del__ (if any) runs, and
        must leave a borrowed client alone."""
        self.fetchers.clear()
        gc.collect()
        if self.client.is_closed:
            flunk("04.del-closes-borrowed", name=self.t.facade, close=self.t.close)

    async def step_close(self) -> None:
        await self.close(self.fetchers[0], f"{self.t.close}() ({self.situation})")

    async def step_close_again(self) -> None:
        close = self.t.close
        await guard(
            self.t,
            f"{close}() a second time",
            self.t.shut(self.fetchers[0]),
            hint=f"{close}() must be harmless when called again (httpx's own is).",
        )

    async def step_enter(self) -> None:
        fetcher, t = self.fetchers[0], self.t
        self.block = f"`{t.with_} {self.label} as f:`{self.where}"
        entered = await guard(
            t, self.block, t.enter_block(fetcher), hint=self.w.no_with, slips=self.slips
        )
        if entered is not fetcher:
            fail(f"{self.block} made f {kind(entered)}, not the {t.facade}.", self.w.enter)

    async def step_exit(self) -> None:
        self.ended_by = f"leaving {self.block}"
        hint = self.w.borrowed if self.given.borrowed else self.w.enter
        await guard(
            self.t, self.ended_by, self.t.leave(self.fetchers[0]), hint=hint, slips=self.slips
        )

    async def step_raise_inside(self) -> None:
        """Leave the block by an error: it must reach the caller, and the closing still happen."""
        self.ended_by = f"leaving {self.block} by an error"
        problem, exit_ = "", self.t.exit
        try:
            swallowed = await self.t.leave(self.fetchers[0], _Probe("raised inside the block"))
        except _Probe:
            swallowed = False
        except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
            problem = f"{self.ended_by} raised {explain(exc)}"
        else:
            if swallowed:
                problem = (
                    f"{self.ended_by} swallowed that error: {exit_} returned "
                    f"{scrub(repr(swallowed))}, so the caller never saw it."
                )
        if problem:
            fail(problem, self.w.on_error)

    async def step_caller_uses(self) -> None:
        self.judge_given_open()
        before = len(self.sent)
        await attempt(
            self.t,
            "the caller's own request, afterwards",
            self.client.get,
            self.server.url + "/",
            hint=self.w.borrowed,
        )
        del self.sent[before:]  # the caller's, not the class's

    async def refuse(
        self,
        what: str,
        action: Awaitable[Any],
        error: type[Exception],
        instead: Callable[[], str],
        hint: str,
    ) -> None:
        """The learner's `action` must raise `error`; if not, `instead()` says what it did."""
        try:
            result = await action
        except error:
            return
        except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
            name = ("httpx." if error.__module__.startswith("httpx") else "") + error.__name__
            problem = f"{what} raised {explain(exc)}, not {name}."
        else:
            if inspect.iscoroutine(result):
                result.close()  # never run: closed, so Python doesn't warn it was never awaited
            problem = f"{what} {instead()}"
        fail(problem, hint)

    async def step_refused(self) -> None:
        """A closed Fetcher refuses to work, even when its (borrowed) client still could."""
        before, fetch = len(self.sent), self.fetchers[0].fetch

        def instead() -> str:
            where = ", sent on the caller's client" if len(self.sent) > before else ""
            return f"still worked ({self.situation}{where if self.given.borrowed else ''})."

        await self.refuse(
            f"fetch() after {self.t.close}()",
            self.t.call(fetch, self.server.url + "/"),
            RuntimeError,
            instead,
            self.w.after_close,
        )

    async def step_statuses(self) -> None:
        """An error answer raises, so callers can't mistake it for data; a success doesn't."""
        url, fetch = f"{self.server.url}/status/", self.fetchers[0].fetch
        for code in (404, 500):
            await self.refuse(
                f"fetch() of a {code} answer",
                self.t.call(fetch, f"{url}{code}"),
                lib().HTTPStatusError,
                lambda: "returned it instead of raising httpx.HTTPStatusError.",
                HINT_STATUS,
            )
        for code in (201, 203):
            what = f"fetch() of a {code} answer (a success)"
            response = await attempt(
                self.t, what, fetch, f"{url}{code}", hint=HINT_SUCCESS, slips=self.slips
            )
            expect_body(response, f"status {code}\n", what)

    async def step_race(self) -> None:
        """Four first fetches at once (threads, or tasks): still one client."""
        self.count.slow = 0.05  # each build takes a while: a lazy build without a lock races
        who = "tasks" if self.t.awaited else "threads"
        try:
            await self.t.together(
                4,
                lambda: self.fetch(
                    self.fetchers[0], f"fetch() (4 {who} at once, {self.situation})", "0.01"
                ),
                count=self.count,
            )
        finally:
            self.count.slow = 0.0

    async def step_twin(self) -> None:
        """Two owned instances at once: closing one leaves the other working."""
        name, close = self.t.facade, self.t.close
        first, other = self.fetchers[0], await self.make()
        await self.fetch(first, f"fetch() with the first of two {name}s", "0.001")
        await self.fetch(other, f"fetch() with the second {name}", "0.002")
        await self.close(first, f"{close}() of the first {name}")
        await self.fetch(
            other, f"fetch() with the second {name}, after {close}() of the first", "0.003"
        )
        await self.close(other, f"{close}() of the second {name}")

    async def step_owns_client(self) -> None:
        """Ownership is decided once, in __init__, and can be read but not changed."""
        fetcher, hint, expected = self.fetchers[0], self.w.owns_client, not self.given.borrowed
        what = f"{self.label}.owns_client"

        async def read() -> Any:
            return fetcher.owns_client

        value = await guard(self.t, what, read(), hint=hint)
        if callable(value):
            fail(f"{what} is a method; make it a @property.", hint)
        if value is not expected:
            said = repr(value) if value is None or isinstance(value, (bool, int)) else kind(value)
            fail(f"{what} is {said}, not {expected}.", hint)

        async def change() -> None:
            fetcher.owns_client = not expected

        await self.refuse(
            "setting owns_client",
            change(),
            AttributeError,
            lambda: f"was accepted: `fetcher.owns_client = {not expected}`.",
            hint,
        )

    async def step_refuses_both(self) -> None:
        """A client plus settings for a client is a mistake to refuse, not to ignore."""

        async def both() -> None:
            self.fetchers.append(self.candidate(self.client, timeout=1.0))

        await self.refuse(
            f"{self.t.facade}(client, timeout=1.0)",
            both(),
            TypeError,
            lambda: "was accepted: that timeout is silently ignored.",
            HINT_CLIENT_AND_SETTINGS,
        )

    # --- evidence -------------------------------------------------------------------------

    def judge_builds(self) -> None:
        """Clients built while the class ran: none when borrowing, one per owned instance."""
        t, steps, built = self.t, self.row.steps, self.count.built
        made = plural(built, t.client)
        if not self.given.borrowed and len(self.users) <= built <= len(self.fetchers):
            return  # one per instance (or none yet, for one made lazily and never used)
        if self.given.borrowed and built == 0:
            return
        if self.given.borrowed and len(self.sent) < self.fetches:
            fail(
                f"fetch() sent {len(self.sent)} of its {self.fetches} requests on the client it "
                f"was given, and {self.label}{self.where} made {made} of its own.",
                f"Send every request with the client you were given. {self.w.only_when_none}",
            )
        if self.given.borrowed:
            fail(
                f"{self.label}{self.where} made {made} of its own, although it was given one.",
                self.w.only_when_none,
            )
        if built < len(self.users):
            between = (
                f"two {t.facade}s made {made} between them"
                if "twin" in steps
                else (f"{self.label} made no {t.client}")
            )
            fail(f"{between}: one client shared by every instance?", self.w.shared)
        if "race" in steps:
            who = "tasks'" if t.awaited else "threads'"
            fail(
                f"4 {who} first fetches made {made} for one {self.label}: a client made on "
                "first use, without a lock?",
                self.w.lock,
            )
        fail(
            f"one {self.label} made {made} for {self.fetches} fetches: a new client per fetch?",
            self.w.owned,
        )

    def judge_on_given(self) -> None:
        """Every fetch went on the client it was given, once."""
        sent, asked = len(self.sent), self.fetches
        if sent < asked:
            fail(
                f"fetch() sent {sent} of its {asked} requests on the client it was given (the "
                f"server saw {plural(self.server.connections_opened, 'TCP connection')}).",
                "Use the client you were given: don't make a client in fetch().",
            )
        if sent > asked:
            fail(
                f"fetch() sent {sent} requests on the client it was given for {asked} fetches.",
                "Send one GET per fetch(), and return its response.",
            )

    def judge_settings(self) -> None:
        """Owned: transport=, event_hooks= (and over HTTPS verify=, timeout=) reached the client."""
        asked, client = self.fetches, self.t.client
        hint = f"Make the client with {client}(**client_kwargs)."
        carried = sum(spy.requests for spy in self.spies)
        if self.spies and carried != asked:
            fail(
                f"{self.label} did not give its settings to {client}: the transport carried "
                f"{carried} of {asked} requests.",
                hint,
            )
        if len(self.sent) != asked:
            fail(
                f"{self.label} did not give its settings to {client}: its event hooks saw "
                f"{len(self.sent)} of {asked} requests.",
                hint,
            )
        if self.given.tls and {r.extensions["timeout"]["read"] for r in self.sent} != {4.5}:
            fail(f"{self.label} did not give timeout= to its {client}.", hint)

    def judge_one_connection(self) -> None:
        """One client, used rightly, keeps its connection alive and reuses it."""
        opened = self.server.connections_opened
        if opened != 1:
            caller = "the caller's request and " if self.given.caller == "used" else ""
            guess = ": each one a TLS handshake." if self.given.tls else "."
            fail(
                f"{caller}{self.fetches} fetches ({self.situation}) opened "
                f"{plural(opened, 'TCP connection')}, not 1{guess}",
                churn_hint(self.sent),
            )

    def judge_given_open(self) -> None:
        if self.client.is_closed:
            fail(
                f"{self.ended_by} closed the client the {self.t.facade} was given (borrowed).",
                self.w.borrowed,
            )

    def judge_closed(self) -> None:
        if not all(spy.closed for spy in self.spies):
            how = next(
                (v for k, v in reversed(self.w.closes.items()) if k in self.ended_by), self.w.owned
            )
            fail(
                f"{self.ended_by} did not close the client the {self.t.facade} made "
                "(owns_client is True): its connections stay open.",
                how,
            )


def _upfront(t: Twin, check: str, candidate: object) -> None:
    """What can be judged before anything runs: a class, with methods of the right kind."""
    name = t.facade
    if not isinstance(candidate, type):
        fail(
            f"{check} needs the class itself, not {kind(candidate)}.",
            f"Call {check}({name}): the class, not {name}() or {name}.fetch.",
        )
    if inspect.iscoroutinefunction(getattr(candidate, "__init__", None)):
        fail(
            f"{name}.__init__ is an async def: Python calls __init__ without awaiting it.",
            f"Make __init__ a plain def: {t.client}(**client_kwargs) needs no await (a client "
            "opens on its first request).",
        )
    missing = [method for method in (t.enter, t.exit) if not hasattr(candidate, method)]
    if missing:
        fail(
            f"{name} has no {' and no '.join(missing)}, so `{t.with_} {name}(client) as f:` "
            "can't work.",
            Words(t).enter,
        )
    for method in ("fetch", t.close, t.enter, t.exit):
        if hasattr(candidate, method):
            judge_kind(t, f"{name}.{method}", getattr(candidate, method))
        elif not hasattr(candidate, "__getattr__"):
            fail(f"{name} has no {method}() method.", Words(t).owned)


def check_facade(t: Twin, check: str, candidate: type) -> str:
    """Play every row of SCENARIOS with the learner's class, in the flavour `t`; the verdict."""
    _upfront(t, check, candidate)

    async def play(rows: Sequence[Scenario]) -> None:
        with contextlib.ExitStack() as servers:
            http, tls = servers.enter_context(CheckServer()), None
            for row in rows:
                if row.given.tls and tls is None:
                    tls = servers.enter_context(CheckServer(tls=True))
                await Stage(t, candidate, row, tls if row.given.tls and tls else http).play()

    def scenarios() -> None:
        for rows in (SCENARIOS, [row for row in SCENARIOS if row.again]):
            if t.awaited:
                run_in_own_loop(functools.partial(play, rows))
            else:
                drive(play(rows))

    judge_warnings(t.facade, quietly(scenarios))
    return Words(t).works

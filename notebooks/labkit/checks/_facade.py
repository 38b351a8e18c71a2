"""What the Fetcher check (lesson 04) shares with its asyncio twin, the AsyncFetcher check (05).

The two checks run the same scenarios; they differ only where asyncio makes them differ (the
awaits). What needs no await lives here once: the hints, the labels a verdict names, and the
judging of `owns_client`, of `with` support and of warnings. So the twins can't drift apart, and
a learner who moves from Fetcher to AsyncFetcher meets the same advice, in that flavour's words.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..server import LabServer
from ._evidence import kind
from ._framework import describe, fail, learner_call

__all__ = ["ASYNC", "HINT_CLIENT_AND_SETTINGS", "HINT_NOISE", "HINT_STATUS", "SYNC", "Flavour",
           "judge_left_open", "judge_one_connection", "judge_owns_client", "judge_warnings",
           "need_a_class", "need_context_manager"]

HINT_STATUS = ("Call response.raise_for_status() before returning the response: it raises "
               "httpx.HTTPStatusError for a 4xx or 5xx answer, so no one mistakes an error for "
               "data.")
HINT_SAME_CLIENT = "Send every request with the client you were given."
HINT_CLIENT_AND_SETTINGS = ("Raise TypeError in __init__ when both a client and client settings "
                            "are given: the settings can't reach a client that already exists.")


@dataclass(frozen=True)
class Flavour:
    """How one twin is spelled (its class, client, `with` and close), so one text serves both."""

    name: str  # the learner's class: "Fetcher"
    client: str  # the client it makes: "httpx.Client"
    awaited: bool  # True for asyncio: `async with`, aclose(), __aenter__, `await client.get(url)`

    @property
    def with_(self) -> str:
        return "async with" if self.awaited else "with"

    @property
    def close(self) -> str:
        """`close()` or `aclose()`: the method that ends a client's (and a Fetcher's) life."""
        return "aclose()" if self.awaited else "close()"

    @property
    def enter(self) -> str:
        return "__aenter__" if self.awaited else "__enter__"

    @property
    def exit(self) -> str:
        return "__aexit__" if self.awaited else "__exit__"

    def run(self, code: str) -> str:
        """`client.get(url)` as the learner writes it: `await client.get(url)` in asyncio."""
        return f"`await {code}`" if self.awaited else f"`{code}`"

    def owned(self, settings: Mapping[str, Any]) -> str:
        """`Fetcher(verify=...)`: how the check made an owned one, so a verdict names it truly."""
        return f"{self.name}({', '.join(f'{name}=...' for name in settings)})"

    @property
    def hint_no_with(self) -> str:
        return (f"Send with {self.run('client.get(url)')} and nothing else: no `{self.with_} "
                f"client:` and no client.{self.enter}() in fetch, __init__ or {self.enter}. A "
                "client opens by itself on its first request, a borrowed one may already be "
                f"open, and leaving `{self.with_} client:` closes a client for good.")

    @property
    def hint_borrowed(self) -> str:
        close = self.run(f"client.{self.close}")
        return (f"A borrowed client is the caller's: use it, but never enter it (`{self.with_} "
                f"client:`, client.{self.enter}()) or close it ({close}). Close only a client "
                f"your {self.name} made.")

    @property
    def hint_owned(self) -> str:
        return (f"Make the client once, in __init__, with {self.client}(**client_kwargs); reuse it "
                f"in every fetch; close it once, in {self.close}.")

    @property
    def hint_settings(self) -> str:
        return ("Accept any client settings as **client_kwargs (the check passes verify=, "
                "timeout=, transport=...) and make the client once, in __init__, with "
                f"{self.client}(**client_kwargs).")

    @property
    def hint_enter(self) -> str:
        verb = "await" if self.awaited else "call"
        return (f"{self.enter} should return self (the {self.name}), and {self.exit} should "
                f"{verb} self.{self.close}.")

    @property
    def hint_after_close(self) -> str:
        return (f"Note in {self.close} that the {self.name} is closed, and make fetch() raise "
                f"RuntimeError then: a closed {self.name} must not work, even if its client "
                "still does.")

    @property
    def hint_owns_client(self) -> str:
        article = "an" if self.name[0] in "AEIOU" else "a"
        return (f"{self.close} trusts owns_client: if it could change, {article} {self.name} "
                "could close a client it only borrowed. Decide it once in __init__ "
                "(self._owns_client = client is None) and expose it as a @property without a "
                "setter.")

    @property
    def works(self) -> str:
        return (f"{self.name} works: it borrows without opening or closing, owns and closes once, "
                "reuses one connection, and refuses misuse clearly.")


SYNC = Flavour("Fetcher", "httpx.Client", awaited=False)
ASYNC = Flavour("AsyncFetcher", "httpx.AsyncClient", awaited=True)


def need_a_class(flavour: Flavour, check: str, candidate: object) -> None:
    """`check_fetcher(Fetcher())` is a common slip: say so before anything runs."""
    if not isinstance(candidate, type):
        fail(f"{check} needs the class itself, not {kind(candidate)}.",
             f"Call {check}({flavour.name}): the class, not {flavour.name}() or "
             f"{flavour.name}.fetch.")


def need_context_manager(flavour: Flavour, candidate: type) -> None:
    """Name a missing __enter__/__exit__ before trying `with`: Python's TypeError names neither."""
    missing = [name for name in (flavour.enter, flavour.exit) if not hasattr(candidate, name)]
    if missing:
        fail(f"{flavour.name} has no {' and no '.join(missing)}, so `{flavour.with_} "
             f"{flavour.name}(client) as f:` can't work.", flavour.hint_enter)


def judge_left_open(flavour: Flavour, client: Any, what: str) -> None:
    """After `what` (close(), leaving `with Fetcher(client)`), a borrowed client is still open."""
    if client.is_closed:
        fail(f"{what} closed the client the {flavour.name} was given (borrowed).",
             flavour.hint_borrowed)


def judge_one_connection(server: LabServer, what: str, hint: str = HINT_SAME_CLIENT, *,
                         guess: str = ".") -> None:
    """`what` ("3 fetches with a borrowed client") went over one TCP connection, the server says.

    One client, used rightly, keeps its connection alive and reuses it: more connections mean
    more clients (or a client closed and reopened) somewhere.
    """
    if server.connections_opened != 1:
        fail(f"{what} opened {server.connections_opened} TCP connections, not 1{guess}", hint)


def judge_owns_client(flavour: Flavour, owned: Any, owned_label: str, borrowed: Any) -> None:
    """`owns_client` is True (owned), False (borrowed), a property, and can't be set.

    Reading and setting an attribute need no await, so both twins judge it here; closing the
    two instances afterwards is theirs to do.
    """
    hint = flavour.hint_owns_client
    for fetcher, what, expected in ((owned, owned_label, True),
                                    (borrowed, f"{flavour.name}(client)", False)):
        value = learner_call(f"{what}.owns_client", getattr, fetcher, "owns_client", hint=hint)
        if callable(value):
            fail(f"{what}.owns_client is a method; make it a @property.", hint)
        if value is not expected:
            fail(f"{what}.owns_client is {value!r}, not {expected}.", hint)
    try:
        owned.owns_client = False
    except AttributeError:
        return
    except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
        problem = f"setting owns_client raised {describe(exc)}, not AttributeError."
    else:
        problem = "owns_client can be changed: `fetcher.owns_client = False` was accepted."
    fail(problem, hint)


HINT_NOISE = ("A warning that fires when all is well is noise, and teaches people to ignore "
              "warnings. Warn only about a real mistake, such as an owned client never closed.")


def judge_warnings(who: str, caught: Sequence[warnings.WarningMessage],
                   hint: str = HINT_NOISE) -> None:
    """A warning during correct use of `who` is noise; a ResourceWarning for a real mistake is fine.

    `caught` are the warnings of a check whose every scenario passed (`quietly` returns them).
    """
    noise = [w for w in caught if not issubclass(w.category, (ResourceWarning, DeprecationWarning))]
    if noise:
        fail(f"{who} warned during correct use: {noise[0].category.__name__}: "
             f"{noise[0].message}", hint)

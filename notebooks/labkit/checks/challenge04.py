"""Challenge for 04_building_a_client_facade: `Fetcher.with_options(**overrides)`.

SDKs such as openai-python offer `client.with_options(timeout=...)`: a second facade with other
per-request settings, on the same client and pool. Its life is the trap: the new facade shares
a client that someone else closes, so it must never close it, and the client must still close,
once, when its owner does. The client's request hook says which client sent each request and
with which headers and timeout; the server says how many TCP connections were opened and
whether they were closed at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from functools import partial
from typing import Any

import httpx

from ._evidence import kind, recorder
from ._kernel import (
    CheckServer,
    exercise_check,
    flunk,
    learner_call,
    lib,
    need_class,
    plural,
    quietly,
)
from ._twins import SYNC

HEADER, VALUE, TIMEOUT = "X-Team", "lab", 2.5
LATER = "lab-2"  # the same header given again, later: it wins, as in a dict merge
OVERRIDES: dict[str, Any] = {"timeout": TIMEOUT, "headers": {HEADER: VALUE}}
FACADE = ("fetch", "close", "__enter__", "__exit__")  # what any Fetcher-like object has


def _derive(fetcher: Any, what: str, **overrides: Any) -> Any:
    """`fetcher.with_options(**overrides)`: a new facade (TypeError: rule 6, unless deepcopy's)."""
    name = f"{what}.with_options(...)"
    slips = (("cannot pickle", "c4.error"), ("TypeError", "c4.settings-on-client"))
    derived = learner_call(name, fetcher.with_options, **overrides, slips=slips, mistake="c4.error")
    if derived is fetcher:
        flunk("c4.same-fetcher", name=name)
    if missing := [f"{m}()" for m in FACADE if not callable(getattr(derived, m, None))]:
        flunk("c4.not-a-facade", name=name, got=kind(derived), missing=" or ".join(missing))
    return derived


def _fetch(fetcher: Any, url: str, what: str, mistake: str = "c4.error") -> None:
    learner_call(f"{what}.fetch()", fetcher.fetch, url, mistake=mistake)


def _judge_requests(sent: list[httpx.Request], new: int, where: str, nested: bool = False) -> None:
    """The request at index `new` (the new facade's) carries OVERRIDES; the others carry none.
    `nested`: that facade was made from a facade, whose parent gave the header."""
    for index, request in enumerate(sent):
        header = request.headers.get(HEADER) == VALUE
        timeout = request.extensions.get("timeout", {}).get("read") == TIMEOUT
        if nested and index == new and timeout and not header:
            flunk("c4.dropped", where=where, timeout=f"{TIMEOUT:g}", header=HEADER)
        if index == new and not (header and timeout):
            wanted = ((f"the {HEADER} header", header), (f"timeout={TIMEOUT:g}", timeout))
            missing = " and ".join(name for name, ok in wanted if not ok)
            flunk("c4.overrides", where=where, missing=missing)
        if index != new and (header or timeout):
            flunk("c4.leak", where=where)


def _shared(fetcher: Any, url: str, sent: list[httpx.Request], opened: Callable[[], int]) -> Any:
    """The Fetcher owns its client: a facade from with_options shares its client and pool, and
    neither its close() nor the end of its `with` closes that client."""
    _fetch(fetcher, url, "Fetcher(...)", "c4.fetcher-error")
    derived = _derive(fetcher, "Fetcher(...)", **OVERRIDES)
    _fetch(derived, url, "the new facade")
    _fetch(fetcher, url, "the original Fetcher")
    if len(sent) < 3:
        flunk("c4.other-client", hooked=len(sent), opened=plural(opened(), "TCP connection"))
    _judge_requests(sent, 1, "owned client")
    if opened() != 1:
        flunk("c4.pool", opened=plural(opened(), "TCP connection"))
    owns = getattr(derived, "owns_client", False)
    if owns is not False:
        flunk("c4.owns", owns=repr(owns))
    learner_call("the new facade's close()", derived.close, mistake="c4.error")
    _fetch(fetcher, url, "after the new facade's close(), the original Fetcher", "c4.closed-shared")
    with_block = _derive(fetcher, "Fetcher(...)", headers={HEADER: VALUE})
    name = "`with fetcher.with_options(...) as f:`"
    entered = learner_call(name, with_block.__enter__, mistake="c4.error")
    _fetch(entered, url, "the facade in its with")
    learner_call(name, with_block.__exit__, None, None, None, mistake="c4.error")
    _fetch(fetcher, url, "the original Fetcher", "c4.closed-by-with")
    return derived


def _owned(candidate: type) -> None:
    """An owned client: both facades share one pool; closing the new one closes nothing."""
    sent: list[httpx.Request] = []
    with CheckServer() as server:
        url = server.url + "/"
        kwargs = {**server.client_kwargs(), **recorder(sent)}
        fetcher = learner_call("Fetcher(...)", candidate, **kwargs, mistake="c4.fetcher-error")
        try:
            derived = _shared(fetcher, url, sent, lambda: server.connections_opened)
        except BaseException:
            with suppress(Exception):  # a verdict is on its way: leave no client open behind it
                fetcher.close()
            raise
        learner_call("Fetcher.close()", fetcher.close, mistake="c4.fetcher-error")
        if not server.wait_until_closed(1.0):
            flunk("c4.unclosed", still=plural(server.open_connections, "TCP connection"))
        did = SYNC.refuses(RuntimeError, derived.fetch, url)
        if did is not None:
            flunk("c4.after", did=did or "still worked")


def _borrowed(candidate: type) -> None:
    """A borrowed client: neither facade closes it; a facade of a facade keeps both overrides."""
    sent: list[httpx.Request] = []
    with CheckServer() as server:
        url = server.url + "/"
        with lib().Client(**server.client_kwargs(), **recorder(sent)) as client:
            name = "Fetcher(client)"
            fetcher = learner_call(name, candidate, client, mistake="c4.fetcher-error")
            parent = _derive(fetcher, name, headers={HEADER: VALUE})
            derived = _derive(parent, "a facade from with_options", timeout=TIMEOUT)
            _fetch(derived, url, "fetcher.with_options(headers=...).with_options(timeout=...)")
            _fetch(fetcher, url, name)
            if len(sent) == 2:
                _judge_requests(sent, 0, "a facade of a facade, on a borrowed client", True)
            # The header given again, later: it must win, as in a dict merge.
            twice = _derive(parent, "a facade from with_options", headers={HEADER: LATER})
            _fetch(twice, url, "fetcher.with_options(headers=...).with_options(headers=...)")
            got = sent[-1].headers.get(HEADER) if len(sent) == 3 else LATER  # else: borrowed-pool's
            if got != LATER:
                flunk("c4.merge-order", header=HEADER, first=VALUE, later=LATER, got=repr(got))
            learner_call("the new facade's close()", derived.close, mistake="c4.error")
            learner_call("Fetcher(client).close()", fetcher.close, mistake="c4.error")
            if client.is_closed:
                flunk("c4.closed-borrowed")
            if len(sent) != 3 or server.connections_opened != 1:
                opened = plural(server.connections_opened, "TCP connection")
                flunk("c4.borrowed-pool", opened=opened, hooked=plural(len(sent), "request"))


@exercise_check
def check_with_options(candidate: type) -> str:
    """`Fetcher.with_options(**overrides)`: a facade on the same client, closed by its owner."""
    need_class("check_with_options", "Fetcher", candidate)
    if not callable(getattr(candidate, "with_options", None)):
        flunk("c4.no-method")
    for scenario in (_owned, _borrowed):
        quietly(partial(scenario, candidate))
    return (
        "with_options works: the new facade sends with its overrides on the same client and "
        "pool, never closes it, and the client still closes once, with its owner."
    )

"""Challenge for 04_building_a_client_facade: `Fetcher.with_options(**overrides)`.

SDKs such as openai-python offer `client.with_options(timeout=...)`: a second facade with other
per-request settings, on the same client and pool. Its life is the trap: the new facade shares
a client that someone else closes, so it must never close it, and the client must still close,
once, when its owner does. The client's request hook says which client sent each request and
with which headers and timeout; the server says how many TCP connections were opened and
whether they were closed at the end.
"""

from __future__ import annotations

from typing import Any

import httpx

from ._evidence import kind, recorder
from ._kernel import (
    CheckFailed,
    CheckServer,
    describe,
    exercise_check,
    learner_call,
    lib,
    plural,
    quietly,
)
from .challenge_hints import HintSteps

HEADER, VALUE, TIMEOUT = "X-Team", "lab", 2.5
OVERRIDES: dict[str, Any] = {"timeout": TIMEOUT, "headers": {HEADER: VALUE}}

STEPS = HintSteps(
    "check_with_options",
    {
        "shape": "",
        "overrides": "Notebook 04, section 3, rule 6 shows why settings can't reach a client that "
        "exists already; httpx's client.get() takes per-request settings too.",
        "leak": "Section 3, rules 1 and 2: what a facade may and may not do to a client it did not "
        "make.",
        "pool": "Section 3, rules 1 and 2: decide ownership once; a facade that shares a client "
        "borrows it.",
        "early": "Section 3, rules 3 and 4: who closes a client, and when. The table after section "
        "2 says it per kind of client.",
        "unclosed": "Section 3, rules 3 and 4: who closes a client, and when.",
        "after": "Section 3, rule 5: a closed facade says so.",
    },
    prefix="c4",
)


def _sent_with(request: httpx.Request) -> tuple[bool, bool]:
    """Did this request carry the header, and the timeout, of OVERRIDES?"""
    timeout = request.extensions.get("timeout", {})
    return request.headers.get(HEADER) == VALUE, timeout.get("read") == TIMEOUT


def _derive(fetcher: Any, what: str, **overrides: Any) -> Any:
    stepped: tuple[str, str] | None = None
    try:
        derived = learner_call(
            f"{what}.with_options(...)",
            fetcher.with_options,
            **overrides,
            hint="with_options(**overrides) returns a new facade on the same "
            "client; fix that error first.",
            slips=(
                (
                    "TypeError",
                    "The client exists already, so its settings "
                    "can't change (rule 6): keep the overrides in the new facade "
                    "and send them with each of its requests, per request.",
                ),
            ),
        )
    except CheckFailed as failure:
        if "TypeError" not in failure.problem:
            raise
        stepped = (failure.problem, failure.hint)
    if stepped is not None:  # a TypeError here is the overrides mistake: its hint steps
        STEPS.fail("overrides", *stepped)
    if derived is fetcher:
        STEPS.fail(
            "shape",
            f"{what}.with_options(...) returned the same Fetcher, changed.",
            "Return a new facade: the Fetcher it was called on must keep its own "
            "settings (its other callers count on them).",
        )
    if not callable(getattr(derived, "fetch", None)):
        STEPS.fail(
            "shape",
            f"{what}.with_options(...) returned {kind(derived)}, not a facade "
            "with a fetch() method.",
            "Return a Fetcher-like object: fetch(url), close(), with-support.",
        )
    return derived


def _fetch(fetcher: Any, url: str, what: str, hint: str, kind_: str = "") -> None:
    try:
        fetcher.fetch(url)
    except NotImplementedError:
        problem = f"Not yet: {what}.fetch() still raises NotImplementedError."
        why = "Write it (Exercise 4.1 first), run that cell, then this check."
        kind_ = ""
    except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
        problem, why = f"{what}.fetch() raised {describe(exc)}", hint
    else:
        return
    if kind_:
        STEPS.fail(kind_, problem, why)
    STEPS.fail("shape", problem, why)


def _judge_requests(
    sent: list[httpx.Request], derived_at: set[int], where: str, nested: bool = False
) -> None:
    """Requests at `derived_at` (indices into sent) carry OVERRIDES; the others carry none.
    `nested`: those came from a facade of a facade, whose parent gave the header."""
    for index, request in enumerate(sent):
        header, timeout = _sent_with(request)
        if nested and index in derived_at and timeout and not header:
            STEPS.fail(
                "dropped",
                f"a request from a facade of a facade ({where}: with_options(headers=...)"
                f".with_options(timeout=...)) carried timeout={TIMEOUT:g} but not the {HEADER} "
                "header its parent was made with: the second with_options dropped the first "
                "one's overrides.",
                "A facade made from a facade keeps its parent's overrides and adds its own: "
                "merge them (`{**self._options, **overrides}`), don't start again from the "
                "given ones only.",
            )
        if index in derived_at and not (header and timeout):
            missing = " and ".join(
                name
                for name, ok in (
                    (f"the {HEADER} header", header),
                    (f"timeout={TIMEOUT:g}", timeout),
                )
                if not ok
            )
            STEPS.fail(
                "overrides",
                f"a request from the facade with_options gave ({where}) was sent without "
                f"{missing}.",
                "Each request the new facade sends must carry the overrides it was made "
                "with; the Fetcher it came from keeps sending without them.",
            )
        if index not in derived_at and (header or timeout):
            STEPS.fail(
                "leak",
                f"after with_options(...), a request from the original Fetcher ({where}) "
                "carried the overrides too.",
                "with_options must leave the original Fetcher (and the shared client's "
                "own settings) as they were: keep the overrides in the new facade, and "
                "apply them to its requests only.",
            )


def _close_quietly(fetcher: Any) -> None:
    try:
        fetcher.close()
    except Exception:  # noqa: BLE001, S110 - the verdict already says what went wrong
        pass


def _owned(candidate: type) -> None:
    """An owned client: both facades share one pool; closing the new one closes nothing."""
    sent: list[httpx.Request] = []
    with CheckServer() as server:
        url = server.url + "/"
        fetcher = learner_call(
            "Fetcher(...)",
            candidate,
            **server.client_kwargs(),
            **recorder(sent),
            hint="Fix Fetcher first (Exercise 4.1).",
        )
        try:
            _fetch(fetcher, url, "Fetcher(...)", "Fix fetch() first (Exercise 4.1).")
            derived = _derive(fetcher, "Fetcher(...)", **OVERRIDES)
            _fetch(derived, url, "the new facade", "Fix that error first.")
            _fetch(fetcher, url, "the original Fetcher", "Fix that error first.")
            hooked = len(sent)
            if hooked < 3:
                STEPS.fail(
                    "pool",
                    f"only {hooked} of the 3 requests went through the Fetcher's client "
                    f"(its request hook saw them); the server saw "
                    f"{plural(server.connections_opened, 'TCP connection')}.",
                    "The new facade must send on the very client of the Fetcher it came "
                    "from (its settings, hooks and pool), not on a client of its own.",
                )
            _judge_requests(sent, {1}, "owned client")
            if server.connections_opened != 1:
                STEPS.fail(
                    "pool",
                    f"the server saw {plural(server.connections_opened, 'TCP connection')} "
                    "for 3 requests one after another: the two facades don't share one "
                    "pool.",
                    "Share the client, and so its pool: no new httpx.Client in with_options.",
                )
            owns = getattr(derived, "owns_client", False)
            if owns is not False:
                STEPS.fail(
                    "early",
                    f"the new facade's owns_client is {owns!r}.",
                    "It shares a client it did not make: it must not own it, or its "
                    "close() would close the client under the original Fetcher.",
                )
            learner_call(
                "the new facade's close()",
                derived.close,
                hint="close() on the new facade must work; fix that error.",
            )
            try:
                fetcher.fetch(url)
            except Exception as exc:  # noqa: BLE001 - the verdict names it
                problem = (
                    f"after the new facade's close(), the original Fetcher's fetch() "
                    f"raised {describe(exc)}"
                )
            else:
                problem = ""
            if problem:
                STEPS.fail(
                    "early",
                    problem,
                    "Closing the facade from with_options closed the client the original "
                    "Fetcher still uses: only the Fetcher that made the client closes it.",
                )
            with_block = _derive(fetcher, "Fetcher(...)", headers={HEADER: VALUE})
            entered = learner_call(
                "`with fetcher.with_options(...) as f:`",
                with_block.__enter__,
                hint="The new facade must support `with` like any Fetcher.",
            )
            _fetch(entered, url, "the facade in its with", "Fix that error first.")
            with_block.__exit__(None, None, None)
            _fetch(
                fetcher,
                url,
                "the original Fetcher, after a `with` on a facade from with_options",
                "Leaving the new facade's `with` must not close the shared client.",
                "early",
            )
        except BaseException:
            _close_quietly(fetcher)  # a verdict is on its way: leave no client open behind it
            raise
        learner_call("Fetcher.close()", fetcher.close, hint="Fix close() first (Exercise 4.1).")
        if not server.wait_until_closed(1.0):
            STEPS.fail(
                "unclosed",
                f"after the original Fetcher's close(), the server still had "
                f"{plural(server.open_connections, 'TCP connection')} open.",
                "The client must still be closed, once, by the Fetcher that made it, "
                "however many facades share it.",
            )
        try:
            derived.fetch(url)
        except RuntimeError:
            return
        except Exception as exc:  # noqa: BLE001
            problem = f"raised {describe(exc)}, not RuntimeError"
        else:
            problem = "still worked"
        STEPS.fail(
            "after",
            f"after the original Fetcher closed its client, the new facade's fetch() {problem}.",
            "A facade whose client is closed must refuse to work, with a RuntimeError "
            "(httpx's own is fine).",
        )


def _borrowed(candidate: type) -> None:
    """A borrowed client: neither facade closes it; a facade of a facade keeps both overrides."""
    sent: list[httpx.Request] = []
    with CheckServer() as server:
        url = server.url + "/"
        with lib().Client(**server.client_kwargs(), **recorder(sent)) as client:
            fetcher = learner_call(
                "Fetcher(client)", candidate, client, hint="Fix Fetcher first (Exercise 4.1)."
            )
            derived = _derive(
                _derive(fetcher, "Fetcher(client)", headers={HEADER: VALUE}),
                "a facade from with_options",
                timeout=TIMEOUT,
            )
            _fetch(
                derived,
                url,
                "fetcher.with_options(headers=...).with_options(timeout=...)",
                "Fix that error first.",
            )
            _fetch(fetcher, url, "Fetcher(client)", "Fix that error first.")
            if len(sent) == 2:
                _judge_requests(sent, {0}, "a facade of a facade, on a borrowed client", True)
            learner_call("the new facade's close()", derived.close, hint="Fix that error first.")
            learner_call("Fetcher(client).close()", fetcher.close, hint="Fix that error first.")
            if client.is_closed:
                STEPS.fail(
                    "early",
                    "closing the two facades closed the caller's client "
                    "(Fetcher(client) borrowed it).",
                    "A borrowed client is the caller's: no facade closes it, not even one "
                    "made by with_options.",
                )
            if len(sent) != 2 or server.connections_opened != 1:
                STEPS.fail(
                    "pool",
                    f"with a borrowed client, the server saw "
                    f"{plural(server.connections_opened, 'TCP connection')} and "
                    f"the client's hook {plural(len(sent), 'request')} of 2.",
                    "Every facade sends on the one client it shares.",
                )


@exercise_check
def check_with_options(candidate: type) -> str:
    """`Fetcher.with_options(**overrides)`: a facade on the same client, closed by its owner."""
    if not isinstance(candidate, type):
        STEPS.fail(
            "shape",
            f"check_with_options needs the class, not {kind(candidate)}.",
            "Call check_with_options(Fetcher).",
        )
    if not callable(getattr(candidate, "with_options", None)):
        STEPS.fail(
            "shape",
            "Not yet: Fetcher has no with_options method.",
            "Add with_options(self, **overrides) to your Fetcher, run its cell, then this check.",
        )

    def scenarios() -> None:
        _owned(candidate)
        _borrowed(candidate)

    quietly(scenarios)
    STEPS.passed()
    return (
        "with_options works: the new facade sends with its overrides on the same client and "
        "pool, never closes it, and the client still closes once, with its owner."
    )

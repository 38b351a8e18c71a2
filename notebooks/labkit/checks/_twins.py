"""One source for a check's sync and asyncio twins: each primitive, in both flavours.

A twin check is written once, as plain code calling the primitives below (`twin.call`,
`twin.attempt`, `twin.together`...): the threads check reads with no `async`/`await`. For
threads they are plain calls; for asyncio they await the learner's coroutines, within the
kernel's time limit, in ONE event loop living in a thread of its own for the whole check
(`running`: anyio's blocking portal, not loop plumbing of ours). Why run-time twins rather than
sync code generated from the async (httpcore's unasync): nothing to generate or keep in step,
and the two checks can't drift apart: they are the same lines. Also here: what both twin checks
judge alike (the kind of a function, client builds, connection churn, stray warnings).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import inspect
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal

from ._catalogue import KIND_WHY
from ._evidence import Flights, async_recorder, recorder
from ._kernel import explain, flunk, learner_await, learner_call, lib, libraries, scrub_addresses

T = TypeVar("T")


@dataclass(frozen=True)
class Twin:
    """One flavour: how its names are spelled, and its primitives (plain calls, or into a loop)."""

    awaited: bool
    facade: str  # the learner's class: "Fetcher", "AsyncFetcher"
    fan_out: str  # the learner's function: "fetch_all", "fetch_all_async"
    cap: str  # that function's third argument: "max_workers", "max_concurrency"
    client: str  # "httpx.Client"
    with_: str = "with"
    close: str = "close"  # the method that ends a client's (and a facade's) life
    enter: str = "__enter__"
    exit: str = "__exit__"
    kind: str = "plain def"  # what the learner's methods must be
    portal: BlockingPortal | None = None  # asyncio: the check's loop (`running`)
    loop: int | None = None  # the thread that loop runs in: the learner's clients are built there

    @property
    def client_type(self) -> Any:
        """The client class the check gives: of the answer's library (httpx, or httpx2)."""
        return lib().AsyncClient if self.awaited else lib().Client

    @property
    def transport_type(self) -> Any:
        return lib().AsyncHTTPTransport if self.awaited else lib().HTTPTransport

    def run(self, code: str) -> str:
        """`client.get(url)` as the learner writes it: `await client.get(url)` in asyncio."""
        return f"`await {code}`" if self.awaited else f"`{code}`"

    def recorder(self, sent: list[httpx.Request], flights: Flights | None = None) -> dict[str, Any]:
        """Client settings whose hooks note who sent each request, and when (`_evidence`)."""
        return async_recorder(sent, flights) if self.awaited else recorder(sent, flights)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(...)`; for asyncio, in the check's event loop, awaiting what it gives."""
        return fn(*args) if self.portal is None else self.portal.call(fn, *args)

    def attempt(self, what: str, fn: Callable[..., Any], *args: Any, **verdict: Any) -> Any:
        """Call the learner's `fn` as `learner_call` does: its errors become verdicts. For
        asyncio, awaited in the check's loop within the kernel's limit (`learner_await`: past it,
        the mistake `stuck=`); in `together`, first with the other tasks, so they run at once."""
        if self.portal is None:
            verdict.pop("stuck", None)  # a thread can't be stopped: the kernel's limit ends it
            return learner_call(what, fn, *args, **verdict)
        gate, _gates.gate = getattr(_gates, "gate", None), None

        async def action() -> Any:
            if gate is not None:
                await asyncio.wait_for(gate.wait(), 5)
            result = fn(*args)
            return await result if inspect.isawaitable(result) else result

        call = functools.partial(learner_await, what, action(), **verdict)
        return self.portal.call(call)

    def refuses(self, error: type[Exception], fn: Callable[..., Any], *args: Any) -> str | None:
        """None if the learner's `fn(*args)` raised `error`, as it must; else what it did instead:
        raised another error (said here), or returned ("": its caller says what that meant)."""
        try:
            result = self.call(fn, *args)
        except error:
            return None
        except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
            name = ("httpx." if error.__module__.startswith("httpx") else "") + error.__name__
            return f"raised {explain(exc)}, not {name}."
        if inspect.iscoroutine(result):
            result.close()  # never run: closed, so Python doesn't warn it was never awaited
        return ""

    def settle(self) -> None:
        """For asyncio: a few turns of the check's loop, then a 10 ms pause there: what is
        pending runs (a task that a `__del__` scheduled, and its next steps); threads: nothing."""
        if self.portal is not None:
            for pause in (0, 0, 0, 0.01):
                self.portal.call(asyncio.sleep, pause)

    def enter_block(self, obj: object) -> Any:
        """What `with obj as f:` does first: type(obj).__enter__(obj), or __aenter__ awaited."""
        return self.call(getattr(type(obj), self.enter), obj)

    def leave(self, obj: object, error: BaseException | None = None) -> Any:
        """Leave `with obj:` normally, or by `error`; True means __exit__ swallowed the error."""
        exc_info = (type(error), error, error.__traceback__) if error else (None, None, None)
        return self.call(getattr(type(obj), self.exit), obj, *exc_info)

    def shut(self, obj: object) -> Any:
        """`obj.close()`, or `await obj.aclose()`."""
        return self.call(getattr(obj, self.close))

    def together(self, n: int, work: Callable[[], T], count: ClientCount) -> list[T]:
        """Run `work()` n times at once, in n threads let go at the same moment; for asyncio,
        their n calls into the loop wait there for each other: n tasks at once."""
        start, gate = threading.Barrier(n), asyncio.Barrier(n) if self.portal else None

        def one(_: int) -> T:
            with count.watching():
                start.wait(timeout=5)
                _gates.gate = gate
                return work()

        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="labkit-check") as pool:
            return list(pool.map(one, range(n)))

    @contextlib.contextmanager
    def running(self) -> Iterator[Twin]:
        """This flavour, ready to run a check: for asyncio, bound to an event loop of its own
        in a thread of its own, ended with the block (a task left failing is judged, not
        logged: the loop's exception handler keeps quiet)."""
        if not self.awaited:
            yield self
            return
        with start_blocking_portal(name="labkit-check-loop") as portal:
            portal.call(lambda: asyncio.get_running_loop().set_exception_handler(lambda *_: None))
            yield dataclasses.replace(self, portal=portal, loop=portal.call(threading.get_ident))


SYNC = Twin(False, "Fetcher", "fetch_all", "max_workers", "httpx.Client")
ASYNC = Twin(
    *(True, "AsyncFetcher", "fetch_all_async", "max_concurrency", "httpx.AsyncClient"),
    *("async with", "aclose", "__aenter__", "__aexit__", "async def"),
)
_gates = threading.local()  # a `together` thread's gate, for its first call into the loop


# asyncio's errors whose message doesn't say what to change, and the mistake each shows.
ASYNC_SLIPS = (
    ("'coroutine' object has no attribute", "05.missing-await"),
    ("unhashable type: 'list'", "05.gather-list"),
    ("asyncio.run() cannot be called from a running event loop", "05.asyncio-run"),
)


def _kind_of(fn: object) -> str:
    """`async def`, `async generator`, `generator` or `plain def`; a decorated function's too."""
    inner = fn
    with contextlib.suppress(ValueError):  # its __wrapped__ chain loops: judged as it is
        inner = inspect.unwrap(fn)  # type: ignore[arg-type]
    if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(inner):
        return "async def"
    if inspect.isasyncgenfunction(inner):
        return "async generator"
    return "generator" if inspect.isgeneratorfunction(inner) else "plain def"


def judge_kind(twin: Twin, what: str, fn: object) -> None:
    """`what` (e.g. "AsyncFetcher.fetch") must be defined as this flavour needs: a plain `def`
    for threads, an `async def` (decorated or not) for asyncio."""
    kind = _kind_of(fn)
    if kind != twin.kind:
        wanted = f"{'an' if twin.awaited else 'a'} {twin.kind}"
        why = KIND_WHY[kind].format(client=twin.client)
        article = "an" if kind[0] == "a" else "a"
        flunk("kernel.wrong-kind", what=what, article=article, kind=kind, wanted=wanted, why=why)


_counting: list[ClientCount] = []  # the counts open now; httpx's __init__s are wrapped meanwhile
_wrapped: dict[type, Any] = {}  # each client class's own __init__, while it is wrapped


def _counted(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def __init__(self: object, *args: Any, **kwargs: Any) -> None:
        for count in dict.fromkeys(_counting):  # each once, however many threads it watches
            count.note()
        original(self, *args, **kwargs)

    return __init__


class ClientCount:
    """Counts the httpx clients built in the threads it watches, while it is open: evidence.
    Meanwhile the `__init__` of each client class (httpx's, and httpx2's if loaded) is wrapped
    to note each build (a subclass's too), and spends `slow` seconds in it: threads racing to
    build a client lazily really race, and a missing lock shows, on any machine."""

    def __init__(self) -> None:
        self.built, self.slow = 0, 0.0
        self._lock = threading.Lock()
        self._threads: set[int] = set()

    def note(self) -> None:
        if threading.get_ident() in self._threads:
            with self._lock:
                self.built += 1
            time.sleep(self.slow)

    @contextlib.contextmanager
    def watching(self, thread: int | None = None) -> Iterator[ClientCount]:
        """Count the builds in `thread` (by default this one: the check's, or a worker's)."""
        me = threading.get_ident() if thread is None else thread
        self._threads.add(me)
        if not _counting:
            for cls in [m.Client for m in libraries()] + [m.AsyncClient for m in libraries()]:
                _wrapped[cls] = cls.__dict__["__init__"]
                cls.__init__ = _counted(_wrapped[cls])
        _counting.append(self)
        try:
            yield self
        finally:
            _counting.remove(self)
            self._threads.discard(me)
            if not _counting:
                for client_type, original in _wrapped.items():
                    client_type.__init__ = original  # type: ignore[misc]


def closing(sent: Sequence[httpx.Request]) -> bool:
    """Some request asked the server to close its connection (`Connection: close`)."""
    return any(r.headers.get("connection", "").lower() == "close" for r in sent)


# What Python itself says of a socket, transport, event loop or file left open: a leak's echo,
# judged by the server's counts. Not any "unclosed <...>": a learner's __del__ may say that too.
_PYTHONS_OWN = re.compile(
    r"unclosed (<socket|<ssl|<_io|transport |event loop |file )|subprocess \d+ is still"
)


def judge_warnings(who: str, caught: Sequence[warnings.WarningMessage], mistake: str) -> None:
    """`caught`: the warnings of a check whose every scenario passed (`quietly` gives them). One
    during correct use of `who` is noise (`mistake`); a ResourceWarning of the learner's own (a
    `__del__`'s) fired although every `who` was closed or its client borrowed."""
    noise = [w for w in caught if not issubclass(w.category, (ResourceWarning, DeprecationWarning))]
    if noise:
        warning = f"{noise[0].category.__name__}: {scrub_addresses(str(noise[0].message))}"
        flunk(mistake, who=who, warning=warning)
    for w in caught:
        if issubclass(w.category, ResourceWarning) and not _PYTHONS_OWN.match(str(w.message)):
            flunk("04.warns-on-correct-use", who=who, warning=scrub_addresses(str(w.message)))

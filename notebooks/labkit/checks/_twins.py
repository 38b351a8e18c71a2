"""One source for a check's sync and asyncio twins: each primitive, in both flavours.

A twin check is written once, as `async def` code that awaits the primitives below
(`twin.call`, `twin.enter_block`, `twin.together`). For asyncio they await the learner's
coroutines. For threads they are plain calls, so that code never suspends and `drive()` runs it
to its end with no event loop at all: the sync check stays a plain call in the caller's thread.
httpcore writes its async code once and generates the sync copy; here nothing is generated,
so the two checks can't drift apart: they are the same lines. Also here: what both twin checks
judge alike (the kind of a function, client builds, connection churn, stray warnings).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import re
import threading
import time
import warnings
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from ._catalogue import KIND_WHY
from ._evidence import async_recorder, recorder
from ._kernel import flunk, lib, libraries, scrub_addresses

__all__ = [
    "ASYNC",
    "ASYNC_SLIPS",
    "SYNC",
    "ClientCount",
    "Twin",
    "closing",
    "drive",
    "judge_kind",
    "judge_warnings",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Twin:
    """One flavour: how its names are spelled, and its primitives (plain calls, or awaits)."""

    awaited: bool
    facade: str  # the learner's class: "Fetcher", "AsyncFetcher"
    fan_out: str  # the learner's function: "fetch_all", "fetch_all_async"
    cap: str  # that function's third argument: "max_workers", "max_concurrency"
    client: str  # "httpx.Client"

    @property
    def client_type(self) -> Any:
        """The client class the check gives: of the answer's library (httpx, or httpx2)."""
        return lib().AsyncClient if self.awaited else lib().Client

    @property
    def transport_type(self) -> Any:
        return lib().AsyncHTTPTransport if self.awaited else lib().HTTPTransport

    @property
    def with_(self) -> str:
        return "async with" if self.awaited else "with"

    @property
    def close(self) -> str:
        """The method that ends a client's (and a facade's) life: `close` or `aclose`."""
        return "aclose" if self.awaited else "close"

    @property
    def enter(self) -> str:
        return "__aenter__" if self.awaited else "__enter__"

    @property
    def exit(self) -> str:
        return "__aexit__" if self.awaited else "__exit__"

    @property
    def kind(self) -> str:
        """What the learner's methods must be: "async def" or "plain def"."""
        return "async def" if self.awaited else "plain def"

    def run(self, code: str) -> str:
        """`client.get(url)` as the learner writes it: `await client.get(url)` in asyncio."""
        return f"`await {code}`" if self.awaited else f"`{code}`"

    def recorder(self, sent: list[httpx.Request]) -> dict[str, Any]:
        """Client settings whose request hook notes each request: proof of which client sent it."""
        return async_recorder(sent) if self.awaited else recorder(sent)

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`fn(...)`, and for asyncio `await` what it gives, if that is awaitable."""
        result = fn(*args, **kwargs)
        if self.awaited and inspect.isawaitable(result):
            return await result
        return result

    async def enter_block(self, obj: object) -> Any:
        """What `with obj as f:` does first: type(obj).__enter__(obj), or __aenter__ awaited."""
        return await self.call(getattr(type(obj), self.enter), obj)

    async def leave(self, obj: object, error: BaseException | None = None) -> Any:
        """Leave `with obj:` normally, or by `error`; True means __exit__ swallowed the error."""
        exc_info = (type(error), error, error.__traceback__) if error else (None, None, None)
        return await self.call(getattr(type(obj), self.exit), obj, *exc_info)

    async def shut(self, obj: object) -> Any:
        """`obj.close()`, or `await obj.aclose()`."""
        return await self.call(getattr(obj, self.close))

    async def together(
        self, n: int, work: Callable[[], Coroutine[Any, Any, T]], count: ClientCount
    ) -> list[T]:
        """Run `work()` n times at once: n tasks, or n threads let go at the same moment."""
        if self.awaited:
            return list(await asyncio.gather(*(work() for _ in range(n))))
        start = threading.Barrier(n)

        def one() -> T:
            with count.watching():
                start.wait(timeout=5)
                return drive(work())

        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="labkit-check") as pool:
            futures = [pool.submit(one) for _ in range(n)]
        return [future.result() for future in futures]


SYNC = Twin(False, "Fetcher", "fetch_all", "max_workers", "httpx.Client")
ASYNC = Twin(True, "AsyncFetcher", "fetch_all_async", "max_concurrency", "httpx.AsyncClient")


def drive(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a sync twin's coroutine, which never suspends, to its end: no event loop needed."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("a sync twin's scenario awaited something that suspends")


# asyncio's errors whose message doesn't say what to change, and the mistake each shows.
ASYNC_SLIPS = (
    ("'coroutine' object has no attribute", "05.missing-await"),
    ("unhashable type: 'list'", "05.gather-list"),
    ("asyncio.run() cannot be called from a running event loop", "05.asyncio-run"),
)


def _kind_of(fn: object) -> str:
    """`async def`, `async generator`, `generator` or `plain def`; a decorated function's too."""
    try:
        inner = inspect.unwrap(fn)  # type: ignore[arg-type]
    except ValueError:
        inner = fn
    if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(inner):
        return "async def"
    for kind, test in (
        ("async generator", inspect.isasyncgenfunction),
        ("generator", inspect.isgeneratorfunction),
    ):
        if test(inner):
            return kind
    return "plain def"


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

    While any count is open, `Client.__init__` and `AsyncClient.__init__` of httpx (and of
    httpx2, if loaded) are wrapped to note each build (a subclass's too), and put back after.
    `slow` seconds are spent in each build, so that threads racing to build a client lazily
    really race: a missing lock shows as several clients, on any machine.
    """

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
    def watching(self) -> Iterator[ClientCount]:
        """Count the builds in this thread (the check's, or one of its workers') meanwhile."""
        me = threading.get_ident()
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
# judged elsewhere (by the server's counts), not the learner's own warning.
# Not any "unclosed <...>": a facade's own __del__ may word its warning the same way.
_PYTHONS_OWN = re.compile(
    r"unclosed (<socket|<ssl|<_io|transport |event loop |file )|subprocess \d+ is still"
)


def judge_warnings(who: str, caught: Sequence[warnings.WarningMessage], mistake: str) -> None:
    """A warning during correct use of `who` is noise; Python's own ResourceWarning for a leak
    (a socket left open) is judged by other evidence.

    `caught` are the warnings of a check whose every scenario passed (`quietly` returns them):
    in each of them, every `who` was closed or its client borrowed, so a ResourceWarning of the
    learner's own (from `__del__`) fired although nothing was left unclosed.
    """
    noise = [w for w in caught if not issubclass(w.category, (ResourceWarning, DeprecationWarning))]
    if noise:
        warning = f"{noise[0].category.__name__}: {scrub_addresses(str(noise[0].message))}"
        flunk(mistake, who=who, warning=warning)
    own = [
        w
        for w in caught
        if issubclass(w.category, ResourceWarning) and not _PYTHONS_OWN.match(str(w.message))
    ]
    if own:
        warning = scrub_addresses(str(own[0].message))
        flunk("04.warns-on-correct-use", who=who, warning=warning)

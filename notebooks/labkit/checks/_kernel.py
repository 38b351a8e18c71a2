"""The kernel of every exercise check: one verdict line, a hint, never a traceback.

A check body runs the learner's code against a real LabServer and returns the success message,
or names a mistake of the catalogue: `flunk(id, **evidence)`. `@exercise_check` turns it into
`check_<name>(candidate) -> bool`, which prints the verdict within a time limit. The learner's
code is called through `learner_call` / `learner_await`, so its errors become verdicts ("Not
yet" for a stub). An answer in httpx2 (`import httpx2 as httpx`) gets clients of httpx2 (`lib()`).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import re
import sys
import threading
import traceback
import types
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import Any, NoReturn, ParamSpec, TypeVar

import httpx

from ..server import LabServer, plain_trust
from ._catalogue import MISTAKES

P = ParamSpec("P")
T = TypeVar("T")

# Seconds a check may take before its verdict says it ran out of time. Module settings, read at
# each call, so a test can lower them.
TIME_LIMIT = 15.0
# Seconds one awaited call of the learner's code may take: an event loop can cancel it (a verdict
# of its own, "did not finish"); a thread can't be, so sync code has only TIME_LIMIT.
AWAIT_LIMIT = 10.0


class CheckFailed(Exception):
    """The learner's answer is not right yet: what is wrong, a hint, and the mistake's id."""

    def __init__(self, problem: str, hint: str, mistake: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint
        self.mistake = mistake


def _fill(template: str, evidence: dict[str, Any]) -> str:
    """`template` with its blanks filled; a blank's "." goes where its evidence ends in one (an
    error's message usually ends a sentence already: no "once.." in a verdict)."""
    for key, value in evidence.items():
        if isinstance(value, str) and value.endswith("."):
            template = template.replace(f"{{{key}}}.", f"{{{key}}}")
    return template.format(**evidence)


def diagnosis(mistake: str, **evidence: Any) -> CheckFailed:
    """The catalogue's entry `mistake`, its blanks filled with `evidence`, as a failure."""
    entry = MISTAKES[mistake]
    return CheckFailed(_fill(entry.problem, evidence), _fill(entry.hint, evidence), mistake)


def flunk(mistake: str, **evidence: Any) -> NoReturn:
    """Fail with the catalogue's mistake `mistake`; `evidence` fills its words."""
    raise diagnosis(mistake, **evidence)


# --- which library the answer uses: httpx, or httpx2 under any name ----------------------------

_library: list[types.ModuleType] = []  # the library of the check running now (one at a time)


def libraries() -> tuple[types.ModuleType, ...]:
    """httpx, and httpx2 if it is loaded: an answer can only use a library that is loaded."""
    other = sys.modules.get("httpx2")
    return (httpx,) if other is None or other is httpx else (httpx, other)


def lib() -> types.ModuleType:
    """The library of the answer being checked: its clients are what the check gives it."""
    return _library[-1] if _library else httpx


def is_a(value: object, *names: str) -> bool:
    """`isinstance(value, httpx.<name>)`, for httpx and httpx2 alike: `is_a(r, "Response")`."""
    return isinstance(value, errors(*names))


def errors(*names: str) -> tuple[type[BaseException], ...]:
    """The classes `names` of both libraries: `except errors("HTTPStatusError"):`."""
    return tuple(getattr(module, name) for module in libraries() for name in names)


def _functions(candidate: object) -> Iterator[types.FunctionType]:
    """The functions an answer is made of: itself, or a class's methods (and properties)."""
    if isinstance(candidate, type):
        members = [member for cls in candidate.__mro__[:-1] for member in vars(cls).values()]
    else:  # a function, a partial (`.func`), a method, or a callable object (its `__call__`)
        members = [getattr(candidate, "func", candidate), type(candidate).__call__]
    for member in members:
        member = getattr(member, "__func__", getattr(member, "fget", member))
        if isinstance(member, types.FunctionType):
            yield member


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    yield from code.co_freevars
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def library_of(candidate: object) -> types.ModuleType:
    """httpx2 if the answer's code names it (`import httpx2 as httpx`, `from httpx2 import
    Client`), else httpx: read from the globals its names resolve to, nothing is run."""
    for function in _functions(candidate):
        values = [function.__globals__.get(name) for name in _names(function.__code__)]
        for cell in function.__closure__ or ():
            with suppress(ValueError):  # an empty cell raises
                values.append(cell.cell_contents)
        for value in values:
            if not isinstance(value, (types.ModuleType, type, types.FunctionType)):
                value = type(value)  # an object: `CLIENT = httpx2.Client()` at module level
            where = value.__name__ if isinstance(value, types.ModuleType) else value.__module__
            if (where or "").split(".")[0] == "httpx2":
                return sys.modules["httpx2"]
    return httpx


class CheckServer(LabServer):
    """A LabServer whose `client_kwargs()` carry a prebuilt SSLContext even over HTTP: a default
    `httpx.Client()` loads the whole CA bundle (tens of ms), and a check builds a dozen."""

    def client_kwargs(self) -> dict[str, Any]:
        return super().client_kwargs() or {"verify": plain_trust()}


def plural(number: int, one: str, many: str | None = None) -> str:
    """`1 TCP connection`, `3 TCP connections`, `1 body` / `2 bodies` (give `many` if not +s)."""
    return f"{number} {one if number == 1 else (many or one + 's')}"


# `<generator object fetch at 0x7f...>`, `<httpx.Client object at 0x...>`: the address part.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def scrub_addresses(text: str) -> str:
    """`text` without memory addresses: they mean nothing to a learner, and change at every run."""
    return _ADDRESS.sub("", text)


def readable(value: object, width: int = 60) -> str:
    """What a value is, in words a learner can read: `a generator (from fetch_statuses)`,
    `the function fetch`, `an httpx.Response`, or its repr (shortened, without addresses)."""
    if inspect.isgenerator(value):
        return f"a generator (from {value.__qualname__})"
    if inspect.iscoroutine(value):
        return f"a coroutine (from {value.__qualname__}: a missing await?)"
    if inspect.isasyncgen(value):
        return f"an async generator (from {value.__qualname__})"
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return f"the function {value.__qualname__} (not its result: a missing call?)"
    if isinstance(value, type):
        return f"the class {value.__qualname__}"
    if type(value).__module__.split(".")[0] in ("httpx", "httpx2"):  # the same words for both
        return f"an httpx.{type(value).__name__}"  # "an aitch-tee-tee-pee-ex"
    text = repr(value)
    if _ADDRESS.search(text):  # a default repr: its type says more than its address
        name = type(value).__qualname__
        return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name} object"
    return text if len(text) <= width else text[: width - 3] + "..."


def kind(value: object) -> str:
    """`None`, `the httpx.AsyncClient`, `a str`, `a generator (from fetch)`: what the code gave
    back, in words (never a repr with a memory address)."""
    if is_a(value, "Client", "AsyncClient"):
        return f"the httpx.{type(value).__name__}"
    if inspect.isawaitable(value) and not inspect.iscoroutine(value):
        return "an awaitable (a missing await?)"
    if isinstance(value, (str, bytes, int, float, list, tuple, dict, set)):
        name = type(value).__name__
        return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
    return readable(value)


def describe(exc: BaseException) -> str:
    """`httpx.PoolTimeout`, `RuntimeError: Cannot open ...`: its type, its message's first line."""
    kind = type(exc).__name__
    if type(exc).__module__.split(".")[0] in ("httpx", "httpx2"):  # the same words for both
        kind = f"httpx.{kind}"
    lines = scrub_addresses(str(exc)).strip().splitlines()
    return f"{kind}: {lines[0]}" if lines else kind


def explain(exc: BaseException) -> str:
    """`describe(exc)`, looking inside an ExceptionGroup (a TaskGroup's) for the real error."""
    said = describe(exc)
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
        said += f" (inside it: {describe(exc)})"
    return said


# Errors whose message doesn't say what to change: (words in it, the catalogue id they show).
Slips = Sequence[tuple[str, str]]
Words = dict[str, str] | None  # the flavour's words that a mistake's templates take


def _is_stub(exc: BaseException) -> bool:
    """A NotImplementedError from a stub, a function that does nothing but raise it: "Not yet".
    One raised by code that does more is an error like any other (the stub is gone)."""
    if isinstance(exc, BaseExceptionGroup):
        return any(_is_stub(inner) for inner in exc.exceptions)
    if not isinstance(exc, NotImplementedError):
        return False
    frames = [frame for frame, _ in traceback.walk_tb(exc.__traceback__)]
    return not frames or set(frames[-1].f_code.co_names) <= {"NotImplementedError"}


def learner_error(
    name: str, exc: BaseException, *, mistake: str, slips: Slips = (), words: Words = None
) -> CheckFailed:
    """What the learner's code raising `exc` means: "Not yet" for a stub; else the error, with
    the mistake of the first slip whose words it shows, or `mistake`."""
    if _is_stub(exc):
        return diagnosis("kernel.not-yet", name=name)
    error = explain(exc)
    pointed = next(
        (pointed for words, pointed in slips if words in f"{name} raised {error}"), mistake
    )
    status = getattr(getattr(exc, "response", None), "status_code", "")  # HTTPStatusError
    return diagnosis(pointed, name=name, error=error, status=status, **(words or {}))


# The learner's function the check is running now: named by a verdict that runs out of time.
_running: list[str] = []


@contextmanager
def _running_learner(name: str) -> Iterator[None]:
    _running.append(name)
    try:
        yield
    finally:
        if name in _running:
            _running.remove(name)


def learner_call(
    name: str,
    fn: Callable[..., T],
    *args: Any,
    mistake: str,
    slips: Slips = (),
    words: Words = None,
    **kwargs: Any,
) -> T:
    """Call the learner's code; whatever it raises becomes a verdict (`learner_error`), raised
    after the `except` block: a chained traceback would keep the learner's frames (and the
    clients in them) alive, and their ResourceWarnings would surface later, in another cell."""
    try:
        with _running_learner(name):
            return fn(*args, **kwargs)
    except CheckFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict, not a traceback
        failure = learner_error(name, exc, mistake=mistake, slips=slips, words=words)
    raise failure


async def learner_await(
    name: str,
    action: Awaitable[T],
    *,
    mistake: str,
    slips: Slips = (),
    stuck: str = "kernel.stuck",
    words: Words = None,
) -> T:
    """`learner_call` for what awaits the learner's code, within AWAIT_LIMIT seconds: past it,
    the verdict `stuck`."""
    bound = asyncio.timeout(AWAIT_LIMIT)
    try:
        with _running_learner(name):
            async with bound:
                return await action
    except CheckFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
        if isinstance(exc, TimeoutError) and bound.expired():
            failure = diagnosis(stuck, name=name, limit=AWAIT_LIMIT)
        else:
            failure = learner_error(name, exc, mistake=mistake, slips=slips, words=words)
    raise failure


def need_function(check: str, name: str, candidate: object) -> None:
    """The answer must be a function (or anything callable), not what calling it gave."""
    if inspect.iscoroutine(candidate):
        candidate.close()  # never run: closed here, so Python doesn't warn it was never awaited
        flunk("kernel.called-function", check=check, name=name)
    if not callable(candidate):
        flunk("kernel.needs-function", check=check, name=name, got=kind(candidate))


def need_class(check: str, name: str, candidate: object) -> None:
    """The answer must be the class itself, not an instance or a method."""
    if not isinstance(candidate, type):
        flunk("kernel.needs-class", check=check, name=name, got=kind(candidate))


def run_in_own_loop(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run an async check scenario in a fresh event loop, in a worker thread: a notebook's kernel
    runs a loop in its own thread, where `asyncio.run` refuses to start another. A task the
    learner's code left failing is judged by the verdict, not logged ("Task exception was never
    retrieved")."""

    def run() -> T:
        with asyncio.Runner() as runner:
            runner.get_loop().set_exception_handler(lambda loop, context: None)
            return runner.run(scenario())

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="labkit-check") as worker:
        return worker.submit(run).result()


def quietly(scenarios: Callable[[], object], *, slips: Slips = ()) -> list[warnings.WarningMessage]:
    """Run a check's scenarios (a plain or an `async def` function); return their warnings.
    What a wrong answer left behind (an unclosed client's sockets, a coroutine never awaited) is
    collected here, where its warnings are caught, not in another cell; a failure leaves with
    its words only (its hint pointed by `slips`): a traceback would keep frames alive."""
    verdict: CheckFailed | None = None
    with warnings.catch_warnings(record=True, action="always") as caught:
        try:
            if inspect.iscoroutinefunction(scenarios):
                run_in_own_loop(scenarios)
            else:
                scenarios()
        except CheckFailed as failure:
            pointed = next((m for words, m in slips if words in failure.problem), None)
            hint = failure.hint if pointed is None else MISTAKES[pointed].hint
            verdict = CheckFailed(failure.problem, hint, pointed or failure.mistake)
        gc.collect()
    if verdict is not None:
        raise verdict
    return caught


@contextmanager
def _hooked(noted: list[str]) -> Iterator[None]:
    """Note, as words, the errors Python would only print while a check runs: those ignored in
    a `__del__` (or a generator's cleanup), and those that ended a thread."""
    before = sys.unraisablehook, threading.excepthook

    def said(args: Any) -> str:
        return describe(args.exc_value) if args.exc_value is not None else args.exc_type.__name__

    def ignored(args: Any) -> None:
        where = getattr(args.object, "__qualname__", None)  # `Fetcher.__del__`
        where = where if isinstance(where, str) else readable(args.object)
        noted.append(f"Exception ignored in {where}: {said(args)}")

    def thread_died(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit:
            thread = args.thread.name if args.thread is not None else "a thread"
            noted.append(f"Exception in thread {thread}: {said(args)}")

    sys.unraisablehook, threading.excepthook = ignored, thread_died
    try:
        yield
    finally:
        sys.unraisablehook, threading.excepthook = before


# (check, mistake) -> how many times that check has diagnosed it, in this kernel: stepped hints
_REPEATS: Counter[tuple[str, str]] = Counter()
_LAST: list[str | None] = [None]  # the last verdict's mistake id ("ok": it passed)


def last_mistake() -> str | None:
    """The id of the last verdict's mistake: "ok" if it passed, None if it had no id."""
    return _LAST[0]


def reset_repeats() -> None:
    """Forget every check's mistakes: each next ❌ is a first one again (stepped hints)."""
    _REPEATS.clear()


def _stepped(check: str, verdict: str | CheckFailed) -> str | CheckFailed:
    """The same mistake a second time in a check: its hint adds where the notebook covers it.
    A pass forgets the check's mistakes."""
    if isinstance(verdict, str):
        for key in [key for key in _REPEATS if key[0] == check]:
            del _REPEATS[key]
    elif verdict.mistake is not None:
        _REPEATS[check, verdict.mistake] += 1
        pointer = MISTAKES[verdict.mistake].pointer
        if _REPEATS[check, verdict.mistake] > 1 and pointer is not None:
            hint = f"{verdict.hint} Still stuck? {pointer}"
            return CheckFailed(verdict.problem, hint, verdict.mistake)
    return verdict


def _verdict(run: Callable[[], str], limit: float) -> str | CheckFailed:
    """The verdict of `run`, within `limit` seconds: run in a daemon thread, so a learner's
    thread that never ends cannot hang the cell (the verdict says so instead)."""
    outcome: list[str | CheckFailed] = []
    noted: list[str] = []
    _running.clear()  # names left by an earlier check that ran out of time

    def work() -> None:
        verdict: str | CheckFailed
        try:
            verdict = run()
        except CheckFailed as failure:  # words only: a traceback keeps the learner's frames alive
            verdict = CheckFailed(failure.problem, failure.hint, failure.mistake)
        except errors("ResponseNotRead", "StreamClosed", "StreamConsumed") as exc:
            verdict = diagnosis("kernel.unread-stream", error=describe(exc))
        except BaseException as exc:  # noqa: BLE001 - whatever escaped, the learner sees a verdict
            verdict = diagnosis("kernel.cannot-judge", error=describe(exc))
        gc.collect()  # a wrong answer's leftovers, while their warnings and errors are caught
        outcome.append(verdict)

    # Ignored, not recorded: a record would keep a never-awaited coroutine (and its client) alive.
    with warnings.catch_warnings(action="ignore"), _hooked(noted):
        worker = threading.Thread(target=work, name="labkit-check", daemon=True)
        # Not gc.freeze() to make the collection cheaper: on CPython 3.12.1 a collection after
        # gc.unfreeze() leaves objects in the permanent generation, never to be freed.
        worker.start()
        worker.join(limit)
    if not outcome:
        who = f"{_running[-1]} was" if _running else "your code was"
        return diagnosis("kernel.out-of-time", who=who, limit=limit)
    verdict = outcome[0]
    if noted:
        more = f" (and {plural(len(noted) - 1, 'other')})" if len(noted) > 1 else ""
        if isinstance(verdict, str):
            thread = noted[0].startswith("Exception in thread")
            mistake = "kernel.thread-error" if thread else "kernel.ignored-error"
            return diagnosis(mistake, noted=noted[0], more=more)
        also = f" (Also ignored while the check ran: {noted[0]}{more}.)"
        return CheckFailed(verdict.problem + also, verdict.hint, verdict.mistake)
    return verdict


def exercise_check(check_body: Callable[P, str], /) -> Callable[P, bool]:
    """Wrap a check body: print `✅ message`, or `❌ problem` and `   Hint: ...`; return True/False.

    Within `TIME_LIMIT` seconds; a mistake made again adds its pointer into the notebook
    (stepped hints). A wrong answer's leftovers are collected before the verdict, their warnings
    caught; errors Python would only print beside it ("Exception ignored in ...") make it ❌."""

    @functools.wraps(check_body)
    def check(*args: P.args, **kwargs: P.kwargs) -> bool:
        _library.append(library_of(args[0]) if args else httpx)
        try:
            verdict = _verdict(lambda: check_body(*args, **kwargs), TIME_LIMIT)
        finally:
            _library.pop()
        verdict = _stepped(check_body.__name__, verdict)
        if isinstance(verdict, str):
            _LAST[0] = "ok"
            print(scrub_addresses(f"✅ {verdict}"))
            return True
        _LAST[0] = verdict.mistake
        print(scrub_addresses(f"❌ {verdict.problem}\n   Hint: {verdict.hint}"))
        return False

    return check  # its signature is the body's (`inspect` follows `__wrapped__`)

"""How every exercise check talks to the learner: one verdict line, a hint, never a traceback.

A check is a function that runs the learner's code against a real LabServer and either returns
the success message or calls `fail(problem, hint)`. The `@exercise_check` decorator turns that
into the public `check_<name>(candidate) -> bool` that prints the verdict. Whatever the answer
does, the verdict comes within `TIME_LIMIT` seconds, and it also judges what Python would
otherwise only print beside it: errors ignored in a `__del__`, exceptions that ended a thread.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import re
import sys
import threading
import types
import warnings
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, NoReturn, ParamSpec, TypeVar, overload

import httpx

from ..server import LabServer, plain_trust

__all__ = [
    "TIME_LIMIT",
    "CheckFailed",
    "CheckServer",
    "Slips",
    "describe",
    "exercise_check",
    "fail",
    "learner_await",
    "learner_call",
    "plural",
    "pointed_hint",
    "quietly",
    "readable",
    "run_in_own_loop",
    "scrub_addresses",
]

P = ParamSpec("P")
T = TypeVar("T")

# Seconds a check may take before its verdict says it ran out of time. A module setting, read
# at each call, so a test can lower it; `@exercise_check(time_limit=...)` fixes it for one check.
TIME_LIMIT = 15.0


class CheckFailed(Exception):
    """The learner's answer is not right yet; carries what is wrong and a hint."""

    def __init__(self, problem: str, hint: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


def fail(problem: str, hint: str) -> NoReturn:
    raise CheckFailed(problem, hint)


class CheckServer(LabServer):
    """A LabServer whose `client_kwargs()` always carry a prebuilt SSLContext, even over HTTP.

    A check builds a dozen clients, and a default `httpx.Client()` loads the whole CA bundle
    (tens of milliseconds each: `python -m labkit.bench` measures it) even when it only ever
    speaks plain HTTP. One shared context keeps a check quick, and over HTTP it changes nothing
    that a check judges.
    """

    def client_kwargs(self) -> dict[str, Any]:
        return super().client_kwargs() or {"verify": plain_trust()}


def plural(number: int, one: str, many: str | None = None) -> str:
    """`1 TCP connection`, `3 TCP connections`, `1 body` / `2 bodies` (give `many` if not +s)."""
    return f"{number} {one if number == 1 else (many or one + 's')}"


# `<generator object fetch at 0x7f...>`, `<httpx.Client object at 0x...>`: the address part.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+(?=>)")


def scrub_addresses(text: str) -> str:
    """`text` without memory addresses: `<generator object fetch at 0x7f..>` -> `<generator
    object fetch>`. They mean nothing to a learner, and they change at every run."""
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
    if type(value).__module__.split(".")[0] == "httpx":
        return f"an httpx.{type(value).__name__}"  # "an aitch-tee-tee-pee-ex"
    text = repr(value)
    if _ADDRESS.search(text):  # a default repr: its type says more than its address
        name = type(value).__qualname__
        return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name} object"
    return text if len(text) <= width else text[: width - 3] + "..."


def describe(exc: BaseException) -> str:
    """`httpx.PoolTimeout`, `RuntimeError: Cannot open ...`: the type, and the message's first
    line (without memory addresses)."""
    kind = type(exc).__name__
    if type(exc).__module__.split(".")[0] == "httpx":
        kind = f"httpx.{kind}"
    lines = scrub_addresses(str(exc)).strip().splitlines()
    return f"{kind}: {lines[0]}" if lines else kind


NOT_YET_HINT = "Write its body, run that cell, then run this check again."

# Errors whose own message doesn't say what to change: (words in the verdict, a hint that does).
Slips = Sequence[tuple[str, str]]


def pointed_hint(problem: str, hint: str, slips: Slips) -> str:
    """The hint for `problem`: the one naming the fix when it shows a known slip, else `hint`."""
    return next((pointed for words, pointed in slips if words in problem), hint)


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
    name: str, fn: Callable[..., T], *args: Any, hint: str, slips: Slips = (), **kwargs: Any
) -> T:
    """Call the learner's code; turn whatever it raises into a friendly `CheckFailed`.

    The hint is `hint`, or the one `slips` gives for that error. The failure is raised after the
    `except` block, so it carries words only: a chained traceback would keep the learner's
    frames (and the clients in them) alive, and their ResourceWarnings would surface later, in
    some other cell.
    """
    try:
        with _running_learner(name):
            return fn(*args, **kwargs)
    except NotImplementedError:
        problem, why = f"Not yet: {name} still raises NotImplementedError.", NOT_YET_HINT
    except CheckFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict, not a traceback
        problem = f"{name} raised {describe(exc)}"
        why = pointed_hint(problem, hint, slips)
    fail(problem, why)


async def learner_await(
    name: str, fn: Callable[..., Any], *args: Any, hint: str, slips: Slips = (), **kwargs: Any
) -> Any:
    """`learner_call` for coroutine functions."""
    try:
        with _running_learner(name):
            return await fn(*args, **kwargs)
    except NotImplementedError:
        problem, why = f"Not yet: {name} still raises NotImplementedError.", NOT_YET_HINT
    except CheckFailed:
        raise
    except Exception as exc:  # noqa: BLE001
        problem = f"{name} raised {describe(exc)}"
        why = pointed_hint(problem, hint, slips)
    fail(problem, why)


def run_in_own_loop(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run an async check scenario in a fresh event loop, in a worker thread; return its result.

    A check cell is a plain call, but a notebook's kernel already runs an event loop in its
    thread, and `asyncio.run` refuses to start another one there. A worker thread has no loop,
    so the scenario gets its own. Whatever it raises (`CheckFailed` too) is raised here. A task
    the learner's code left failing is judged by the verdict, not logged to stderr ("Task
    exception was never retrieved"): the loop's exception handler keeps quiet.
    """

    def run() -> T:
        with asyncio.Runner() as runner:
            runner.get_loop().set_exception_handler(lambda loop, context: None)
            return runner.run(scenario())

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="labkit-check") as worker:
        return worker.submit(run).result()


def quietly(scenarios: Callable[[], object], *, slips: Slips = ()) -> list[warnings.WarningMessage]:
    """Run a check's scenarios; return the warnings they raised instead of printing them.

    `scenarios` is a plain function, or an `async def` one (run with `run_in_own_loop`).
    Whatever a wrong answer left behind (an unclosed client's sockets, a coroutine it never
    awaited) is collected here, where its warnings are caught, not later in the learner's
    notebook or in the next check. So a failure leaves with its words only (its hint pointed by
    `slips`): its traceback would keep the learner's frames, and what they hold, alive.
    """
    verdict: CheckFailed | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if inspect.iscoroutinefunction(scenarios):
                run_in_own_loop(scenarios)
            else:
                scenarios()
        except CheckFailed as failure:
            verdict = CheckFailed(
                failure.problem, pointed_hint(failure.problem, failure.hint, slips)
            )
        gc.collect()
    if verdict is not None:
        raise verdict
    return caught


HINT_IGNORED = (
    'Python only prints such an error ("Exception ignored in ...") and goes on, so '
    "it goes unnoticed: make that code safe (a __del__ runs even when __init__ failed "
    "halfway, and maybe long after), or close things explicitly instead."
)
HINT_THREAD = (
    "An exception in a thread you start yourself is only printed: catch it there, or "
    "use concurrent.futures, whose future.result() raises it where you can see it."
)
HINT_STREAM = (
    "Read a streamed response before you return it (response.read(), inside "
    "`with client.stream(...)`), or use client.get(), which reads the body for you."
)
HINT_CRASH = (
    "Make sure the cell with your answer ran and returns what the exercise asks for; "
    "if it does, re-run the cells above this one in order, then this check."
)


def _where(target: object) -> str:
    """`Fetcher.__del__`: the code an unraisable error was ignored in, in words."""
    name = getattr(target, "__qualname__", None)
    return name if isinstance(name, str) else readable(target)


@contextmanager
def _hooked(noted: list[str]) -> Iterator[None]:
    """Note, as words, the errors Python would only print while a check runs: those ignored in
    a `__del__` (or a generator's cleanup), and those that ended a thread."""
    unraisable_before, thread_before = sys.unraisablehook, threading.excepthook

    def ignored(args: Any) -> None:
        error = describe(args.exc_value) if args.exc_value is not None else args.exc_type.__name__
        noted.append(f"Exception ignored in {_where(args.object)}: {error}")

    def thread_died(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        error = describe(args.exc_value) if args.exc_value is not None else args.exc_type.__name__
        thread = args.thread.name if args.thread is not None else "a thread"
        noted.append(f"Exception in thread {thread}: {error}")

    sys.unraisablehook, threading.excepthook = ignored, thread_died
    try:
        yield
    finally:
        sys.unraisablehook, threading.excepthook = unraisable_before, thread_before


def _judged(run: Callable[[], str]) -> str:
    """Run a check body; its verdict, in words only (no exception object keeps frames alive)."""
    try:
        message = run()
    except CheckFailed as failure:
        return f"❌ {failure.problem}\n   Hint: {failure.hint}"
    except (httpx.ResponseNotRead, httpx.StreamClosed, httpx.StreamConsumed) as exc:
        return (
            f"❌ Your code gave back a streamed response whose body was not read "
            f"({describe(exc)}).\n   Hint: {HINT_STREAM}"
        )
    except BaseException as exc:  # noqa: BLE001 - whatever escaped, the learner sees a verdict
        return (
            f"❌ The check could not judge what your code gave back: {describe(exc)}\n"
            f"   Hint: {HINT_CRASH}"
        )
    return f"✅ {message}"


def _out_of_time(limit: float) -> str:
    who = f"{_running[-1]} was" if _running else "your code was"
    return (
        f"❌ The check ran out of time: {who} still running after {limit:g} s, and a thread "
        "cannot be stopped from outside, so it may still be running.\n"
        "   Hint: look for what never ends (a worker waiting forever on a queue or a lock, a "
        "thread never joined), fix it, then restart the kernel (Kernel > Restart Kernel) to "
        "stop the old thread, run the cells above, and check again."
    )


def _verdict(run: Callable[[], str], limit: float) -> str:
    """The verdict of `run`, within `limit` seconds: run in a daemon thread, so a learner's
    thread that never ends cannot hang the cell (the verdict says so instead)."""
    outcome: list[str] = []
    noted: list[str] = []
    _running.clear()  # names left by an earlier check that ran out of time

    def work() -> None:
        verdict = _judged(run)
        gc.collect()  # a wrong answer's leftovers, while their warnings and errors are caught
        outcome.append(verdict)

    with warnings.catch_warnings(record=True), _hooked(noted):
        warnings.simplefilter("always")
        worker = threading.Thread(target=work, name="labkit-check", daemon=True)
        # Not gc.freeze() to make the collection cheaper: on CPython 3.12.1 a collection after
        # gc.unfreeze() leaves objects in the permanent generation, never to be freed.
        worker.start()
        worker.join(limit)
    if not outcome:
        return _out_of_time(limit)
    verdict = outcome[0]
    if noted:
        more = f" (and {plural(len(noted) - 1, 'other')})" if len(noted) > 1 else ""
        if verdict.startswith("✅"):
            hint = HINT_THREAD if noted[0].startswith("Exception in thread") else HINT_IGNORED
            verdict = (
                f"❌ An error was ignored while the check ran (Python would only print it): "
                f"{noted[0]}{more}.\n"
                f"   Hint: {hint}"
            )
        else:
            problem, _, hint = verdict.partition("\n")
            verdict = f"{problem} (Also ignored while the check ran: {noted[0]}{more}.)\n{hint}"
    return scrub_addresses(verdict)


@overload
def exercise_check(body: Callable[P, str], /) -> Callable[P, bool]: ...


@overload
def exercise_check(
    *, time_limit: float | None = None
) -> Callable[[Callable[P, str]], Callable[P, bool]]: ...


def exercise_check(
    body: Callable[P, str] | None = None, /, *, time_limit: float | None = None
) -> Callable[P, bool] | Callable[[Callable[P, str]], Callable[P, bool]]:
    """Wrap a check body: print `✅ message`, or `❌ problem` and `   Hint: ...`; return True/False.

    Use it bare (`@exercise_check`: the limit is `TIME_LIMIT`, read at each call) or with a
    limit of its own (`@exercise_check(time_limit=5.0)`). Whatever a wrong answer left behind
    (clients it never closed) is collected before the verdict, with its ResourceWarnings caught:
    otherwise they would surface later, in some other cell, as if that cell had done something
    wrong. Errors Python would print beside the verdict ("Exception ignored in ...") make it ❌.
    """

    def wrap(check_body: Callable[P, str]) -> Callable[P, bool]:
        @functools.wraps(check_body)
        def check(*args: P.args, **kwargs: P.kwargs) -> bool:
            limit = TIME_LIMIT if time_limit is None else time_limit
            verdict = _verdict(lambda: check_body(*args, **kwargs), limit)
            print(verdict)
            return verdict.startswith("✅")

        check.__signature__ = inspect.signature(check_body)  # type: ignore[attr-defined]
        return check

    return wrap if body is None else wrap(body)

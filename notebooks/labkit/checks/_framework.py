"""How every exercise check talks to the learner: one verdict line, a hint, never a traceback.

A check is a function that runs the learner's code against a real LabServer and either returns
the success message or calls `fail(problem, hint)`. The `@exercise_check` decorator turns that
into the public `check_<name>(candidate) -> bool` that prints the verdict.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import warnings
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn, ParamSpec, TypeVar

from ..server import LabServer, plain_trust

__all__ = ["CheckFailed", "CheckServer", "Slips", "describe", "exercise_check", "fail",
           "learner_await", "learner_call", "pointed_hint", "quietly", "run_in_own_loop"]

P = ParamSpec("P")
T = TypeVar("T")


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
    (about 50 ms) even when it only ever speaks plain HTTP. One shared context keeps a check
    quick, and over HTTP it changes nothing that a check judges.
    """

    def client_kwargs(self) -> dict[str, Any]:
        return super().client_kwargs() or {"verify": plain_trust()}


def describe(exc: BaseException) -> str:
    """`httpx.PoolTimeout`, `RuntimeError: Cannot open ...`: the type, and the message's first line."""
    kind = type(exc).__name__
    if type(exc).__module__.split(".")[0] == "httpx":
        kind = f"httpx.{kind}"
    lines = str(exc).strip().splitlines()
    return f"{kind}: {lines[0]}" if lines else kind


NOT_YET_HINT = "Write its body, run that cell, then run this check again."

# Errors whose own message doesn't say what to change: (words in the verdict, a hint that does).
Slips = Sequence[tuple[str, str]]


def pointed_hint(problem: str, hint: str, slips: Slips) -> str:
    """The hint for `problem`: the one naming the fix when it shows a known slip, else `hint`."""
    return next((pointed for words, pointed in slips if words in problem), hint)


def learner_call(name: str, fn: Callable[..., T], *args: Any, hint: str, slips: Slips = (),
                 **kwargs: Any) -> T:
    """Call the learner's code; turn whatever it raises into a friendly `CheckFailed`.

    The hint is `hint`, or the one `slips` gives for that error. The failure is raised after the
    `except` block, so it carries words only: a chained traceback would keep the learner's
    frames (and the clients in them) alive, and their ResourceWarnings would surface later, in
    some other cell.
    """
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        problem, why = f"Not yet: {name} still raises NotImplementedError.", NOT_YET_HINT
    except CheckFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict, not a traceback
        problem = f"{name} raised {describe(exc)}"
        why = pointed_hint(problem, hint, slips)
    fail(problem, why)


async def learner_await(name: str, fn: Callable[..., Any], *args: Any, hint: str,
                        slips: Slips = (), **kwargs: Any) -> Any:
    """`learner_call` for coroutine functions."""
    try:
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
            verdict = CheckFailed(failure.problem,
                                  pointed_hint(failure.problem, failure.hint, slips))
        gc.collect()
    if verdict is not None:
        raise verdict
    return caught


def exercise_check(body: Callable[P, str]) -> Callable[P, bool]:
    """Wrap a check body: print `✅ message`, or `❌ problem` and `   Hint: ...`; return True/False.

    Whatever a wrong answer left behind (clients it never closed) is collected before the
    verdict, with its ResourceWarnings caught: otherwise they would surface later, in some
    other cell, as if that cell had done something wrong.
    """

    @functools.wraps(body)
    def check(*args: P.args, **kwargs: P.kwargs) -> bool:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            try:
                message = body(*args, **kwargs)
            except CheckFailed as failure:
                verdict = f"❌ {failure.problem}\n   Hint: {failure.hint}"
            except Exception as exc:  # noqa: BLE001 - whatever escaped, the learner sees a verdict
                verdict = (f"❌ The check could not run your code: {describe(exc)}\n"
                           "   Hint: re-run the cells above this one in order, then this check.")
            else:
                verdict = f"✅ {message}"
            gc.collect()
        print(verdict)
        return verdict.startswith("✅")

    check.__signature__ = inspect.signature(body)  # type: ignore[attr-defined]
    return check

"""How every exercise check talks to the learner: one verdict line, a hint, never a traceback.

A check is a function that runs the learner's code against a real LabServer and either returns
the success message or calls `fail(problem, hint)`. The `@exercise_check` decorator turns that
into the public `check_<name>(candidate) -> bool` that prints the verdict.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, NoReturn, ParamSpec, TypeVar

__all__ = ["CheckFailed", "exercise_check", "fail", "learner_await", "learner_call"]

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


def _describe(exc: BaseException) -> str:
    """`httpx.PoolTimeout`, `RuntimeError: Cannot open ...`: the type, and the message's first line."""
    kind = type(exc).__name__
    if type(exc).__module__.split(".")[0] == "httpx":
        kind = f"httpx.{kind}"
    lines = str(exc).strip().splitlines()
    return f"{kind}: {lines[0]}" if lines else kind


def learner_call(name: str, fn: Callable[..., T], *args: Any, hint: str, **kwargs: Any) -> T:
    """Call the learner's code; turn whatever it raises into a friendly `CheckFailed`."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        fail(f"Not yet: {name} still raises NotImplementedError.", "Write its body, run that cell, then run this check again.")
    except CheckFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict, not a traceback
        fail(f"{name} raised {_describe(exc)}", hint)


async def learner_await(name: str, fn: Callable[..., Any], *args: Any, hint: str, **kwargs: Any) -> Any:
    """`learner_call` for coroutine functions."""
    try:
        return await fn(*args, **kwargs)
    except NotImplementedError:
        fail(f"Not yet: {name} still raises NotImplementedError.", "Write its body, run that cell, then run this check again.")
    except CheckFailed:
        raise
    except Exception as exc:  # noqa: BLE001
        fail(f"{name} raised {_describe(exc)}", hint)


def exercise_check(body: Callable[P, str]) -> Callable[P, bool]:
    """Wrap a check body: print `✅ message`, or `❌ problem` and `   Hint: ...`; return True/False."""

    @functools.wraps(body)
    def check(*args: P.args, **kwargs: P.kwargs) -> bool:
        try:
            message = body(*args, **kwargs)
        except CheckFailed as failure:
            print(f"❌ {failure.problem}\n   Hint: {failure.hint}")
            return False
        except Exception as exc:  # noqa: BLE001 - whatever escaped, the learner sees a verdict
            print(f"❌ The check could not run your code: {_describe(exc)}\n"
                  "   Hint: re-run the cells above this one in order, then this check.")
            return False
        print(f"✅ {message}")
        return True

    check.__signature__ = inspect.signature(body)  # type: ignore[attr-defined]
    return check

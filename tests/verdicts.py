"""What every check test needs: a solution loaded from `solutions/`, and a check's verdict.

Wrong answers that build clients of their own pass `verify=plain_trust()`, the process's one
loaded CA bundle, as the check's clients do, instead of loading it again (tens of ms of CPU
each): a client per request is still a client per request, and no count a check reads changes.
"""

from __future__ import annotations

import gc
import importlib.util
import sys
import types
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import httpx2
import pytest

from labkit.checks._kernel import last_mistake
from tests.notebook_runner import ROOT


def load_solution(stem: str, name: str, *, library: str = "httpx") -> Any:
    """`name` from solutions/<stem>.py, loaded as a file: solutions/ is not a package.

    `library="httpx2"`: its `import httpx` gives httpx2, as `import httpx2 as httpx` would.
    """
    path = ROOT / "solutions" / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"solution_{stem}_{library}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved = sys.modules["httpx"]
    if library == "httpx2":
        sys.modules["httpx"] = httpx2  # for this module's own `import httpx` only
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules["httpx"] = saved
    return getattr(module, name)


def in_httpx2(answer: Any, base: type | None = None) -> Any:
    """The same answer, its code unchanged, written with `import httpx2 as httpx`: its functions
    (a class's own methods) see httpx2 as `httpx`. `base` replaces a class's first base (the
    solution loaded with `library="httpx2"`, for a wrong answer that subclasses it)."""

    def moved(function: types.FunctionType) -> types.FunctionType:
        namespace = {**function.__globals__, "httpx": httpx2}
        copy = types.FunctionType(
            function.__code__,
            namespace,
            function.__name__,
            function.__defaults__,
            function.__closure__,
        )
        copy.__kwdefaults__, copy.__qualname__ = function.__kwdefaults__, function.__qualname__
        copy.__dict__.update(function.__dict__)  # functools.wraps' __wrapped__, among others
        if namespace.get(function.__name__) is function:  # a recursive call: to the copy
            namespace[function.__name__] = copy
        return copy

    if isinstance(answer, types.FunctionType):
        return moved(answer)
    assert isinstance(answer, type), answer
    members: dict[str, Any] = {}
    for key, value in vars(answer).items():
        if key in ("__dict__", "__weakref__"):
            continue
        if isinstance(value, types.FunctionType):
            value = moved(value)
        elif isinstance(value, property) and isinstance(value.fget, types.FunctionType):
            setter = value.fset if isinstance(value.fset, types.FunctionType) else None
            value = property(moved(value.fget), setter and moved(setter))
        members[key] = value
    bases = (base, *answer.__bases__[1:]) if base is not None else answer.__bases__
    cls = type(answer.__name__, bases, members)
    for key, value in members.items():  # zero-argument super() reads a cell naming the class
        function = value.fget if isinstance(value, property) else value
        if (
            isinstance(function, types.FunctionType)
            and "__class__" in function.__code__.co_freevars
        ):
            cells = tuple(
                types.CellType(cls) if name == "__class__" else cell
                for name, cell in zip(
                    function.__code__.co_freevars, function.__closure__ or (), strict=True
                )
            )
            fixed = types.FunctionType(
                function.__code__,
                function.__globals__,
                function.__name__,
                function.__defaults__,
                cells,
            )
            fixed.__kwdefaults__, fixed.__qualname__ = (
                function.__kwdefaults__,
                function.__qualname__,
            )
            setattr(cls, key, property(fixed, value.fset) if isinstance(value, property) else fixed)
    return cls


def verdict(
    check: Callable[[Any], bool], answer: Any, capture: pytest.CaptureFixture[str]
) -> tuple[bool, str]:
    """Run a check; hold its output to the pack's form: one ✅ line, or a ❌ line and a hint.

    Nothing may reach stderr either: no warning, no "Task exception was never retrieved".
    """
    passed = check(answer)
    out, err = capture.readouterr()
    assert err == "", err
    if passed:
        assert out.startswith("✅ ") and out.count("\n") == 1, out
    else:
        assert out.startswith("❌ ") and "\n   Hint: " in out and out.count("\n") == 2, out
    return passed, out


def assert_rejected(
    check: Callable[[Any], bool],
    answer: Any,
    words: Sequence[str],
    capture: pytest.CaptureFixture[str],
) -> str:
    """A wrong answer gets a ❌ verdict (in the pack's form) that says each of `words`."""
    passed, out = verdict(check, answer, capture)
    assert passed is False, out
    missing = [word for word in words if word not in out]
    assert not missing, f"{missing} not in: {out}"
    return out


def assert_accepted(
    check: Callable[[Any], bool],
    answer: Any,
    words: Sequence[str],
    capture: pytest.CaptureFixture[str],
) -> str:
    """A right answer gets a ✅ verdict that says each of `words`: the evidence it reports
    (counts, orders), not only the check's fixed success text."""
    passed, out = verdict(check, answer, capture)
    assert passed is True, out
    missing = [word for word in words if word not in out]
    assert not missing, f"{missing} not in: {out}"
    return out


def left_behind(action: Callable[[], object], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What surfaces when garbage is collected after `action`: warnings, or errors in `__del__`.

    A check must collect a wrong answer's leftovers itself; otherwise their
    `ResourceWarning: unclosed <socket ...>` would appear later, in another cell.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()  # whatever earlier tests left behind is not this test's business
    action()
    unraisable: list[Any] = []  # a warning raised as an error in __del__ ends up here
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")
        gc.collect()
    return [str(w.message) for w in caught] + [str(u.exc_value) for u in unraisable]


def flavour_cases(table: Mapping[str, tuple[object, object]]) -> list[Any]:
    """`pytest.param(flavour, name)` for each (sync, async) answer a twin table gives (None: none).

    The sync and async tables of lessons 02/05 and 04/05 are parametrised over both flavours.
    """
    return [
        pytest.param(flavour, name, id=f"{flavour}: {name}")
        for name, pair in table.items()
        for flavour, answer in zip(("sync", "async"), pair, strict=True)
        if answer is not None
    ]


def in_libraries(cases: Sequence[Any], share: Collection[str]) -> list[Any]:
    """Each case (a name, or a `pytest.param` whose last value is the name) in httpx, and the
    ones named in `share` in httpx2 too, the last value `library`. The judging code is the same
    for both libraries (it only builds its clients with the answer's), so a share shows it
    while every other answer costs one run, not two (the check tests are most of the suite's
    time: .ci/run and pack-design's time targets)."""
    params = [pytest.param(case, id=case) if isinstance(case, str) else case for case in cases]
    unknown = set(share) - {param.values[-1] for param in params}
    assert not unknown, f"not among the cases: {sorted(unknown)}"
    return [
        pytest.param(*param.values, library, id=f"{param.id}-{library}")
        for param in params
        for library in ("httpx", "httpx2")
        if library == "httpx" or param.values[-1] in share
    ]


def assert_diagnosed(
    check: Callable[[Any], bool],
    answer: Any,
    mistake: str,
    capture: pytest.CaptureFixture[str],
    evidence: Sequence[str] = (),
    also: Sequence[str] = (),
) -> str:
    """A wrong answer gets a ❌ verdict (in the pack's form) naming the catalogue's `mistake`,
    and, where the evidence matters, saying each of `evidence`: never the hint's sentences, so
    rewording a hint touches the catalogue only. `also`: ids of the same mistake, by other
    evidence that a run may meet first (then `evidence` is not asked for)."""
    passed, out = verdict(check, answer, capture)
    assert passed is False, out
    if last_mistake() in also:
        return out
    assert last_mistake() == mistake, f"{last_mistake()} is not {mistake}: {out}"
    missing = [word for word in evidence if word not in out]
    assert not missing, f"{missing} not in: {out}"
    assert "0x" not in out, out
    return out

"""What every check test needs: a solution loaded from `solutions/`, and a check's verdict."""

from __future__ import annotations

import gc
import importlib.util
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from tests.notebook_runner import ROOT


def load_solution(stem: str, name: str) -> Any:
    """`name` from solutions/<stem>.py, loaded as a file: solutions/ is not a package."""
    path = ROOT / "solutions" / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"solution_{stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


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

"""Hints that teach in steps, for the challenges: evidence first, then where the notebook covers it.

A first ❌ of some kind names what the evidence shows (the server's counts, which client closed,
what ran where) and what to look at. The same kind of failure a second time in the same check
adds a pointer to the notebook section that covers it: a place to read, never the answer.
Memory is per Python process (one notebook kernel), keyed by check and failure kind; a pass
clears that check's memory. Tests call `reset_hint_steps()`.

Not yet on the catalogue (`_catalogue.py`): challenges 2, 4 and 5 write their words inline; a
failure's id is `<prefix>.<kind>` (`c5.same`), which tests can assert; the kernel's own
stepped hints (`@exercise_check(stepped=True)`) are where they are to move, as challenge 1's
have, and challenge 3's (`c1.*`, `c3.*`).
"""

from __future__ import annotations

from typing import NoReturn

from ._kernel import CheckFailed, reset_repeats

__all__ = ["HintSteps", "reset_hint_steps"]

# (check name, failure kind) -> how many times that check has failed that way.
_FAILURES: dict[tuple[str, str], int] = {}


def reset_hint_steps() -> None:
    """Forget every check's failures: each next ❌ is a first one again."""
    _FAILURES.clear()
    reset_repeats()


class HintSteps:
    """One challenge's stepped hints: `steps.fail(kind, problem, hint)` and `steps.passed()`."""

    def __init__(self, check: str, pointers: dict[str, str], prefix: str = "") -> None:
        self.check, self.prefix = check, prefix or check  # the ids: "<prefix>.<kind>"
        self.pointers = pointers  # failure kind -> "See section ..." (where the notebook covers it)

    def fail(self, kind: str, problem: str, hint: str) -> NoReturn:
        """Fail with `hint`; on this kind's second (or later) failure, add its pointer."""
        key = (self.check, kind)
        _FAILURES[key] = _FAILURES.get(key, 0) + 1
        pointer = self.pointers.get(kind, "")
        if _FAILURES[key] > 1 and pointer:
            hint = f"{hint} Still stuck? {pointer}"
        raise CheckFailed(problem, hint, f"{self.prefix}.{kind}" if kind else None)

    def repeats(self, kind: str) -> int:
        """How many times this check has failed with `kind` so far."""
        return _FAILURES.get((self.check, kind), 0)

    def passed(self) -> None:
        """Forget this check's failures."""
        for key in [key for key in _FAILURES if key[0] == self.check]:
            del _FAILURES[key]

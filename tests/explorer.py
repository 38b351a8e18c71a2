"""The pool explorer as a person drives it: sliders set, then (maybe) the Run button clicked."""

from __future__ import annotations

from labkit import explore_pool
from labkit.widgets import PoolExplorer


def explorer_with(**sliders: float) -> PoolExplorer:
    """A new explorer panel with these sliders moved (names as in `panel.controls`)."""
    panel = explore_pool()
    for name, value in sliders.items():
        panel.controls[name].value = value
    return panel

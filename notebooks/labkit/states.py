"""A client's state in plain words: "unopened", "opened" or "closed".

An `httpx.Client` (or `AsyncClient`) is UNOPENED when built, OPENED by `with` or by its first
request, and CLOSED at the end of the `with` block or by `close()`; it never reopens. Every
"Cannot open / reopen / send" `RuntimeError` comes from that one state machine, so lesson 01
shows the state after each step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from .libraries import client_types

if TYPE_CHECKING:  # lesson 09 passes httpx2's clients too
    import httpx2

__all__ = ["client_state"]


def client_state(
    client: httpx.Client | httpx.AsyncClient | httpx2.Client | httpx2.AsyncClient,
) -> str:
    """Name the client's state: "unopened", "opened" or "closed".

    This reads httpx's *private* `client._state` (a `ClientState` enum). httpx's only public
    question is `client.is_closed`, which cannot tell UNOPENED from OPENED. Private means httpx
    may change it in any release, so don't rely on it in production code. For teaching it is
    fine: it only looks, never changes anything, the pack pins httpx==0.29.0 and httpx2==2.17.0
    (whose clients keep the same attribute), and tests/test_states.py fails first if either
    library ever changes it.
    """
    if not isinstance(client, client_types()):  # httpx's, or httpx2's (labkit.libraries)
        raise ValueError(
            f"client must be an httpx.Client or httpx.AsyncClient, not {client!r} "
            f"({type(client).__name__})"
        )
    return client._state.name.lower()  # ClientState.OPENED -> "opened"

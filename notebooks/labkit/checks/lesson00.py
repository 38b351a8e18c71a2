"""Check for 00_start_here: the first request, to show how checks work."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ._framework import CheckServer, exercise_check, fail, learner_call


@exercise_check
def check_first_request(candidate: Callable[[httpx.Client, str], str]) -> str:
    """`first_request(client, url)` must return the body of GET url as text, using `client`."""
    with CheckServer() as server, httpx.Client(**server.client_kwargs()) as client:
        got = learner_call("first_request", candidate, client, server.url + "/delay/0.01",
                           hint="Use client.get(url), then return the response's .text.")
        if isinstance(got, httpx.Response):
            fail("first_request returned the whole response, not its text.", "Return response.text.")
        if got != "waited 0.01 s\n":
            fail(f"first_request returned {got!r}, not the body of the response.", "Return client.get(url).text.")
        if server.connections_opened != 1 or client.is_closed:
            fail("first_request did not use the client it was given (or closed it).",
                 "Call client.get(url) on the client you were given; don't build or close one.")
    return "first_request works: one request, on the client you were given."

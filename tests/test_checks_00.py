"""Lesson 00's check_first_request: right answers in any style pass, each wrong one is named."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import nbformat
import pytest

from labkit.checks import check_first_request
from tests.notebook_runner import ROOT
from tests.verdicts import assert_rejected, load_solution, verdict

NOTEBOOK = ROOT / "notebooks" / "00_start_here.ipynb"
FirstRequest = Callable[[httpx.Client, str], Any]


# Right answers, in the styles learners write.


def plain(client: httpx.Client, url: str) -> str:
    return client.get(url).text


def checked(client: httpx.Client, url: str) -> str:
    response = client.get(url)
    response.raise_for_status()
    return response.text


def built_and_sent(client: httpx.Client, url: str) -> str:
    return client.send(client.build_request("GET", url)).text


def streamed_and_read(client: httpx.Client, url: str) -> str:
    with client.stream("GET", url) as response:
        response.read()
        return response.text


def streamed_text(client: httpx.Client, url: str) -> str:
    with client.stream("GET", url) as response:
        return "".join(response.iter_text())


def by_request(client: httpx.Client, url: str) -> str:
    return client.request("GET", url).text


def decoded(client: httpx.Client, url: str) -> str:
    return client.get(url).content.decode()


def keywords(client: httpx.Client, url: str) -> str:
    return client.get(url=url, follow_redirects=True).text


class Caller:
    def __call__(self, client: httpx.Client, url: str) -> str:
        return client.get(url).text


RIGHT: dict[str, FirstRequest] = {
    "plain": plain,
    "raise_for_status": checked,
    "build_request + send": built_and_sent,
    "stream, read": streamed_and_read,
    "stream, iter_text": streamed_text,
    "client.request": by_request,
    "content.decode()": decoded,
    "keywords": keywords,
    "a lambda": lambda client, url: client.get(url).text,
    "a callable object": Caller(),
}


@pytest.mark.parametrize("name", RIGHT)
def test_each_right_answer_passes_and_the_verdict_counts_what_it_saw(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    passed, out = verdict(check_first_request, RIGHT[name], capsys)
    assert passed, out
    assert "3 calls, 3 requests, all on the client you were given (1 TCP connection)" in out


def test_the_solution_passes(capsys: pytest.CaptureFixture[str]) -> None:
    passed, out = verdict(
        check_first_request, load_solution("00_first_request", "first_request"), capsys
    )
    assert passed and "3 requests" in out, out


# Wrong answers, each as a learner might write it.

GLOBAL: list[httpx.Client] = []  # a module-level client, made at import time in a learner's cell


@pytest.fixture
def global_client() -> Iterator[None]:
    with httpx.Client() as client:
        GLOBAL[:] = [client]
        yield
    GLOBAL.clear()


def module_get(client: httpx.Client, url: str) -> str:
    return httpx.get(url).text


def own_client(client: httpx.Client, url: str) -> str:
    with httpx.Client() as mine:
        return mine.get(url).text


def module_level_client(client: httpx.Client, url: str) -> str:
    return GLOBAL[0].get(url).text


def same_settings(client: httpx.Client, url: str) -> str:
    with httpx.Client(
        headers=client.headers,
        timeout=client.timeout,
        base_url=client.base_url,
        follow_redirects=client.follow_redirects,
    ) as twin:
        return twin.get(url).text


def shares_the_transport(client: httpx.Client, url: str) -> str:
    with httpx.Client(transport=client._transport) as twin:  # the same pool, another client
        return twin.get(url).text


def opens_it(client: httpx.Client, url: str) -> str:
    with client:
        return client.get(url).text


def closes_after(client: httpx.Client, url: str) -> str:
    text = client.get(url).text
    client.close()
    return text


def the_response(client: httpx.Client, url: str) -> httpx.Response:
    return client.get(url)


def unread_stream(client: httpx.Client, url: str) -> httpx.Response:
    return client.send(client.build_request("GET", url), stream=True)


def text_outside_the_stream(client: httpx.Client, url: str) -> str:
    with client.stream("GET", url) as response:
        return response.text  # not read yet: ResponseNotRead


def the_bytes(client: httpx.Client, url: str) -> bytes:
    return client.get(url).content


def the_repr(client: httpx.Client, url: str) -> str:
    return str(client.get(url))


def no_return(client: httpx.Client, url: str) -> None:
    client.get(url).text  # noqa: B018


def json(client: httpx.Client, url: str) -> Any:
    return client.get(url).json()


def posts(client: httpx.Client, url: str) -> str:
    return client.post(url).text


def head(client: httpx.Client, url: str) -> str:
    return client.head(url).text


def twice(client: httpx.Client, url: str) -> str:
    client.get(url)  # "to check it works"
    return client.get(url).text


def stripped(client: httpx.Client, url: str) -> str:
    return client.get(url).text.strip()


def another_path(client: httpx.Client, url: str) -> str:
    return client.get(url + "/").text


def status(client: httpx.Client, url: str) -> int:
    return client.get(url).status_code


def a_generator(client: httpx.Client, url: str) -> Iterator[str]:
    yield client.get(url).text


def reason(client: httpx.Client, url: str) -> str:
    return client.get(url).reason_phrase


_SAVED: dict[str, str] = {}


def cached(client: httpx.Client, url: str) -> str:
    if url not in _SAVED:
        _SAVED[url] = client.get(url).text
    return _SAVED[url]


def stub(client: httpx.Client, url: str) -> str:
    raise NotImplementedError  # your code here


ANOTHER_CLIENT = [
    "sent its request on another client",
    "the given client sent nothing",
    "the server got 1 request",
    "`client` parameter",
]
WRONG: dict[str, tuple[FirstRequest, list[str]]] = {
    # name: (answer, words the verdict must contain)
    "httpx.get": (module_get, ANOTHER_CLIENT),
    "a client of its own": (own_client, ANOTHER_CLIENT),
    "a module-level client": (module_level_client, ANOTHER_CLIENT),
    "a client with the same settings": (same_settings, ANOTHER_CLIENT),
    "a client on the same transport": (shares_the_transport, ANOTHER_CLIENT),
    "with client:": (
        opens_it,
        [
            "raised RuntimeError: Cannot open a client instance more than once",
            "without `with client:`",
            "the caller opened it",
        ],
    ),
    "closes it": (
        closes_after,
        ["(call 1 of 3) closed the client it was given", "the caller closes it"],
    ),
    "the response": (
        the_response,
        ["returned the whole response, not its text", "Return response.text"],
    ),
    "an unread stream": (
        unread_stream,
        ["returned a streamed response whose body was never read", "response.read()"],
    ),
    "text outside the stream": (
        text_outside_the_stream,
        ["raised httpx.ResponseNotRead", "inside its `with client.stream"],
    ),
    "bytes": (the_bytes, ["returned bytes (b'waited 0.01 s\\n'), not text", "response.content"]),
    "the repr": (the_repr, ["returned '<Response [200 OK]>', not the body of GET url"]),
    "no return": (no_return, ["returned None", "`return` is missing"]),
    "json": (json, ["raised JSONDecodeError", "not JSON"]),
    "POST": (posts, ["sent POST /delay/0.01, not GET /delay/0.01"]),
    "HEAD": (head, ["sent HEAD /delay/0.01, not GET /delay/0.01"]),
    "twice": (twice, ["(call 1 of 3) sent 2 requests for one call", "once"]),
    "stripped": (
        stripped,
        ["returned 'waited 0.01 s', not the body of GET url, 'waited 0.01 s\\n'", "as it is"],
    ),
    "another path": (another_path, ["sent GET /delay/0.01/, not GET /delay/0.01"]),
    "the status code": (status, ["returned the number 200, the status code", "response.text"]),
    "a generator": (a_generator, ["returned a generator (from a_generator), not the body"]),
    "the reason": (reason, ["returned 'OK', not the body"]),
    "a saved answer": (
        cached,
        ["(call 3 of 3) returned the right text without sending a request", "each time"],
    ),
    "stub": (stub, ["❌ Not yet: first_request still raises NotImplementedError."]),
}


@pytest.mark.parametrize("name", WRONG)
def test_each_wrong_answer_is_rejected_with_a_telling_verdict(
    name: str, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    if name == "a module-level client":
        request.getfixturevalue("global_client")
    _SAVED.clear()
    answer, words = WRONG[name]
    out = assert_rejected(check_first_request, answer, words, capsys)
    assert "0x" not in out


def test_the_stub_in_the_stored_notebook_says_not_yet(capsys: pytest.CaptureFixture[str]) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.source.startswith("# %load ../solutions/00_first_request"))
    namespace: dict[str, Any] = {}
    exec(cell.source, namespace)  # noqa: S102 - the notebook's own stub
    assert_rejected(
        check_first_request,
        namespace["first_request"],
        ["Not yet: first_request still raises NotImplementedError."],
        capsys,
    )

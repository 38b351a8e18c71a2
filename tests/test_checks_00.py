"""Lesson 00's check_first_request: right answers in any style pass, each wrong one is named."""

from __future__ import annotations

import socket
import types
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import nbformat
import pytest

from labkit.checks import check_first_request
from tests.notebook_runner import ROOT
from tests.verdicts import assert_diagnosed, in_httpx2, in_libraries, load_solution, verdict

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


def typed(client: httpx.Client, url: str) -> str:
    response = client.get(url)
    if not isinstance(response, httpx.Response):  # true only on a client of its own library
        raise TypeError(f"not a response: {response!r}")
    return response.text


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
    "isinstance(response, httpx.Response)": typed,
    "a lambda": lambda client, url: client.get(url).text,
    "a callable object": Caller(),
}


@pytest.mark.parametrize("library", ["httpx", "httpx2"])
@pytest.mark.parametrize("name", RIGHT)
def test_each_right_answer_passes_and_the_verdict_counts_what_it_saw(
    name: str, library: str, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = RIGHT[name]
    if library == "httpx2" and isinstance(answer, types.FunctionType):
        answer = in_httpx2(answer)
    passed, out = verdict(check_first_request, answer, capsys)
    assert passed, out
    assert "3 calls, 3 requests, all on the client you were given (1 TCP connection)" in out


@pytest.mark.parametrize("library", ["httpx", "httpx2"])
def test_the_solution_passes(library: str, capsys: pytest.CaptureFixture[str]) -> None:
    solution = load_solution("00_first_request", "first_request", library=library)
    passed, out = verdict(check_first_request, solution, capsys)
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


def past_the_stub(client: httpx.Client, url: str) -> str:
    response = client.get(url)
    if response.status_code == 200:
        raise NotImplementedError("the rest")  # not the stub any more: not "Not yet"
    return response.text


def _nothing_listens() -> str:
    """An address on 127.0.0.1 where nothing listens: a connect there is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


COPIED = _nothing_listens()  # the lab server's address, copied from an earlier cell's output


def copied_address(client: httpx.Client, url: str) -> str:
    return httpx.get(COPIED + httpx.URL(url).path).text  # that server has stopped since


WRONG: dict[str, tuple[FirstRequest | str, str, list[str]]] = {
    # name: (answer, the mistake it must get, evidence the verdict must say)
    "httpx.get": (module_get, "00.other-client", ["the server got 1 request"]),
    "a client of its own": (own_client, "00.other-client", []),
    "a module-level client": (module_level_client, "00.other-client", []),
    "a client with the same settings": (same_settings, "00.other-client", []),
    "a client on the same transport": (shares_the_transport, "00.other-client", []),
    "with client:": (opens_it, "00.opened-given", ["Cannot open a client instance more than"]),
    "closes it": (closes_after, "00.closed-given", ["(call 1 of 3)"]),
    "the response": (the_response, "00.whole-response", []),
    "an unread stream": (unread_stream, "kernel.unread-body", []),
    "text outside the stream": (text_outside_the_stream, "00.unread-stream", []),
    "bytes": (the_bytes, "00.bytes", ["(b'waited 0.01 s\\n')"]),
    "the repr": (the_repr, "00.wrong-text", ["'<Response [200 OK]>'"]),
    "no return": (no_return, "00.none", []),
    "json": (json, "00.json", []),
    "POST": (posts, "00.wrong-request", ["POST /delay/0.01"]),
    "HEAD": (head, "00.wrong-request", ["HEAD /delay/0.01"]),
    "twice": (twice, "00.extra-requests", ["2 requests"]),
    "stripped": (stripped, "00.wrong-text", ["'waited 0.01 s'"]),
    "another path": (another_path, "00.wrong-request", ["GET /delay/0.01/"]),
    "the status code": (status, "00.status-code", []),
    "a generator": (a_generator, "00.not-text", ["a generator (from a_generator)"]),
    "the reason": (reason, "00.wrong-text", ["'OK'"]),
    "a saved answer": (cached, "00.saved-answer", ["(call 3 of 3)"]),
    "stub": (stub, "kernel.not-yet", []),
    "NotImplementedError from its own code": (past_the_stub, "00.other-error", []),
    "not the function": ("first_request", "kernel.needs-function", ["not a str"]),
    "httpx.get to a copied address": (copied_address, "00.refused", ["httpx.ConnectError"]),
}
# A share of the wrong answers, written with `import httpx2 as httpx`: the same diagnoses.
IN_HTTPX2 = ["httpx.get", "a client of its own", "with client:", "closes it", "an unread stream"]
IN_HTTPX2 += ["text outside the stream", "the response", "twice", "httpx.get to a copied address"]


@pytest.mark.parametrize(("name", "library"), in_libraries(list(WRONG), IN_HTTPX2))
def test_each_wrong_answer_is_rejected_with_a_telling_verdict(
    name: str, library: str, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    if name == "a module-level client":
        request.getfixturevalue("global_client")
    _SAVED.clear()
    answer, mistake, evidence = WRONG[name]
    if library == "httpx2":
        answer = in_httpx2(answer)
    assert_diagnosed(check_first_request, answer, mistake, capsys, evidence)


def test_the_stub_in_the_stored_notebook_says_not_yet(capsys: pytest.CaptureFixture[str]) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.source.startswith("# %load ../solutions/00_first_request"))
    namespace: dict[str, Any] = {}
    exec(cell.source, namespace)  # noqa: S102 - the notebook's own stub
    out = assert_diagnosed(
        check_first_request, namespace["first_request"], "kernel.not-yet", capsys
    )
    assert out.startswith("❌ Not yet: first_request still raises NotImplementedError.\n"), out

"""Lesson 01's checks: check_fetch_statuses and check_predictions pass right answers and
reject wrong ones, each with a hint that names its real mistake."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

import httpx
import nbformat
import pytest

from labkit.checks import check_fetch_statuses, check_predictions
from labkit.checks._kernel import reset_repeats
from labkit.checks.lesson01 import OUTCOMES, PREDICTION_KEY, UNANSWERED
from labkit.server import plain_trust
from tests.notebook_runner import ROOT
from tests.verdicts import assert_diagnosed, assert_rejected, in_httpx2, in_libraries, load_solution
from tests.verdicts import verdict as _verdict

# Wrong answers' own clients pass verify=plain_trust(): tests/verdicts.py says why.

NOTEBOOK = ROOT / "notebooks" / "01_the_reopen_error.ipynb"
FetchStatuses = Callable[[httpx.Client, list[str]], list[int]]


# --- check_fetch_statuses -------------------------------------------------------------------


def _solution() -> Any:
    return load_solution("01_fetch_statuses", "fetch_statuses")


@pytest.fixture(autouse=True)
def _first_hints() -> Iterator[None]:
    """Each test starts with no mistakes remembered (stepped hints)."""
    reset_repeats()
    yield
    reset_repeats()


@pytest.mark.parametrize("library", ["httpx", "httpx2"])
def test_the_solution_passes(library: str, capsys: pytest.CaptureFixture[str]) -> None:
    solution = load_solution("01_fetch_statuses", "fetch_statuses", library=library)
    passed, out = _verdict(check_fetch_statuses, solution, capsys)
    assert passed, out
    assert "3 calls, 12 requests on 1 TCP connection" in out


# Right answers, in the styles learners write.


def a_loop(client: httpx.Client, urls: list[str]) -> list[int]:
    codes = []
    for url in urls:
        response = client.get(url)
        codes.append(response.status_code)
    return codes


def mapped(client: httpx.Client, urls: list[str]) -> list[int]:
    return [response.status_code for response in map(client.get, urls)]


def built_and_sent(client: httpx.Client, urls: list[str]) -> list[int]:
    return [client.send(client.build_request("GET", url)).status_code for url in urls]


def streamed_and_read(client: httpx.Client, urls: list[str]) -> list[int]:
    codes = []
    for url in urls:
        with client.stream("GET", url) as response:
            response.read()
            codes.append(response.status_code)
    return codes


def caught_status_errors(client: httpx.Client, urls: list[str]) -> list[int]:
    codes = []
    for url in urls:
        try:
            codes.append(client.get(url).raise_for_status().status_code)
        except httpx.HTTPStatusError as exc:
            codes.append(exc.response.status_code)
    return codes


def from_a_generator(client: httpx.Client, urls: list[str]) -> list[int]:
    def codes() -> Iterator[int]:
        for url in urls:
            yield client.request("GET", url).status_code

    return list(codes())


def http_status_members(client: httpx.Client, urls: list[str]) -> list[int]:
    return [HTTPStatus(client.get(url).status_code) for url in urls]  # IntEnum: ints


def guarded(client: httpx.Client, urls: list[str]) -> list[int]:
    if client.is_closed:
        raise ValueError("fetch_statuses needs an open client")
    return [int(client.get(url).status_code) for url in urls]


RIGHT: dict[str, FetchStatuses] = {
    "a loop": a_loop,
    "map": mapped,
    "build_request + send": built_and_sent,
    "stream, read": streamed_and_read,
    "raise_for_status, caught": caught_status_errors,
    "a generator, listed": from_a_generator,
    "HTTPStatus members": http_status_members,
    "a guard": guarded,
    "a lambda": lambda client, urls: list(map(lambda url: client.get(url).status_code, urls)),
}


@pytest.mark.parametrize("library", ["httpx", "httpx2"])
@pytest.mark.parametrize("name", RIGHT)
def test_each_right_answer_passes(
    name: str, library: str, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = in_httpx2(RIGHT[name]) if library == "httpx2" else RIGHT[name]
    passed, out = _verdict(check_fetch_statuses, answer, capsys)
    assert passed, out
    assert "12 requests on 1 TCP connection" in out


# Wrong answers, each as a learner might write it.


def broken_original(client: httpx.Client, urls: list[str]) -> list[int]:
    with client:  # works once, fails the second time: fix me
        return [client.get(url).status_code for url in urls]


def own_client_per_call(client: httpx.Client, urls: list[str]) -> list[int]:
    with httpx.Client(verify=plain_trust()) as own:
        return [own.get(url).status_code for url in urls]


def httpx_get_per_url(client: httpx.Client, urls: list[str]) -> list[int]:
    return [httpx.get(url, verify=plain_trust()).status_code for url in urls]


def closes_the_client(client: httpx.Client, urls: list[str]) -> list[int]:
    try:
        return [client.get(url).status_code for url in urls]
    finally:
        client.close()


def swallows_the_error(client: httpx.Client, urls: list[str]) -> list[int]:
    try:
        with client:
            return [client.get(url).status_code for url in urls]
    except RuntimeError:  # "it failed the second time, so try again without with"
        return [client.get(url).status_code for url in urls]


def new_client_once_closed(client: httpx.Client, urls: list[str]) -> list[int]:
    if client.is_closed:
        client = httpx.Client(verify=plain_trust())
    with client:
        return [client.get(url).status_code for url in urls]


def strings(client: httpx.Client, urls: list[str]) -> list[str]:
    return [str(client.get(url).status_code) for url in urls]


def responses(client: httpx.Client, urls: list[str]) -> list[httpx.Response]:
    return [client.get(url) for url in urls]


def sorted_codes(client: httpx.Client, urls: list[str]) -> list[int]:
    return sorted(client.get(url).status_code for url in urls)


def raises_for_status(client: httpx.Client, urls: list[str]) -> list[int]:
    codes = []
    for url in urls:
        response = client.get(url)
        response.raise_for_status()
        codes.append(response.status_code)
    return codes


def stub(client: httpx.Client, urls: list[str]) -> list[int]:
    raise NotImplementedError  # your code here


def past_the_stub(client: httpx.Client, urls: list[str]) -> list[int]:
    if len(urls) > 4:
        raise NotImplementedError("long lists")  # code of its own: no longer the stub
    return [client.get(url).status_code for url in urls]


def a_tuple(client: httpx.Client, urls: list[str]) -> tuple[int, ...]:
    return tuple(client.get(url).status_code for url in urls)


def only_the_first(client: httpx.Client, urls: list[str]) -> list[int]:
    return [client.get(urls[0]).status_code]


def forgets_return(client: httpx.Client, urls: list[str]) -> list[int]:  # type: ignore[return]
    codes = [client.get(url).status_code for url in urls]  # noqa: F841


def typo(client: httpx.Client, urls: list[str]) -> list[int]:
    return [client.get(url).status for url in urls]  # type: ignore[attr-defined]


def each_url_twice(client: httpx.Client, urls: list[str]) -> list[int]:
    return [client.get(url).status_code for url in urls if client.get(url)]  # "is it up?"


def a_thread_pool(client: httpx.Client, urls: list[str]) -> list[int]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda url: client.get(url).status_code, urls))


def a_thread_per_url(client: httpx.Client, urls: list[str]) -> list[int]:
    codes: dict[int, int] = {}

    def one(index: int, url: str) -> None:
        codes[index] = client.get(url).status_code

    threads = [threading.Thread(target=one, args=pair) for pair in enumerate(urls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [codes[index] for index in range(len(urls))]


def connection_close(client: httpx.Client, urls: list[str]) -> list[int]:
    return [client.get(url, headers={"Connection": "close"}).status_code for url in urls]


def streamed_unread(client: httpx.Client, urls: list[str]) -> list[int]:
    codes = []
    for url in urls:
        with client.stream("GET", url) as response:  # the body is never read
            codes.append(response.status_code)
    return codes


def streamed_unclosed(client: httpx.Client, urls: list[str]) -> list[int]:
    codes = []
    for url in urls:
        response = client.send(client.build_request("GET", url), stream=True)  # never closed
        codes.append(response.status_code)
    return codes


def a_generator(client: httpx.Client, urls: list[str]) -> Iterator[int]:
    return (client.get(url).status_code for url in urls)


def a_dict(client: httpx.Client, urls: list[str]) -> dict[str, int]:
    return {url: client.get(url).status_code for url in urls}


def skips_repeats(client: httpx.Client, urls: list[str]) -> list[int]:
    codes = {url: client.get(url).status_code for url in dict.fromkeys(urls)}
    return [codes[url] for url in urls]


_SAVED: dict[str, int] = {}


def saved_answers(client: httpx.Client, urls: list[str]) -> list[int]:
    for url in urls:
        if url not in _SAVED:
            _SAVED[url] = client.get(url).status_code
    return [_SAVED[url] for url in urls]


def head(client: httpx.Client, urls: list[str]) -> list[int]:
    return [client.head(url).status_code for url in urls]


def reasons(client: httpx.Client, urls: list[str]) -> list[str]:
    return [client.get(url).reason_phrase for url in urls]


def successes(client: httpx.Client, urls: list[str]) -> list[bool]:
    return [client.get(url).is_success for url in urls]


def none_for_errors(client: httpx.Client, urls: list[str]) -> list[int | None]:
    codes: list[int | None] = []
    for url in urls:
        try:
            codes.append(client.get(url).raise_for_status().status_code)
        except httpx.HTTPStatusError:
            codes.append(None)
    return codes


def reversed_order(client: httpx.Client, urls: list[str]) -> list[int]:
    return [client.get(url).status_code for url in reversed(urls)]


def enters_it(client: httpx.Client, urls: list[str]) -> list[int]:
    client.__enter__()
    return [client.get(url).status_code for url in urls]


def a_client_per_url(client: httpx.Client, urls: list[str]) -> list[int]:
    codes = []
    for url in urls:
        with httpx.Client(verify=plain_trust()) as own:
            codes.append(own.get(url).status_code)
    return codes


def same_settings(client: httpx.Client, urls: list[str]) -> list[int]:
    with httpx.Client(verify=plain_trust(), timeout=client.timeout, headers=client.headers) as twin:
        return [twin.get(url).status_code for url in urls]


def no_keepalive_client(client: httpx.Client, urls: list[str]) -> list[int]:
    with httpx.Client(
        verify=plain_trust(), limits=httpx.Limits(max_keepalive_connections=0)
    ) as own:
        return [own.get(url).status_code for url in urls]


def empties_the_pool_after(client: httpx.Client, urls: list[str]) -> list[int]:
    codes = [client.get(url).status_code for url in urls]
    client._transport.close()  # "tidy up our connections, leave the client open"
    return codes


WRONG: dict[str, tuple[Any, str, list[str]]] = {
    # name: (answer, the mistake it must get, evidence the verdict must say)
    "broken original": (broken_original, "01.with-client", ["works once"]),
    "own client per call": (
        own_client_per_call,
        "01.other-client",
        ["the server saw 3 TCP connections for 12 requests", "0 of them"],
    ),
    "httpx.get per url": (httpx_get_per_url, "01.other-client", ["12 TCP connections"]),
    "closes the client": (closes_the_client, "01.closed-given-error", []),
    "swallows the error": (swallows_the_error, "01.closed-given-error", []),
    "new client once closed": (new_client_once_closed, "01.closed-given", []),
    "strings": (strings, "list.odd-items", ["str items such as '404'"]),
    "responses": (responses, "list.responses", []),
    "reordered": (sorted_codes, "list.order", []),
    "raise_for_status": (raises_for_status, "01.raise-for-status", ["on a 404 answer"]),
    "stub": (stub, "kernel.not-yet", []),
    "a tuple": (a_tuple, "list.not-a-list", ["a tuple"]),
    "too few": (only_the_first, "list.count", ["1 status code for 5 URLs"]),
    "no return": (forgets_return, "list.none", []),
    "another exception": (typo, "01.other-error", ["AttributeError"]),
    # Every request on the given client, and yet more than one connection, or not one request
    # per URL: the diagnosis names what the evidence shows, never "another client".
    "each URL twice": (each_url_twice, "01.repeats", ["24 requests for 12 URLs"]),
    "a thread pool": (a_thread_pool, "01.threads", []),
    "a thread per URL": (a_thread_per_url, "01.threads", []),
    "Connection: close": (connection_close, "01.connection-close", ["12 of them"]),
    "a stream never read": (streamed_unread, "01.unread-stream", ["12 streamed responses"]),
    "a stream never closed": (streamed_unclosed, "01.unclosed-stream", ["12 streamed responses"]),
    "skips repeated URLs": (skips_repeats, "01.skipped", ["11 requests for 12 URLs"]),
    "saved answers": (saved_answers, "01.skipped", ["9 requests for 12 URLs"]),
    "HEAD": (head, "01.wrong-request", ["(call 1) sent HEAD /status/404"]),
    "own client, same settings": (same_settings, "01.other-client", ["0 of them"]),
    "a client per URL": (a_client_per_url, "01.other-client", ["12 TCP connections"]),
    "a client without keep-alive": (no_keepalive_client, "01.other-client", []),
    "a generator": (a_generator, "list.not-a-list", ["a generator (from a_generator."]),
    "a dict": (a_dict, "list.not-a-list", ["a dict"]),
    "reason phrases": (reasons, "list.odd-items", ["'Not Found'"]),
    "booleans": (successes, "list.odd-items", ["bool items"]),
    "None for errors": (none_for_errors, "list.odd-items", ["NoneType items"]),
    "reversed": (reversed_order, "list.order", []),
    "enters the client": (enters_it, "01.opened-given", []),
    "NotImplementedError past the stub": (past_the_stub, "01.other-error", []),
    "not the function": (None, "kernel.needs-function", ["not None"]),
    "empties the pool after each call": (
        empties_the_pool_after,
        "01.churn",
        ["3 TCP connections for 12 requests"],
    ),
}
# A share of the wrong answers, written with `import httpx2 as httpx`: the same diagnoses.
IN_HTTPX2 = ["broken original", "own client per call", "httpx.get per url", "closes the client"]
IN_HTTPX2 += ["raise_for_status", "Connection: close", "a stream never read", "enters the client"]
IN_HTTPX2 += ["empties the pool after each call"]


@pytest.mark.parametrize(("name", "library"), in_libraries(list(WRONG), IN_HTTPX2))
def test_each_wrong_answer_is_rejected_with_a_telling_verdict(
    name: str, library: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _SAVED.clear()
    answer, mistake, evidence = WRONG[name]
    if library == "httpx2":
        answer = in_httpx2(answer)
    assert_diagnosed(check_fetch_statuses, answer, mistake, capsys, evidence)


def test_the_same_mistake_twice_points_into_the_notebook(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = assert_diagnosed(check_fetch_statuses, broken_original, "01.with-client", capsys)
    again = assert_diagnosed(check_fetch_statuses, broken_original, "01.with-client", capsys)
    assert "Still stuck?" not in first
    assert "Still stuck? See notebook 01, section “4.1 `with self.client:` in a method”." in again
    assert_diagnosed(check_fetch_statuses, closes_the_client, "01.closed-given-error", capsys)
    passed, _ = _verdict(check_fetch_statuses, _solution(), capsys)  # a pass forgets them all
    first = assert_diagnosed(check_fetch_statuses, broken_original, "01.with-client", capsys)
    assert passed and "Still stuck?" not in first


def _function(source: str, name: str) -> ast.FunctionDef:
    tree = ast.parse(textwrap.dedent(source))
    return next(
        node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == name
    )


def test_the_broken_original_is_what_the_stored_notebook_shows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    index = next(
        i
        for i, c in enumerate(cells)
        if c.source.startswith("# %load ../solutions/01_fetch_statuses.py")
    )
    stub_cell, check_cell = cells[index], cells[index + 1]
    # The stub in the notebook is the broken original this test rejects, statement for statement.
    stored = _function(stub_cell.source, "fetch_statuses")
    mine = _function(inspect.getsource(broken_original), "broken_original")
    assert [ast.dump(node) for node in stored.body[1:]] == [ast.dump(node) for node in mine.body]
    # And the check's verdict on it is the one stored under the check cell.
    namespace: dict[str, object] = {}
    exec(stub_cell.source, namespace)  # noqa: S102 - the notebook's own stub
    assert "check_fetch_statuses(fetch_statuses)" in check_cell.source
    passed, out = _verdict(check_fetch_statuses, namespace["fetch_statuses"], capsys)
    shown = "".join(o.get("text", "") for o in check_cell.outputs if o.output_type == "stream")
    assert passed is False and out == shown


# --- check_predictions ----------------------------------------------------------------------


def test_the_right_predictions_pass_as_a_list_or_a_dict(capsys: pytest.CaptureFixture[str]) -> None:
    assert _verdict(check_predictions, list(PREDICTION_KEY), capsys)[0]
    assert _verdict(check_predictions, dict(enumerate(PREDICTION_KEY, 1)), capsys)[0]
    # typed by hand: spaces and a missing "RuntimeError: " are forgiven
    typed = [f"  {answer.removeprefix('RuntimeError: ')} " for answer in PREDICTION_KEY]
    assert _verdict(check_predictions, typed, capsys)[0]


TYPED_BY_HAND = {
    # how a learner types the answers when the dropdowns don't show: a human would accept each
    "no final period": [answer.rstrip(".") for answer in PREDICTION_KEY],
    "lower case": [answer.lower() for answer in PREDICTION_KEY],
    "capitalised, with a period": [
        answer.capitalize() + ("." if answer == "works" else "") for answer in PREDICTION_KEY
    ],
    "no commas, no prefix": [
        answer.removeprefix("RuntimeError: ").replace(",", "") for answer in PREDICTION_KEY
    ],
    "extra spaces": [
        " ".join(answer.split()).replace(" ", "  ") + " " for answer in PREDICTION_KEY
    ],
    "a tuple": tuple(PREDICTION_KEY),
    "a dict with str keys": {str(n): answer for n, answer in enumerate(PREDICTION_KEY, 1)},
    "a dict keyed by snippet names": {
        f"Snippet {n}": answer for n, answer in enumerate(PREDICTION_KEY, 1)
    },
}


@pytest.mark.parametrize("name", TYPED_BY_HAND)
def test_typed_predictions_pass_whatever_their_case_spaces_and_final_period(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    passed, out = _verdict(check_predictions, TYPED_BY_HAND[name], capsys)
    assert passed, out
    assert "All 5 predictions right" in out


def test_typed_predictions_are_still_judged(capsys: pytest.CaptureFixture[str]) -> None:
    answers = [answer.lower().rstrip(".") for answer in PREDICTION_KEY]
    answers[0] = "runtimeerror: cannot open a client instance more than once"  # snippet 1: wrong
    assert_rejected(
        check_predictions, answers, ["4 of 5 right: snippet 1 does something else."], capsys
    )


def test_an_answer_that_is_no_choice_is_told_exactly_what_is_expected(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = list(PREDICTION_KEY)
    answers[3] = "it works"
    assert_rejected(
        check_predictions,
        answers,
        [
            "the answer for snippet 4 is not one of the choices",
            "'works'",
            '"Cannot open a client instance more than once."',
            '"Cannot reopen a client instance, once it has been closed."',
            '"Cannot send a request, as the client has been closed."',
            "case, punctuation and 'RuntimeError: ' don't matter",
        ],
        capsys,
    )


def test_blank_answers_are_not_yet_answers(capsys: pytest.CaptureFixture[str]) -> None:
    answers = list(PREDICTION_KEY)
    answers[2], answers[4] = "   ", "Choose..."
    assert_rejected(
        check_predictions, answers, ["Not yet: no prediction yet for snippets 3 and 5."], capsys
    )


def test_the_solution_file_sets_the_right_predictions_and_the_dropdowns() -> None:
    class FakeDropdown:
        value = UNANSWERED

    dropdowns = [FakeDropdown() for _ in PREDICTION_KEY]
    namespace: dict[str, object] = {"predictions": dropdowns}
    exec((ROOT / "solutions" / "01_predictions.py").read_text(encoding="utf-8"), namespace)  # noqa: S102
    assert namespace["my_predictions"] == list(PREDICTION_KEY)
    assert [d.value for d in dropdowns] == list(PREDICTION_KEY)


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        (
            [UNANSWERED] * 5,
            ["❌ Not yet: no prediction yet for snippets 1, 2, 3, 4 and 5.", "dropdown"],
        ),
        (list(PREDICTION_KEY[:4]) + [UNANSWERED], ["❌ Not yet: no prediction yet for snippet 5."]),
        (
            {1: PREDICTION_KEY[0], 3: PREDICTION_KEY[2]},
            ["❌ Not yet: no prediction yet for snippets 2, 4 and 5."],
        ),
        (None, ["❌ Not yet: no predictions yet."]),
    ],
)
def test_unanswered_predictions_say_not_yet(
    answers: object, words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert_rejected(check_predictions, answers, words, capsys)


def test_wrong_predictions_name_the_snippets_not_the_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = list(PREDICTION_KEY)
    answers[1] = "works"  # snippet 2: the classic mistake
    answers[4] = "RuntimeError: Cannot reopen a client instance, once it has been closed."
    out = assert_rejected(
        check_predictions, answers, ["3 of 5 right: snippets 2 and 5 do something else."], capsys
    )
    assert PREDICTION_KEY[1] not in out and PREDICTION_KEY[4] not in out  # no answers given away

    assert_rejected(
        check_predictions,
        ["works"] * 5,
        ["1 of 5 right: snippets 1, 2, 3 and 5 do something else."],
        capsys,
    )


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        (["works"] * 4, ["got 4 predictions for 5 snippets"]),
        (
            ["works", "it breaks", "works", "works", "works"],
            ["the answer for snippet 2 is not one of the choices"],
        ),
        ({0: "works", 7: "works"}, ["there is no snippet 0, 7"]),
        ("works", ["needs a list of 5 answers, not str"]),
        (
            ["Cannot reopen", "works", "works", "works", "works"],
            ["snippet 1 is not one of the choices", "word for word"],
        ),
    ],
)
def test_malformed_predictions_get_a_verdict(
    answers: object, words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert_rejected(check_predictions, answers, words, capsys)


def test_passing_the_dropdowns_themselves_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    class FakeDropdown:
        value = PREDICTION_KEY[0]

    assert_rejected(
        check_predictions,
        [FakeDropdown() for _ in PREDICTION_KEY],
        ["got the dropdowns themselves", "[d.value for d in predictions]"],
        capsys,
    )


# --- the answer key is what httpx really does, as the stored notebook shows -------------------


def _snippet_cells() -> dict[int, nbformat.NotebookNode]:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    found = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and (
            match := re.search(r"^# Snippet (\d)$", cell.source, re.MULTILINE)
        ):
            found[int(match.group(1))] = cell
    return found


def test_the_answer_key_matches_the_snippets_as_run_in_the_notebook() -> None:
    cells = _snippet_cells()
    assert sorted(cells) == [1, 2, 3, 4, 5]
    for number, right in enumerate(PREDICTION_KEY, 1):
        errors = [o for o in cells[number].outputs if o.output_type == "error"]
        shown = f"{errors[0].ename}: {errors[0].evalue}" if errors else "works"
        assert shown == right, f"snippet {number}"
        assert ("NBVAL_RAISES_EXCEPTION" in cells[number].source) == (right != "works")


def test_the_dropdowns_offer_exactly_the_checks_outcomes() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "widgets.Dropdown(" in c.source)
    assign = next(
        node
        for node in ast.parse(cell.source).body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "choices"
    )
    assert ast.literal_eval(assign.value) == [UNANSWERED, *OUTCOMES]
    assert set(PREDICTION_KEY) <= set(OUTCOMES)

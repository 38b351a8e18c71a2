"""Lesson 01's checks: check_fetch_statuses and check_predictions pass right answers, reject wrong ones."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

import httpx
import nbformat
import pytest

from labkit.checks import check_fetch_statuses, check_predictions
from labkit.checks.lesson01 import OUTCOMES, PREDICTION_KEY, UNANSWERED
from tests.notebook_runner import ROOT
from tests.verdicts import assert_rejected, load_solution
from tests.verdicts import verdict as _verdict

NOTEBOOK = ROOT / "notebooks" / "01_the_reopen_error.ipynb"
FetchStatuses = Callable[[httpx.Client, list[str]], list[int]]


# --- check_fetch_statuses -------------------------------------------------------------------

def _solution() -> Any:
    return load_solution("01_fetch_statuses", "fetch_statuses")


def test_the_solution_passes(capsys: pytest.CaptureFixture[str]) -> None:
    passed, out = _verdict(check_fetch_statuses, _solution(), capsys)
    assert passed, out
    assert "one TCP connection" in out


# Wrong answers, each as a learner might write it.

def broken_original(client: httpx.Client, urls: list[str]) -> list[int]:
    with client:  # works once, fails the second time: fix me
        return [client.get(url).status_code for url in urls]


def own_client_per_call(client: httpx.Client, urls: list[str]) -> list[int]:
    with httpx.Client() as own:
        return [own.get(url).status_code for url in urls]


def httpx_get_per_url(client: httpx.Client, urls: list[str]) -> list[int]:
    return [httpx.get(url).status_code for url in urls]


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
        client = httpx.Client()
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


def a_tuple(client: httpx.Client, urls: list[str]) -> tuple[int, ...]:
    return tuple(client.get(url).status_code for url in urls)


def only_the_first(client: httpx.Client, urls: list[str]) -> list[int]:
    return [client.get(urls[0]).status_code]


def forgets_return(client: httpx.Client, urls: list[str]) -> list[int]:
    codes = [client.get(url).status_code for url in urls]  # noqa: F841


def typo(client: httpx.Client, urls: list[str]) -> list[int]:
    return [client.get(url).status for url in urls]  # type: ignore[attr-defined]


WRONG = {
    # name: (answer, words the verdict must contain)
    "broken original": (broken_original, [
        "❌ Not yet: fetch_statuses works once, then fails the second time with "
        "RuntimeError: Cannot reopen a client instance, once it has been closed.",
        "Remove `with client:`", "the caller owns the client"]),
    "own client per call": (own_client_per_call, [
        "the server saw 3 TCP connections for 12 requests", "0 of them used the client",
        "don't build a client"]),
    "httpx.get per url": (httpx_get_per_url, ["the server saw 12 TCP connections for 12 requests"]),
    "closes the client": (closes_the_client, [
        "closed the client it was given", "Cannot send a request, as the client has been closed.",
        "no client.close()", "no `with client:`"]),
    "swallows the error": (swallows_the_error, [
        "closed the client it was given", "Cannot send a request, as the client has been closed.",
        "no `with client:`", "the end of that block closes it"]),
    "new client once closed": (new_client_once_closed, [
        "❌ fetch_statuses closed the client it was given.", "no `with client:`"]),
    "strings": (strings, ["returned str items such as '404', not int status codes"]),
    "responses": (responses, ["returned Response objects", "response.status_code"]),
    "reordered": (sorted_codes, ["right but not in the order of urls"]),
    "raise_for_status": (raises_for_status, [
        "raised httpx.HTTPStatusError on a 404 answer", "Don't call raise_for_status()"]),
    "stub": (stub, ["❌ Not yet: fetch_statuses still raises NotImplementedError."]),
    "a tuple": (a_tuple, ["returned a tuple, not a list of status codes"]),
    "too few": (only_the_first, ["returned 1 status code for 5 URLs"]),
    "no return": (forgets_return, ["returned None", "`return` is missing"]),
    "another exception": (typo, ["fetch_statuses raised AttributeError", "Fix that error"]),
}


@pytest.mark.parametrize("name", WRONG)
def test_each_wrong_answer_is_rejected_with_a_telling_verdict(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    answer, words = WRONG[name]
    assert_rejected(check_fetch_statuses, answer, words, capsys)


def test_the_broken_original_is_what_the_stored_notebook_shows() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    stub_cell = next(c for c in nb.cells if "# %load ../solutions/01_fetch_statuses.py" in c.source)
    namespace: dict[str, object] = {}
    exec(stub_cell.source, namespace)  # noqa: S102 - the notebook's own stub
    assert check_fetch_statuses(namespace["fetch_statuses"]) is False


# --- check_predictions ----------------------------------------------------------------------

def test_the_right_predictions_pass_as_a_list_or_a_dict(capsys: pytest.CaptureFixture[str]) -> None:
    assert _verdict(check_predictions, list(PREDICTION_KEY), capsys)[0]
    assert _verdict(check_predictions, dict(enumerate(PREDICTION_KEY, 1)), capsys)[0]
    # typed by hand: spaces and a missing "RuntimeError: " are forgiven
    typed = [f"  {answer.removeprefix('RuntimeError: ')} " for answer in PREDICTION_KEY]
    assert _verdict(check_predictions, typed, capsys)[0]


def test_the_solution_file_sets_the_right_predictions_and_the_dropdowns() -> None:
    class FakeDropdown:
        value = UNANSWERED

    dropdowns = [FakeDropdown() for _ in PREDICTION_KEY]
    namespace: dict[str, object] = {"predictions": dropdowns}
    exec((ROOT / "solutions" / "01_predictions.py").read_text(encoding="utf-8"), namespace)  # noqa: S102
    assert namespace["my_predictions"] == list(PREDICTION_KEY)
    assert [d.value for d in dropdowns] == list(PREDICTION_KEY)


@pytest.mark.parametrize(("answers", "words"), [
    ([UNANSWERED] * 5, ["❌ Not yet: no prediction yet for snippets 1, 2, 3, 4 and 5.", "dropdown"]),
    (list(PREDICTION_KEY[:4]) + [UNANSWERED], ["❌ Not yet: no prediction yet for snippet 5."]),
    ({1: PREDICTION_KEY[0], 3: PREDICTION_KEY[2]}, ["❌ Not yet: no prediction yet for snippets 2, 4 and 5."]),
    (None, ["❌ Not yet: no predictions yet."]),
])
def test_unanswered_predictions_say_not_yet(answers: object, words: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert_rejected(check_predictions, answers, words, capsys)


def test_wrong_predictions_name_the_snippets_not_the_answers(capsys: pytest.CaptureFixture[str]) -> None:
    answers = list(PREDICTION_KEY)
    answers[1] = "works"  # snippet 2: the classic mistake
    answers[4] = "RuntimeError: Cannot reopen a client instance, once it has been closed."
    out = assert_rejected(check_predictions, answers,
                          ["3 of 5 right: snippets 2 and 5 do something else."], capsys)
    assert PREDICTION_KEY[1] not in out and PREDICTION_KEY[4] not in out  # no answers given away

    assert_rejected(check_predictions, ["works"] * 5,
                    ["1 of 5 right: snippets 1, 2, 3 and 5 do something else."], capsys)


@pytest.mark.parametrize(("answers", "words"), [
    (["works"] * 4, ["got 4 predictions for 5 snippets"]),
    (["works", "it breaks", "works", "works", "works"], ["the answer for snippet 2 is not one of the choices"]),
    ({0: "works", 7: "works"}, ["there is no snippet 0, 7"]),
    ("works", ["needs a list of 5 answers, not str"]),
    (["Cannot reopen", "works", "works", "works", "works"],
     ["snippet 1 is not one of the choices", "word for word"]),
])
def test_malformed_predictions_get_a_verdict(answers: object, words: list[str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert_rejected(check_predictions, answers, words, capsys)


def test_passing_the_dropdowns_themselves_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    class FakeDropdown:
        value = PREDICTION_KEY[0]

    assert_rejected(check_predictions, [FakeDropdown() for _ in PREDICTION_KEY],
                    ["got the dropdowns themselves", "[d.value for d in predictions]"], capsys)


# --- the answer key is what httpx really does, as the stored notebook shows -------------------

def _snippet_cells() -> dict[int, nbformat.NotebookNode]:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    found = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and (match := re.search(r"^# Snippet (\d)$", cell.source, re.MULTILINE)):
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
    assign = next(node for node in ast.parse(cell.source).body
                  if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "choices")
    assert ast.literal_eval(assign.value) == [UNANSWERED, *OUTCOMES]
    assert set(PREDICTION_KEY) <= set(OUTCOMES)

"""check_fetch_all passes the solution and rejects each classic mistake with a verdict that names it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import httpx
import nbformat
import pytest

from labkit.checks import check_fetch_all
from tests.notebook_runner import ROOT, stub_cells
from tests.verdicts import assert_rejected, left_behind, load_solution, verdict

NOTEBOOK = ROOT / "notebooks" / "02_open_once_share_across_threads.ipynb"
FetchAll = Callable[[httpx.Client, list[str], int], list[str]]


def _solution() -> Any:
    return load_solution("02_fetch_all", "fetch_all")


def _verdict(candidate: Any, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    return verdict(check_fetch_all, candidate, capsys)


def test_the_solution_passes(capsys: pytest.CaptureFixture[str]) -> None:
    passed, out = _verdict(_solution(), capsys)
    assert passed, out
    assert out.startswith("✅ fetch_all works") and out.count("\n") == 1


# Wrong answers, each as a learner might write it.

def client_per_request(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    def fetch(url: str) -> str:
        with httpx.Client() as own:
            return own.get(url).text

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(fetch, urls))


def one_new_shared_client(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with httpx.Client() as own, ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(lambda url: own.get(url).text, urls))


def closes_the_client(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        bodies = list(pool.map(lambda url: client.get(url).text, urls))
    client.close()
    return bodies


def with_the_given_client(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with client, ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(lambda url: client.get(url).text, urls))


def sequential(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    return [client.get(url).text for url in urls]


def completion_order(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = [pool.submit(client.get, url) for url in urls]
        return [future.result().text for future in as_completed(futures)]


def a_thread_per_url(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return list(pool.map(lambda url: client.get(url).text, urls))


def status_codes(client: httpx.Client, urls: list[str], max_workers: int) -> list[int]:
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(lambda url: client.get(url).status_code, urls))


def httpx_get_per_request(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(lambda url: httpx.get(url).text, urls))


def returns_the_map_iterator(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return pool.map(lambda url: client.get(url).text, urls)  # type: ignore[return-value]


def returns_futures(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return [pool.submit(lambda u: client.get(u).text, url) for url in urls]  # type: ignore[misc]


def closes_then_sends(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    client.close()  # "tidying up" in the wrong place
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(lambda url: client.get(url).text, urls))


def stub(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    raise NotImplementedError  # your code here


def raises(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    raise ValueError("oops, a typo")


def hardcoded_three_workers(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(lambda url: client.get(url).text, urls))


def default_pool_size(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    with ThreadPoolExecutor() as pool:  # min(32, cpus + 4) threads: at least 5
        return list(pool.map(lambda url: client.get(url).text, urls))


WRONG = {
    # name: (answer, words the verdict must contain)
    "client per request": (client_per_request, ["sent 0 of its 8 requests on the client it was given",
                                                "8 TCP connections", "Don't build clients inside fetch_all"]),
    "its own shared client": (one_new_shared_client, ["sent 0 of its 8 requests on the client it was given"]),
    "closes the client": (closes_the_client, ["closed the client it was given"]),
    "with client: inside": (with_the_given_client, [
        "raised RuntimeError: Cannot open a client instance more than once.", "already open",
        "remove `with client:`"]),
    "httpx.get() per request": (httpx_get_per_request, ["sent 0 of its 8 requests on the client it was given",
                                                        "httpx.get() builds one on every call"]),
    "returns pool.map's iterator": (returns_the_map_iterator, ["returned a generator (an iterator)",
                                                               "return list(pool.map(fetch, urls))"]),
    "returns futures": (returns_futures, ["returned Future objects", "future.result()"]),
    "closes, then sends": (closes_then_sends, [
        "raised RuntimeError: Cannot send a request, as the client has been closed.",
        "closed the client it was given", "leave it open"]),
    "sequential": (sequential, ["one at a time", "ThreadPoolExecutor"]),
    "completion order": (completion_order, ["not in the order of urls", "pool.map"]),
    "a thread per url": (a_thread_per_url, ["requests were in flight at once, but max_workers=3"]),
    "ignores max_workers": (hardcoded_three_workers, ["up to 3 requests were in flight at once, but max_workers=2"]),
    "default pool size": (default_pool_size, ["requests were in flight at once, but max_workers=3"]),
    "status codes": (status_codes, ["status codes", "response.text"]),
    "stub": (stub, ["❌ Not yet: fetch_all still raises NotImplementedError."]),
    "another exception": (raises, ["fetch_all raised ValueError: oops, a typo", "fix fetch_all"]),
}


@pytest.mark.parametrize("name", WRONG)
def test_each_wrong_answer_is_rejected_with_a_telling_verdict(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_rejected(check_fetch_all, *WRONG[name], capsys)  # type: ignore[arg-type]


def test_the_stub_in_the_stored_notebook_gets_the_verdict_shown_there(
    capsys: pytest.CaptureFixture[str]
) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    [(index, _)] = stub_cells(nb)
    namespace: dict[str, Any] = {}
    exec(nb.cells[index].source, namespace)  # noqa: S102 - the notebook's own stub
    check_cell = next(c for c in nb.cells[index + 1:] if "check_fetch_all(" in c.source)
    shown = "".join(o.get("text", "") for o in check_cell.outputs if o.output_type == "stream")
    passed, out = _verdict(namespace["fetch_all"], capsys)
    assert not passed and out.startswith("❌ Not yet") and out == shown


def test_a_wrong_answer_leaves_no_socket_for_later(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clients made per request and never closed are collected by the check, quietly."""
    def never_closed(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
        with ThreadPoolExecutor(max_workers=max_workers) as pool:
            return list(pool.map(lambda url: httpx.Client().get(url).text, urls))

    def run() -> None:
        assert_rejected(check_fetch_all, never_closed, ["sent 0 of its 8 requests"], capsys)

    assert left_behind(run, monkeypatch) == []

"""What every check gets from `checks/_kernel.py`: a verdict in time, whatever the answer
does, and nothing printed beside it."""

from __future__ import annotations

import ast
import functools
import inspect
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import labkit.checks
from labkit.checks import _kernel as _framework
from labkit.checks import check_fetcher
from labkit.checks._catalogue import MISTAKES
from labkit.checks._evidence import expect_body, kind, plural
from labkit.checks._kernel import (
    CheckFailed,
    CheckServer,
    exercise_check,
    learner_call,
    library_of,
    readable,
    scrub_addresses,
)
from tests.notebook_runner import ROOT
from tests.verdicts import (
    assert_diagnosed,
    assert_rejected,
    left_behind,
    load_solution,
    verdict,
)


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """An event a hanging answer waits on: set at the end, so its thread ends (no leak)."""
    event = threading.Event()
    yield event
    event.set()


def test_a_check_that_runs_out_of_time_says_so_and_what_to_do(
    release: threading.Event, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fetch_all(urls: list[str]) -> list[str]:  # a worker that never stops, as far as it knows
        release.wait()
        return urls

    @exercise_check
    def check_hangs(candidate: object) -> str:
        learner_call("fetch_all", fetch_all, [], mistake="kernel.cannot-judge")
        return "never"

    monkeypatch.setattr(_framework, "TIME_LIMIT", 0.3)
    started = time.monotonic()
    out = assert_rejected(
        check_hangs,
        fetch_all,
        [
            "ran out of time",
            "fetch_all was still running",
            "0.3 s",
            "may still be running",
            "restart the kernel",
        ],
        capsys,
    )
    assert time.monotonic() - started < 5, out
    release.set()


def test_the_module_setting_bounds_every_bare_check(
    release: threading.Event, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    @exercise_check
    def check_hangs(candidate: object) -> str:
        release.wait()
        return "never"

    monkeypatch.setattr(_framework, "TIME_LIMIT", 0.2)
    out = assert_rejected(
        check_hangs, None, ["ran out of time", "your code was still running", "0.2 s"], capsys
    )
    assert "Hint: " in out
    release.set()


def test_a_quick_check_leaves_no_thread_behind_and_keeps_its_signature(
    capsys: pytest.CaptureFixture[str],
) -> None:
    @exercise_check
    def check_echo(candidate: object, extra: int = 1) -> str:
        return f"got {candidate!r} and {extra}"

    before = set(threading.enumerate())
    passed, out = verdict(check_echo, "x", capsys)
    assert passed and out == "✅ got 'x' and 1\n"
    assert set(threading.enumerate()) <= before  # right away, not after a grace period
    assert list(inspect.signature(check_echo).parameters) == ["candidate", "extra"]


class BrokenDel:
    """A class whose `__del__` fails: Python only prints "Exception ignored in ..."."""

    def __del__(self) -> None:
        self.client.close()  # type: ignore[attr-defined]  # never set: AttributeError


def make_and_drop() -> str:
    BrokenDel()
    return "fine"


@exercise_check
def check_make_and_drop(candidate: object) -> str:
    return learner_call("make_and_drop", make_and_drop, mistake="kernel.cannot-judge")


def test_an_error_ignored_in_del_is_a_wrong_answer_not_a_stray_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert_rejected(
        check_make_and_drop,
        None,
        [
            "An error was ignored while the check ran",
            "Exception ignored in BrokenDel.__del__",
            "AttributeError",
            "'client'",
            "__del__ runs",
        ],
        capsys,
    )  # `verdict` also holds stderr to "": the hook kept it from printing


def test_an_error_ignored_beside_another_mistake_is_named_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    @exercise_check
    def check_twice(candidate: object) -> str:
        make_and_drop()
        raise CheckFailed("fetch returned None.", "Return the response.")

    assert_rejected(
        check_twice,
        None,
        [
            "fetch returned None.",
            "Also ignored while the check ran",
            "BrokenDel.__del__",
            "Return the response.",
        ],
        capsys,
    )


def test_an_exception_that_ends_a_learners_thread_is_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def crashes() -> None:
        raise ValueError("bad status")

    @exercise_check
    def check_threads(candidate: object) -> str:
        worker = threading.Thread(target=crashes, name="my-worker")
        worker.start()
        worker.join()
        return "all good"

    assert_rejected(
        check_threads,
        None,
        ["Exception in thread my-worker", "ValueError: bad status", "future.result()"],
        capsys,
    )


def test_a_returned_unread_stream_is_a_verdict_about_the_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def first_request(client: httpx.Client, url: str) -> httpx.Response:
        return client.send(client.build_request("GET", url), stream=True)  # never read

    @exercise_check
    def check_body(candidate: object) -> str:
        with CheckServer() as server, httpx.Client(**server.client_kwargs()) as client:
            response = learner_call(
                "first_request",
                first_request,
                client,
                server.url + "/",
                mistake="kernel.cannot-judge",
            )
            try:
                return f"body {response.text!r}"  # the check's own slip: it reads .text
            finally:
                response.close()

    out = assert_rejected(
        check_body,
        None,
        ["streamed response", "not read", "httpx.ResponseNotRead", "response.read()"],
        capsys,
    )
    assert "re-run the cells above" not in out


def test_expect_body_judges_an_unread_stream_itself(capsys: pytest.CaptureFixture[str]) -> None:
    @exercise_check
    def check_body(candidate: object) -> str:
        with CheckServer() as server, httpx.Client(**server.client_kwargs()) as client:
            with client.stream("GET", server.url + "/") as response:
                expect_body(response, "hello", "fetch() (call 1 of 1)")
        return "unreachable"

    assert_rejected(
        check_body,
        None,
        ["fetch() (call 1 of 1) returned a streamed response", "never read", "client.get()"],
        capsys,
    )


Fetcher = load_solution("04_fetcher", "Fetcher")


class TidiesTheBody(Fetcher):  # type: ignore[valid-type,misc]
    """A Fetcher whose fetch() hands back a response of its own: the text without its newline."""

    def fetch(self, url: str) -> httpx.Response:
        response = super().fetch(url)
        return httpx.Response(
            response.status_code, text=response.text.strip(), request=response.request
        )


def test_a_response_with_another_body_names_both_bodies(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """expect_body, as lessons 04 and 05 judge a fetch: the body it got, and the one it wanted."""
    assert_diagnosed(
        check_fetcher,
        TidiesTheBody,
        "kernel.wrong-body",
        capsys,
        ["'waited 0.001 s', not 'waited 0.001 s\\n'"],
    )


class Plain:
    """A class with the default repr, `<...Plain object at 0x...>`."""


def gen() -> Iterator[int]:
    yield 1


def test_verdicts_never_show_memory_addresses(capsys: pytest.CaptureFixture[str]) -> None:
    @exercise_check
    def check_repr(candidate: object) -> str:
        raise CheckFailed(f"fetch_statuses returned {candidate!r}.", "Return a list.")

    out = assert_rejected(check_repr, gen(), ["returned <generator object gen>"], capsys)
    assert "0x" not in out
    assert readable(gen()) == "a generator (from gen)"
    assert kind(gen()) == "a generator (from gen)"
    assert kind(gen) == "the function gen (not its result: a missing call?)"
    assert kind([1]) == "a list" and kind(5) == "an int"
    assert readable(Plain()) == "a Plain object" and "0x" not in readable(Plain())
    assert scrub_addresses("<httpx.Client object at 0x7f00ab12>") == "<httpx.Client object>"
    assert readable(httpx.Limits()) == "an httpx.Limits"


def test_plurals() -> None:
    assert plural(1, "TCP connection") == "1 TCP connection"
    assert plural(0, "TCP connection") == "0 TCP connections"
    assert plural(3, "worker") == "3 workers"
    assert plural(1, "body", "bodies") == "1 body" and plural(2, "body", "bodies") == "2 bodies"


def test_a_crash_in_the_check_itself_is_still_one_verdict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    @exercise_check
    def check_crash(candidate: object) -> str:
        return str(candidate.missing)  # type: ignore[attr-defined]

    assert_rejected(
        check_crash,
        object(),
        ["could not judge what your code gave back", "AttributeError"],
        capsys,
    )


def test_a_check_collects_what_the_answer_left_behind(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def leaves_a_socket() -> str:
        with CheckServer() as server:
            client = httpx.Client(**server.client_kwargs())
            client.get(server.url + "/")  # never closed: its socket waits for the collector
            cycle: list[object] = [client]
            cycle.append(cycle)  # only the cycle collector frees it
        return "done"

    @exercise_check
    def check_leftovers(candidate: object) -> str:
        return learner_call("leaves_a_socket", leaves_a_socket, mistake="kernel.cannot-judge")

    leftovers = left_behind(lambda: check_leftovers(None), monkeypatch)
    assert leftovers == [] and capsys.readouterr().out == "✅ done\n"


def test_importing_one_lessons_check_imports_no_web_framework() -> None:
    """`from labkit.checks import check_first_request` loads lesson 00's check, not lesson 06's
    FastAPI, uvicorn and Werkzeug (a fresh interpreter: this one has imported them all)."""
    code = (
        "import sys\n"
        "from labkit.checks import check_first_request\n"
        "heavy = ('fastapi', 'starlette', 'uvicorn', 'werkzeug', 'flask', 'labkit.apps')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m == 'labkit.apps'))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "notebooks")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
    assert "check_first_request" in dir(labkit.checks)


CHECKS = ROOT / "notebooks" / "labkit" / "checks"
# Every ❌ comes from the catalogue: only the kernel turns an entry into a verdict.
ON_THE_CATALOGUE = sorted(
    path.name for path in CHECKS.glob("*.py") if path.name not in ("_catalogue.py", "_kernel.py")
)
MISTAKE_ID = re.compile(r"(kernel|list|fan|0\d|c\d)\.[a-z0-9-]+")


def _strings(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is str}


def test_every_mistake_a_check_names_is_in_the_catalogue_and_every_entry_is_named() -> None:
    named = {
        text
        for path in CHECKS.glob("*.py")
        if path.name != "_catalogue.py"
        for text in _strings(path)
        if MISTAKE_ID.fullmatch(text)
    }
    assert named - set(MISTAKES) == set()
    assert set(MISTAKES) - named == set()


@pytest.mark.parametrize("module", ON_THE_CATALOGUE)
def test_a_module_on_the_catalogue_writes_no_hint_of_its_own(module: str) -> None:
    tree = ast.parse((CHECKS / module).read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    named = {n.func.id for n in calls if isinstance(n.func, ast.Name)}
    assert "CheckFailed" not in named
    assert not [k.arg for n in calls for k in n.keywords if k.arg in ("hint", "problem")]


def test_every_pointer_names_a_heading_of_its_notebook() -> None:
    import nbformat

    headings: dict[str, set[str]] = {}  # each notebook read once (90 pointers: 4 s of CPU)
    for mistake, entry in MISTAKES.items():
        if entry.pointer is None:
            continue
        if entry.pointer.notebook not in headings:
            nb = nbformat.read(ROOT / "notebooks" / entry.pointer.notebook, as_version=4)
            headings[entry.pointer.notebook] = {
                line.lstrip("#").strip()
                for cell in nb.cells
                if cell.cell_type == "markdown"
                for line in cell.source.splitlines()
                if line.startswith("#")
            }
        assert entry.pointer.section in headings[entry.pointer.notebook], (mistake, entry.pointer)


def test_an_answer_in_httpx2_is_read_as_such_without_running_it() -> None:
    import httpx2

    def plain(client: httpx.Client, url: str) -> str:
        return client.get(url).text

    def named(client: httpx.Client, url: str) -> str:
        return httpx2.get(url).text

    class Owner:
        def fetch(self) -> object:
            return httpx2.Client

    assert library_of(plain) is httpx
    assert library_of(named) is httpx2
    assert library_of(Owner) is httpx2
    assert library_of(functools.partial(named, url="http://127.0.0.1/")) is httpx2


def test_the_instructor_guides_stuck_points_are_mistakes_of_the_catalogue() -> None:
    guide = (ROOT / "docs" / "instructor-guide.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:list|fan|0\d|c\d)\.[a-z0-9-]+)`", guide))
    assert len(named) >= 10, named
    assert named - set(MISTAKES) == set()

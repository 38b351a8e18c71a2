"""labkit.apps and labkit.forking: real servers started and stopped cleanly, a staged fork race."""

# No `from __future__ import annotations`: FastAPI reads the path functions' annotations.

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from flask import Flask

from labkit import LabServer
from labkit.apps import AsgiServer, StartupFailed, WsgiServer, burst
from labkit.forking import SCENARIOS, main, run_fork_scenario, run_fork_scenarios
from labkit.pool import peak_in_flight


def _app_with_lifespan(events: list[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        events.append("start-up")
        yield
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def home() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise ValueError("boom")

    return app


def test_asgi_server_runs_the_lifespan_and_serves(capfd: pytest.CaptureFixture[str]) -> None:
    events: list[str] = []
    web = AsgiServer(_app_with_lifespan(events))
    assert web.url.startswith("http://127.0.0.1:") and "stopped" in repr(web)
    with web:
        assert events == ["start-up"] and web.running and "serving" in repr(web)
        with httpx.Client() as client:
            assert client.get(web.url + "/").json() == {"hello": "world"}
    assert events == ["start-up", "shutdown"] and not web.running
    web.stop()  # idempotent
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # log_level="warning": no line per request, no banner


def test_asgi_server_notes_what_the_app_raised(capfd: pytest.CaptureFixture[str]) -> None:
    with AsgiServer(_app_with_lifespan([]), quiet=True) as web, httpx.Client() as client:
        assert client.get(web.url + "/boom").status_code == 500
    assert [(e.where, e.kind, e.message) for e in web.errors] == [
        ("http", "ValueError", "ValueError: boom")
    ]
    assert capfd.readouterr().err == ""  # quiet: uvicorn's traceback stays off stderr


def test_a_failing_start_up_raises_startup_failed(capfd: pytest.CaptureFixture[str]) -> None:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        raise NotImplementedError("not yet")
        yield

    web = AsgiServer(FastAPI(lifespan=lifespan), quiet=True)
    with pytest.raises(StartupFailed, match="NotImplementedError: not yet") as failed:
        web.start()
    assert failed.value.errors[0].kind == "NotImplementedError" and not web.running
    with pytest.raises(RuntimeError, match="already started"):
        web.start()
    assert capfd.readouterr().err == ""


def test_burst_sends_requests_a_few_at_a_time(server: LabServer) -> None:
    responses = asyncio.run(burst(server.url + "/delay/0.02", requests=12, at_once=3))
    assert [r.text for r in responses] == ["waited 0.02 s\n"] * 12
    assert peak_in_flight(server.requests) <= 3
    assert server.connections_opened == 12  # a connection per visitor, as from many machines
    with pytest.raises(ValueError, match="at least 1"):
        asyncio.run(burst(server.url, requests=0))


def test_wsgi_server_serves_flask_threaded_and_quietly(
    server: LabServer, capfd: pytest.CaptureFixture[str]
) -> None:
    app = Flask("lab")

    @app.get("/status")
    def status() -> str:
        with httpx.Client() as client:
            return client.get(server.url + "/delay/0.1").text

    with WsgiServer(app) as web:
        assert "serving" in repr(web)
        responses = asyncio.run(burst(web.url + "/status", requests=4, at_once=4))
        assert [r.text for r in responses] == ["waited 0.1 s\n"] * 4
        idle = httpx.Client()
        # werkzeug answers `Connection: close`, so this client keeps no connection open;
        # test_app_servers.py holds stop()'s hang-up with connections that really stay open.
        idle.get(web.url + "/status")
    assert peak_in_flight(server.requests) >= 2  # a thread per connection: requests overlapped
    assert not web.running and "stopped" in repr(web)
    idle.close()
    web.stop()  # idempotent
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # no log line per request


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork does not exist on this platform")
def test_a_client_made_before_a_fork_reads_the_other_process_answer(server: LabServer) -> None:
    reports = run_fork_scenarios(server.url, ["before-fork", "after-fork"])  # one helper process
    before, after = reports["before-fork"], reports["after-fork"]
    assert before.stderr == ""
    got = {(o.who, o.asked): o.got for o in before.outcomes}
    assert got[("child", "/delay/0.3")] == "httpx.ReadTimeout"
    assert got[("parent", "/delay/0.01")] == "waited 0.3 s"  # the child's answer
    # two processes, one connection:
    assert before.requests_per_connection(server.requests) == [
        ["/delay/0", "/delay/0.3", "/delay/0.01"]
    ]
    # the fix: a client made after the fork, in the child
    assert len(after.outcomes) == 3 and all(o.matches for o in after.outcomes), str(after)
    assert after.requests_per_connection(server.requests) == [
        ["/delay/0", "/delay/0.01"],
        ["/delay/0.3"],
    ]
    assert server.wait_until_closed()


def test_fork_scenarios_are_named(capfd: pytest.CaptureFixture[str]) -> None:
    assert SCENARIOS == ("before-fork", "after-fork", "spawn-pool")
    with pytest.raises(ValueError, match="scenarios must be among"):
        run_fork_scenario("fork-bomb", "http://127.0.0.1:9")
    with pytest.raises(ValueError, match="scenarios must be among"):
        run_fork_scenarios("http://127.0.0.1:9", [])
    assert main(["nope", "http://127.0.0.1:9"]) == 2
    assert "usage: python -m labkit.forking" in capfd.readouterr().err


def _bare_asgi(answer: Callable[[Any], Awaitable[None]]) -> Any:
    """An ASGI app without a framework: its lifespan does nothing, and `answer(send)` answers
    each request (a staged server's exact timing, which FastAPI's layers would blur)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await answer(send)

    return app


def test_burst_gives_each_visitor_a_connection_of_its_own() -> None:
    """Staged: an app that answers 500 and then raises, 50 ms later (FastAPI's error middleware
    sends its 500, then re-raises), so uvicorn closes each connection 50 ms after its answer.
    A visitor reusing one meanwhile got a ReadError, and burst() raised it (seen in check 06
    under load, where the gap is the machine's, not a sleep): each visitor has its own."""

    @_bare_asgi
    async def answers_then_raises(send: Any) -> None:
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b"Internal Server Error"})
        await asyncio.sleep(0.05)
        raise RuntimeError("raised after its answer")

    with AsgiServer(answers_then_raises, quiet=True) as web:
        responses = asyncio.run(burst(web.url + "/", requests=10, at_once=2))
    assert [r.status_code for r in responses] == [500] * 10
    assert [e.kind for e in web.errors] == ["RuntimeError"] * 10


def test_burst_keeps_its_visitors_out_of_the_pool_while_they_wait() -> None:
    """At most `at_once` requests in flight, held back before the client's pool: twenty
    visitors of a 0.2 s page, two at a time, each within a 1 s pool timeout (2 s in all).
    Queued in the pool instead, httpx2's deadline would fail most of them."""

    @_bare_asgi
    async def slow(send: Any) -> None:
        await asyncio.sleep(0.2)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    with AsgiServer(slow, quiet=True) as web:
        responses = asyncio.run(burst(web.url + "/", requests=20, at_once=2, timeout=1.0))
    assert [r.status_code for r in responses] == [200] * 20

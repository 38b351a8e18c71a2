"""Each rule, both ways: code it must flag, and look-alike code it must leave alone.

A fixture marks each line that must be flagged with a trailing `# <- OOnnn`; a fixture without
a mark must give no finding at all. The fixtures are written for these tests, modelled on what
public code does (docs/lint.md names the files they were modelled on).
"""

from __future__ import annotations

import re
import textwrap

import pytest
from open_once_lint import RULES, check_source

MARK = re.compile(r"#\s*<-\s*(OO\d{3})")

FLAGGED: dict[str, str] = {
    # --- OO101: a client per call or per request ---------------------------------------------
    "OO101 FastAPI route": """
        import httpx
        from fastapi import FastAPI
        app = FastAPI()

        @app.get("/weather")
        async def weather(city: str):
            async with httpx.AsyncClient() as client:  # <- OO101
                response = await client.get(f"https://api.example/{city}")
            return response.json()
    """,
    "OO101 Flask route": """
        import httpx
        from flask import Flask
        app = Flask(__name__)

        @app.route("/status")
        def status():
            with httpx.Client(timeout=5) as client:  # <- OO101
                return client.get("https://upstream/status").text
    """,
    "OO101 MCP tool": """
        import httpx
        from mcp.server.fastmcp import FastMCP
        mcp = FastMCP("demo")

        @mcp.tool()
        async def lookup(term: str) -> str:
            async with httpx.AsyncClient() as client:  # <- OO101
                return (await client.get("https://api.example/", params={"q": term})).text
    """,
    "OO101 a chat bot's command": """
        import httpx
        from discord.ext import commands
        bot = commands.Bot(command_prefix="!")

        @bot.command()
        async def cat(ctx):
            async with httpx.AsyncClient() as client:  # <- OO101
                await ctx.send((await client.get("https://cats.example/random")).json()["url"])
    """,
    "OO101 Starlette-style endpoint (a Request parameter)": """
        import httpx
        from starlette.requests import Request

        async def proxy(request: Request):
            async with httpx.AsyncClient() as client:  # <- OO101
                return await client.get("https://upstream" + request.url.path)
    """,
    "OO101 loop body": """
        import httpx

        def check(urls):
            statuses = []
            for url in urls:
                with httpx.Client() as client:  # <- OO101
                    statuses.append(client.get(url).status_code)
            return statuses
    """,
    "OO101 one client per URL in gather": """
        import asyncio
        import httpx

        async def fetch(url):
            async with httpx.AsyncClient() as client:  # <- OO101
                return (await client.get(url)).text

        async def main(urls):
            return await asyncio.gather(*(fetch(u) for u in urls))

        asyncio.run(main(["https://a.example", "https://b.example"]))
    """,
    "OO101 a helper called twice, in gather": """
        import asyncio
        import httpx

        async def price(symbol):
            async with httpx.AsyncClient() as client:  # <- OO101
                return (await client.get(f"https://quotes.example/{symbol}")).json()

        async def main():
            print(await asyncio.gather(price("A"), price("B")))

        asyncio.run(main())
    """,
    "OO101 a client per poll, many requests each": """
        import time
        import httpx

        def poll(urls):
            while True:
                with httpx.Client() as client:  # <- OO101
                    for url in urls:
                        client.get(url)
                time.sleep(60)
    """,
    "OO101 helper mapped over a thread pool": """
        from concurrent.futures import ThreadPoolExecutor
        import httpx as hx

        def fetch(url):
            with hx.Client() as own:  # <- OO101
                return own.get(url).text

        def fetch_all(urls):
            with ThreadPoolExecutor(8) as pool:
                return list(pool.map(fetch, urls))
    """,
    "OO101 helper called by a route": """
        import httpx
        from fastapi import APIRouter
        router = APIRouter()

        async def get_user(user_id):
            async with httpx.AsyncClient(base_url="https://users") as client:  # <- OO101
                return (await client.get(f"/users/{user_id}")).json()

        @router.get("/profile/{user_id}")
        async def profile(user_id: int):
            return await get_user(user_id)
    """,
    "OO101 a method of a long-lived wrapper": """
        from httpx import AsyncClient

        class WeatherApi:
            def __init__(self, key):
                self.key = key

            async def current(self, city):
                async with AsyncClient() as client:  # <- OO101
                    response = await client.get("https://w.example", params={"q": city})
                return response.json()
    """,
    "OO101 an agent tool's run method": """
        import httpx
        from langchain.tools import BaseTool

        class Search(BaseTool):
            name: str = "search"

            def _run(self, query: str) -> str:
                with httpx.Client() as client:  # <- OO101
                    return client.get("https://search.example", params={"q": query}).text
    """,
    "OO101 a client-owning object made per request": """
        import httpx
        from fastapi import FastAPI
        app = FastAPI()

        class Github:
            def __init__(self, token: str):
                self.http = httpx.Client(headers={"Authorization": token})  # <- OO101

            def repos(self):
                return self.http.get("https://api.github.com/user/repos").json()

        @app.get("/repos")
        def repos(token: str):
            return Github(token).repos()
    """,
    "OO101 httpx2, aliased": """
        import httpx2 as h2

        async def token():
            async with h2.AsyncClient() as c:  # <- OO101
                return (await c.post("https://auth.example/token")).json()["access_token"]
    """,
    "OO101 from-import alias": """
        from httpx import Client as HttpClient

        def ping(url):
            with HttpClient() as c:  # <- OO101
                return c.head(url).status_code
    """,
    # --- OO102: httpx.get() and friends, per item or per request -----------------------------
    "OO102 in a loop": """
        import httpx

        for page in range(1, 10):
            data = httpx.get(f"https://api.example/items?page={page}").json()  # <- OO102
    """,
    "OO102 in a comprehension": """
        import httpx

        def statuses(urls):
            return [httpx.head(u).status_code for u in urls]  # <- OO102
    """,
    "OO102 a lambda mapped over items": """
        import httpx

        def sizes(urls):
            return list(map(lambda u: len(httpx.get(u).content), urls))  # <- OO102
    """,
    "OO102 in a while loop, from-import": """
        import time
        from httpx import get as http_get

        def wait_ready(url):
            while True:
                if http_get(url).status_code == 200:  # <- OO102
                    return
                time.sleep(0.5)
    """,
    "OO102 in a route handler": """
        import httpx
        from flask import Flask
        app = Flask(__name__)

        @app.post("/notify")
        def notify():
            httpx.post("https://hooks.example/notify", json={"ok": True})  # <- OO102
            return "sent"
    """,
    "OO102 httpx2 in a helper called per item": """
        import httpx2

        def send(item):
            return httpx2.post("https://hooks.example", json=item)  # <- OO102

        def send_all(items):
            for item in items:
                send(item)
    """,
    # --- OO103: `with` on a borrowed client --------------------------------------------------
    "OO103 async with self._client in a method": """
        import httpx

        class Github:
            def __init__(self):
                self._client = httpx.AsyncClient(base_url="https://api.github.com")

            async def repo(self, name):
                async with self._client:  # <- OO103
                    return (await self._client.get(f"/repos/{name}")).json()
    """,
    "OO103 with on a parameter": """
        import httpx

        def statuses(client: httpx.Client, urls):
            with client:  # <- OO103
                return [client.get(u).status_code for u in urls]
    """,
    "OO103 a client handed to __init__, entered in a method": """
        from httpx import AsyncClient

        class Users:
            def __init__(self, http: AsyncClient):
                self.http = http

            async def get(self, user_id):
                async with self.http as client:  # <- OO103
                    return await client.get(f"/users/{user_id}")
    """,
    "OO103 an unannotated client parameter kept on self": """
        import httpx

        class Tracker:
            def __init__(self, http_client):
                self._http = http_client

            async def track(self, number):
                async with self._http:  # <- OO103
                    return await self._http.get(f"/track/{number}")
    """,
    "OO103 a class-level client": """
        from httpx import AsyncClient

        class Pinger:
            client = AsyncClient(follow_redirects=True)

            async def ping(self, url):
                async with self.client:  # <- OO103
                    return await self.client.get(url)
    """,
    "OO103 a module-level client, entered by one of its users": """
        import httpx

        shared = httpx.Client()

        def report():
            with shared:  # <- OO103
                return shared.get("https://reports.example").text
    """,
    # ... and close()/aclose() on a borrowed client, in a function that also uses it
    "OO103 a dependency closes the module's client (the first request closes it)": """
        from typing import AsyncGenerator
        import httpx

        client = httpx.AsyncClient()

        async def get_http_client() -> AsyncGenerator[httpx.AsyncClient, None]:
            try:
                yield client
            finally:
                await client.aclose()  # <- OO103
    """,
    "OO103 a route closes app.state's client": """
        from fastapi import FastAPI, Request
        import httpx
        app = FastAPI()

        @app.get("/rates")
        async def rates(request: Request):
            client = request.app.state.http_client
            response = await client.get("https://rates.example/")
            await client.aclose()  # <- OO103
            return response.json()
    """,
    "OO103 a method closes its object's client after one call": """
        import httpx

        class Api:
            def __init__(self):
                self._client = httpx.Client(base_url="https://api.example")

            def user(self, user_id):
                try:
                    return self._client.get(f"/users/{user_id}").json()
                finally:
                    self._client.close()  # <- OO103
    """,
    "OO103 a helper closes the client it was given": """
        import httpx

        def fetch(client: httpx.Client, url: str) -> str:
            text = client.get(url).text
            client.close()  # <- OO103
            return text
    """,
    # --- OO104: streamed responses -----------------------------------------------------------
    "OO104 client.stream() without with": """
        import httpx

        def download(client: httpx.Client, url, path):
            response = client.stream("GET", url)  # <- OO104
            print(response)
    """,
    "OO104 send(stream=True) never closed": """
        import httpx

        async def first_line(client: httpx.AsyncClient, url):
            response = await client.send(client.build_request("GET", url), stream=True)  # <- OO104
            return response.status_code
    """,
    "OO104 httpx.stream() without with": """
        import httpx

        lines = httpx.stream("GET", "https://logs.example")  # <- OO104
    """,
    # --- OO105: a client as a default argument -----------------------------------------------
    "OO105 default argument": """
        import httpx

        def fetch(url, client=httpx.Client()):  # <- OO105
            return client.get(url)
    """,
    "OO105 keyword-only default, async": """
        from httpx import AsyncClient

        async def fetch(url, *, client: AsyncClient = AsyncClient()):  # <- OO105
            return await client.get(url)
    """,
    "OO105 dataclass field default": """
        from dataclasses import dataclass
        import httpx

        @dataclass
        class Settings:
            client: httpx.Client = httpx.Client()  # <- OO105
    """,
    # --- OO106: a dependency that builds a client per request --------------------------------
    "OO106 FastAPI dependency yields a new client": """
        from typing import AsyncIterator
        import httpx

        async def get_client() -> AsyncIterator[httpx.AsyncClient]:
            async with httpx.AsyncClient() as client:  # <- OO106
                yield client
    """,
    "OO106 Depends target returns a new client": """
        import httpx
        from fastapi import Depends, FastAPI
        app = FastAPI()

        def http_client() -> httpx.AsyncClient:
            return httpx.AsyncClient(timeout=10)  # <- OO106

        @app.get("/")
        async def root(client: httpx.AsyncClient = Depends(http_client)):
            return (await client.get("https://upstream")).json()
    """,
    "OO106 Flask before_request hook": """
        import httpx
        from flask import Flask, g
        app = Flask(__name__)

        @app.before_request
        def open_client():
            g.http = httpx.Client()  # <- OO106
    """,
    "OO106 a client kept on Flask's g": """
        import httpx
        from flask import g

        def get_http():
            if "http" not in g:
                g.http = httpx.Client(base_url="https://api.example")  # <- OO106
            return g.http
    """,
    # --- OO107: a client never closed --------------------------------------------------------
    "OO107 built, used, dropped": """
        import httpx

        def post_message(channel, text):
            client = httpx.Client()  # <- OO107  # <- OO101
            return client.post("https://chat.example", json={"channel": channel, "text": text})
    """,
    "OO107 used inline": """
        import httpx

        async def current_ip():
            return (await httpx.AsyncClient().get("https://ip.ex")).text  # <- OO107  # <- OO101
    """,
    "OO107 a polling helper": """
        import time
        import httpx

        def wait_for_ready(url, timeout=20):
            client = httpx.Client()  # <- OO107
            deadline = time.time() + timeout
            while time.time() < deadline:
                if client.get(url).status_code == 200:
                    return True
                time.sleep(0.5)
            return False
    """,
    "OO107 handed to a plain function, never closed": """
        import httpx

        def report(urls):
            client = httpx.Client()  # <- OO107
            rows = collect(client, urls)
            return rows
    """,
    "OO107 and OO101: a route's client, never closed (both reported; `with` fixes one)": """
        from fastapi import FastAPI
        from httpx import AsyncClient
        app = FastAPI()

        async def get_proxy(port, rest):
            client = AsyncClient(base_url=f"http://localhost:{port}/")  # <- OO107  # <- OO101
            return await client.send(client.build_request("GET", rest))

        @app.get("/x/{rest:path}")
        async def route(rest: str):
            return await get_proxy(1, rest)
    """,
    # --- OO108: a closed client handed back --------------------------------------------------
    "OO108 return inside async with": """
        from httpx import AsyncClient

        async def get_client() -> AsyncClient:
            async with AsyncClient() as client:
                return client  # <- OO108
    """,
    "OO108 return after the with": """
        import httpx

        def make_client(token):
            with httpx.Client(headers={"Authorization": token}) as client:
                client.get("https://api.example/ping")
            return client  # <- OO108
    """,
    "OO103 a local name for app.state's client (01 4.1, 04)": """
        import httpx
        from fastapi import FastAPI, Request
        app = FastAPI()

        @app.get("/weather")
        async def weather(request: Request):
            client = request.app.state.client
            async with client:  # <- OO103
                response = await client.get("https://weather.example/")
            return response.json()
    """,
    "OO103 with on a client kept on an object it was given": """
        import httpx

        def refresh(services, url):
            with services.http_client:  # <- OO103
                return services.http_client.get(url).text
    """,
    "OO107 a client given to a plain helper in a loop": """
        import httpx as hx

        def push(client, user):
            client.post("https://hooks.example/users", json=user)

        def main(users):
            client = hx.Client(timeout=5)  # <- OO107
            for user in users:
                push(client, user)
    """,
    # --- OO109: one AsyncClient, several event loops -----------------------------------------
    "OO109 module-level client, asyncio.run twice": """
        import asyncio
        import httpx

        client = httpx.AsyncClient()

        async def status(url):
            return (await client.get(url)).status_code

        print(asyncio.run(status("https://a.example")))
        print(asyncio.run(status("https://b.example")))  # <- OO109
    """,
    "OO109 asyncio.run in a loop, through a helper": """
        import asyncio
        from httpx import AsyncClient

        http = AsyncClient()

        async def get(url):
            return await http.get(url)

        async def job(url):
            return (await get(url)).text

        def run_jobs(urls):
            for url in urls:
                asyncio.run(job(url))  # <- OO109
    """,
    "OO109 a client parameter shared by runs": """
        import asyncio
        import httpx

        def script(client: httpx.AsyncClient, url):
            async def get_status():
                return (await client.get(url)).status_code

            return [asyncio.run(get_status()) for _ in range(2)]  # <- OO109
    """,
}

CLEAN: dict[str, str] = {
    # Where a client per call is right: a program's main, a lifespan, __init__, a fixture,
    # a context manager that hands the client out, a coroutine that asyncio.run() runs.
    "main builds one client and loops": """
        import httpx

        def main():
            with httpx.Client() as client:
                for url in ["https://a.example", "https://b.example"]:
                    print(client.get(url).status_code)

        if __name__ == "__main__":
            main()
    """,
    "a coroutine run by asyncio.run": """
        import asyncio
        import httpx

        async def crawl(urls):
            async with httpx.AsyncClient() as client:
                return await asyncio.gather(*(client.get(u) for u in urls))

        asyncio.run(crawl(["https://a.example"]))
    """,
    "a function run once from the module's main": """
        import asyncio
        import httpx

        async def get_token():
            async with httpx.AsyncClient() as client:
                return (await client.post("https://auth.example/token")).json()

        async def main():
            token = await get_token()
            print(token)

        asyncio.run(main())
    """,
    "FastAPI lifespan and app.state": """
        from contextlib import asynccontextmanager
        import httpx
        from fastapi import Depends, FastAPI, Request

        @asynccontextmanager
        async def lifespan(app: FastAPI):
            async with httpx.AsyncClient() as client:
                app.state.client = client
                yield

        app = FastAPI(lifespan=lifespan)

        def get_client(request: Request) -> httpx.AsyncClient:
            return request.app.state.client

        @app.get("/")
        async def root(client: httpx.AsyncClient = Depends(get_client)):
            return (await client.get("https://upstream")).json()
    """,
    "a startup event stores the client": """
        import httpx
        from fastapi import FastAPI
        app = FastAPI()

        @app.on_event("startup")
        async def startup():
            app.state.http = httpx.AsyncClient()

        @app.on_event("shutdown")
        async def shutdown():
            await app.state.http.aclose()
    """,
    "a wrapper that owns its client, with aclose": """
        import httpx

        class Api:
            def __init__(self, base_url: str, client: httpx.AsyncClient | None = None):
                self._owns = client is None
                self._client = client or httpx.AsyncClient(base_url=base_url)

            async def get(self, path):
                return (await self._client.get(path)).json()

            async def aclose(self):
                if self._owns:
                    await self._client.aclose()

            async def __aenter__(self):
                return self

            async def __aexit__(self, *exc):
                await self.aclose()
    """,
    "a client-owning object made once": """
        import httpx
        from fastapi import FastAPI

        class Github:
            def __init__(self):
                self.http = httpx.Client()

            def repos(self):
                return self.http.get("https://api.github.com/user/repos").json()

        github = Github()
        app = FastAPI()

        @app.get("/repos")
        def repos():
            return github.repos()
    """,
    "a lazy client kept on self": """
        import httpx

        class Bot:
            def __init__(self):
                self._client = None

            async def client(self):
                if self._client is None:
                    self._client = httpx.AsyncClient()
                return self._client

            async def send(self, text):
                return await (await self.client()).post("https://chat.example", json={"t": text})
    """,
    "pytest fixtures": """
        import httpx
        import pytest

        @pytest.fixture
        def client():
            with httpx.Client(base_url="http://testserver") as client:
                yield client

        @pytest.fixture
        async def aclient():
            async with httpx.AsyncClient() as client:
                yield client

        def test_home(client):
            assert client.get("/").status_code == 200
    """,
    "a context manager hands the client out": """
        from contextlib import asynccontextmanager, contextmanager
        import httpx

        @contextmanager
        def api_client(token):
            with httpx.Client(headers={"Authorization": token}) as client:
                yield client

        @asynccontextmanager
        async def async_api_client():
            async with httpx.AsyncClient() as client:
                yield client
    """,
    "a factory returns a new client to its caller": """
        import httpx

        def make_client(timeout: float = 10.0) -> httpx.Client:
            return httpx.Client(timeout=timeout)

        def make_async_client():
            client = httpx.AsyncClient(http2=True)
            return client
    """,
    "a shared module-level client, closed at exit": """
        import atexit
        import httpx

        client = httpx.Client()
        atexit.register(client.close)

        def status(url):
            return client.get(url).status_code

        for url in ["https://a.example", "https://b.example"]:
            print(status(url))
    """,
    "a borrowed client used without with": """
        import httpx

        def statuses(client: httpx.Client, urls):
            return [client.get(u).status_code for u in urls]

        class Users:
            def __init__(self, client: httpx.AsyncClient):
                self._client = client

            async def get(self, user_id):
                return (await self._client.get(f"/users/{user_id}")).json()
    """,
    "a parameter the function may have built": """
        import httpx

        def fetch(url, client: httpx.Client | None = None):
            client = client or httpx.Client()
            with client:
                return client.get(url).text
    """,
    "with on other libraries' objects": """
        import threading
        import httpx

        class Worker:
            def __init__(self, client: httpx.Client):
                self._lock = threading.Lock()
                self._client = client
                self._session = object()

            def run(self, url):
                with self._lock:
                    return self._client.get(url)
    """,
    "streams read or closed": """
        import httpx

        def download(client: httpx.Client, url, path):
            with client.stream("GET", url) as response, open(path, "wb") as f:
                for chunk in response.iter_bytes():
                    f.write(chunk)

        async def relay(client: httpx.AsyncClient, url):
            response = await client.send(client.build_request("GET", url), stream=True)
            try:
                return await response.aread()
            finally:
                await response.aclose()

        async def proxied(client: httpx.AsyncClient, url):
            response = await client.send(client.build_request("GET", url), stream=True)
            return StreamingResponse(response.aiter_raw(), background=response.aclose)

        def lines(url):
            with httpx.stream("GET", url) as response:
                return list(response.iter_lines())
    """,
    "stream() of other libraries": """
        import httpx

        def chat(openai_client, messages):
            stream = openai_client.chat.completions.stream(model="x", messages=messages)
            return stream

        def tail(kafka):
            return kafka.stream()
    """,
    "a None default, and a class as a default": """
        import httpx

        def fetch(url, client: httpx.Client | None = None, client_cls=httpx.Client):
            owned = client is None
            client = client or client_cls()
            try:
                return client.get(url)
            finally:
                if owned:
                    client.close()
    """,
    "a client closed in finally, or handed to a closer": """
        import contextlib
        import httpx

        def main():
            client = httpx.Client()
            try:
                print(client.get("https://a.example").text)
            finally:
                client.close()

        def managed(url, stack: contextlib.ExitStack):
            client = stack.enter_context(httpx.Client())
            return client.get(url)
    """,
    "app.state's client used without with; a lifespan closing it; other with targets": """
        import contextlib
        import httpx
        from fastapi import FastAPI, Request

        @contextlib.asynccontextmanager
        async def lifespan(app):
            client = app.state.client
            async with client:
                yield

        app = FastAPI(lifespan=lifespan)

        @app.get("/weather")
        async def weather(request: Request):
            client = request.app.state.client
            lock = request.app.state.lock
            async with lock:
                return (await client.get("https://weather.example/")).json()

        def fetch(url, settings):
            client = settings.client or httpx.Client()
            with client:
                return client.get(url).text

        def build(settings):
            settings.http_client = httpx.Client()
            with settings.http_client:
                return settings.http_client.get("https://a.example").text
    """,
    "a client handed to a helper that keeps or closes it, or to an object": """
        import contextlib
        import httpx

        clients = []

        def keep(client):
            clients.append(client)

        def shut(client):
            client.close()

        def main(users):
            client = httpx.Client()
            for user in users:
                client.post("https://a.example", json=user)
            keep(client)

        def job(users):
            client = httpx.Client()
            for user in users:
                client.post("https://a.example", json=user)
            shut(client)

        def wrapped(users):
            client = httpx.Client()
            api = Api(client)
            for user in users:
                api.push(user)

        def closing_it(urls):
            client = httpx.Client()
            with contextlib.closing(client):
                return [client.get(url).text for url in urls]

        def stacked(urls, stack):
            client = httpx.Client()
            stack.push(client)
            return [client.get(url).text for url in urls]
    """,
    "one run with a given client; another function's same-named coroutine": """
        import asyncio
        import httpx

        def main(url):
            client = httpx.AsyncClient()

            async def get_status():
                async with client:
                    return (await client.get(url)).status_code

            return asyncio.run(get_status())

        def fixed(url):
            async def get_status():
                async with httpx.AsyncClient() as client:
                    return (await client.get(url)).status_code

            return [asyncio.run(get_status()) for _ in range(2)]
    """,
    "one client per event loop, made inside it": """
        import asyncio
        import httpx

        async def status(url):
            async with httpx.AsyncClient() as client:
                return (await client.get(url)).status_code

        print(asyncio.run(status("https://a.example")))
        print(asyncio.run(status("https://b.example")))
    """,
    "a module-level AsyncClient in one event loop": """
        import asyncio
        import httpx

        client = httpx.AsyncClient()

        async def main():
            try:
                print((await client.get("https://a.example")).status_code)
            finally:
                await client.aclose()

        asyncio.run(main())
    """,
    "a client per configuration, over a literal tuple": """
        import httpx

        for verify in (True, False):
            with httpx.Client(verify=verify) as client:
                print(client.get("https://self-signed.example").status_code)
    """,
    "a client per host, each sending many requests": """
        import httpx

        hosts = {"a": "https://a.example", "b": "https://b.example"}
        for name, base in hosts.items():
            with httpx.Client(base_url=base) as client:
                for path in ("/", "/health", "/version"):
                    print(name, client.get(path).status_code)
    """,
    "httpx.get once, in a script or a CLI": """
        import click
        import httpx

        print(httpx.get("https://api.example/version").json())

        @click.command()
        @click.argument("url")
        def cli(url):
            with httpx.Client() as client:
                print(client.get(url).status_code)
    """,
    "no httpx at all: other clients look the same": """
        import requests
        import aiohttp

        def fetch(url, session=requests.Session()):
            return session.get(url)

        async def get(url):
            async with aiohttp.ClientSession() as session:
                return await session.get(url)

        class Bot:
            async def run(self):
                async with self._client:
                    await self._client.start()
    """,
    "closing a kept client where closing is the job: lifespan, shutdown hooks, atexit": """
        import atexit
        from contextlib import asynccontextmanager
        import httpx
        from fastapi import FastAPI

        client = httpx.AsyncClient()
        sync_client = httpx.Client()
        atexit.register(sync_client.close)

        @asynccontextmanager
        async def lifespan(app):
            yield
            await client.aclose()

        app = FastAPI(lifespan=lifespan)

        @app.on_event("shutdown")
        async def shutdown_event():
            await client.aclose()

        async def on_shutdown():
            await app.state.client.aclose()

        @atexit.register
        def _bye():
            if not sync_client.is_closed:
                sync_client.post("https://hooks.example/bye")
                sync_client.close()

        async def close_client():
            await client.aclose()

        def when_done():  # a closer by another name: it only closes
            sync_client.close()

        @app.get("/")
        async def index():
            return (await client.get("https://upstream.example/")).text
    """,
    "closing its own client: close(), __exit__, __aexit__, __del__ of the owner": """
        import httpx

        class Api:
            def __init__(self):
                self._client = httpx.Client(base_url="https://api.example")

            def user(self, user_id):
                return self._client.get(f"/users/{user_id}").json()

            def close(self):
                self._client.post("/logout")
                self._client.close()

            def __exit__(self, *exc):
                self._client.close()

            def __del__(self):
                self._client.close()

        class AsyncApi:
            def __init__(self, client: httpx.AsyncClient):
                self.client = client

            async def __aexit__(self, *exc):
                await self.client.__aexit__(*exc)

            async def aclose(self):
                await self.client.aclose()
    """,
    "closing in main, a fixture's teardown, or a client handed over": """
        import httpx
        import pytest

        shared = httpx.Client()

        def main():
            for url in ["https://a.example", "https://b.example"]:
                print(shared.get(url).status_code)
            shared.close()

        @pytest.fixture
        def api():
            yield shared
            shared.close()

        def consume(client, urls):
            try:
                return [client.get(u).status_code for u in urls]
            finally:
                client.close()

        def run_all(urls):
            return consume(httpx.Client(), urls)
    """,
    "a name that only looks like httpx": """
        from mylib import httpx_helpers

        def fetch(url):
            with httpx_helpers.Client() as client:
                return client.get(url)
    """,
}


def expected(source: str) -> set[tuple[str, int]]:
    return {
        (match.group(1), number)
        for number, line in enumerate(source.splitlines(), start=1)
        for match in MARK.finditer(line)
    }


def found(source: str) -> set[tuple[str, int]]:
    return {(f.code, f.line) for f in check_source(source)}


@pytest.mark.parametrize("name", FLAGGED)
def test_flagged(name: str) -> None:
    source = textwrap.dedent(FLAGGED[name])
    want = expected(source)
    assert want and name.split()[0] in {code for code, _ in want}  # the fixture tests its rule
    assert found(source) == want


@pytest.mark.parametrize("name", CLEAN)
def test_clean(name: str) -> None:
    source = textwrap.dedent(CLEAN[name])
    assert expected(source) == set()
    assert found(source) == set()


def test_every_rule_has_fixtures_both_ways() -> None:
    flagged_codes = {name.split()[0] for name in FLAGGED}
    assert flagged_codes == set(RULES)
    assert len(CLEAN) >= len(RULES)


def test_noqa_silences_one_line_and_one_code() -> None:
    source = textwrap.dedent(
        """
        import httpx

        def fetch(url, client=httpx.Client()):  # noqa: OO105
            return client.get(url)

        def other(url, client=httpx.Client()):  # noqa: OO101
            return client.get(url)

        def third(url, client=httpx.Client()):  # noqa
            return client.get(url)
        """
    )
    assert [(f.code, f.line) for f in check_source(source)] == [("OO105", 7)]


def test_messages_name_the_fix_and_each_rule_links_a_section() -> None:
    for code, (message, section) in RULES.items():
        assert ":" in message, code  # "what is wrong: what to do instead"
        assert section.split("#")[0].endswith(".ipynb") and "#" in section, code


def test_oo102_and_oo109_name_the_call_and_the_client_as_written() -> None:
    source = textwrap.dedent(
        """
        import asyncio
        import httpx
        import httpx as hx
        from httpx import post

        def loop(urls):
            for u in urls:
                httpx.get(u)
                hx.get(u)
                post(u)

        forecasts = httpx.AsyncClient()

        async def temperature(city):
            return (await forecasts.get(city)).json()

        asyncio.run(temperature("Oslo"))
        asyncio.run(temperature("Lima"))
        """
    )
    messages = [
        (f.line, f.message.split(" shared")[0].split(" builds")[0]) for f in check_source(source)
    ]
    assert messages == [
        (9, "httpx.get()"),
        (10, "hx.get()"),
        (11, "post()"),
        (19, "AsyncClient `forecasts`"),  # at the second asyncio.run(), not where it was built
    ]


def test_a_file_that_does_not_parse_raises_syntax_error() -> None:
    with pytest.raises(SyntaxError):
        check_source("import httpx\ndef broken(:\n")

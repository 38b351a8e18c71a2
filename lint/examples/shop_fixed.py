"""A weather shop's HTTP code, for notebooks/10_check_your_own_code.ipynb: shop_mistakes.py
holds one client-lifetime mistake from each lesson of Open Once, shop_fixed.py the same code
fixed. The notebook runs open-once-lint on both. (Nothing here is run: the hosts are made up.)
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Request


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with httpx.AsyncClient() as client:  # one client for the app's whole life
        app.state.client = client
        yield


app = FastAPI(lifespan=lifespan)


def get_client(request: Request) -> httpx.AsyncClient:
    return request.app.state.client  # the app's one client, handed to each request


Client = Annotated[httpx.AsyncClient, Depends(get_client)]


@app.get("/weather/{city}")
async def weather(city: str, client: Client) -> dict[str, float]:
    response = await client.get(f"https://weather.example/{city}")
    return response.json()


@app.get("/ping")
async def ping(client: Client) -> int:
    return (await client.get("https://weather.example/ping")).status_code


class Reports:
    def __init__(self, client: httpx.Client) -> None:
        self._client = client  # borrowed: whoever made it closes it

    def daily(self) -> str:
        return self._client.get("/daily").text


def statuses(client: httpx.Client, urls: list[str]) -> list[int]:
    return [client.get(url).status_code for url in urls]


def content_type(client: httpx.Client, url: str) -> str:
    with client.stream("GET", url) as response:  # closed on leaving the block
        return response.headers["content-type"]


def fetch(url: str, client: httpx.Client) -> str:
    return client.get(url).text


def post_alerts(client: httpx.Client, texts: list[str]) -> list[int]:
    return [client.post("https://alerts.example", content=t).status_code for t in texts]


def make_client() -> httpx.Client:
    return httpx.Client(base_url="https://api.example")  # open: the caller closes it


async def temperature(forecasts: httpx.AsyncClient, city: str) -> float:
    return (await forecasts.get(f"/{city}")).json()["t"]


async def main() -> None:
    async with httpx.AsyncClient(base_url="https://forecast.example") as forecasts:
        for city in ("Oslo", "Lima"):  # one event loop, one client
            print(await temperature(forecasts, city))


if __name__ == "__main__":
    asyncio.run(main())

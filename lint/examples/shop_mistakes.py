"""A weather shop's HTTP code, for notebooks/10_check_your_own_code.ipynb: shop_mistakes.py
holds one client-lifetime mistake from each lesson of Open Once, shop_fixed.py the same code
fixed. The notebook runs open-once-lint on both. (Nothing here is run: the hosts are made up.)
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI

app = FastAPI()
forecasts = httpx.AsyncClient(base_url="https://forecast.example")


async def get_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@app.get("/weather/{city}")
async def weather(city: str) -> dict[str, float]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"https://weather.example/{city}")
    return response.json()


@app.get("/ping")
async def ping(client: Annotated[httpx.AsyncClient, Depends(get_client)]) -> int:
    return (await client.get("https://weather.example/ping")).status_code


class Reports:
    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def daily(self) -> str:
        with self._client:
            return self._client.get("/daily").text


def statuses(urls: list[str]) -> list[int]:
    return [httpx.get(url).status_code for url in urls]


def content_type(client: httpx.Client, url: str) -> str:
    response = client.send(client.build_request("GET", url), stream=True)
    return response.headers["content-type"]


def fetch(url: str, client: httpx.Client = httpx.Client()) -> str:
    return client.get(url).text


def post_alerts(texts: list[str]) -> list[int]:
    client = httpx.Client()
    return [client.post("https://alerts.example", content=t).status_code for t in texts]


def make_client() -> httpx.Client:
    with httpx.Client(base_url="https://api.example") as client:
        return client


async def temperature(city: str) -> float:
    return (await forecasts.get(f"/{city}")).json()["t"]


if __name__ == "__main__":
    print(asyncio.run(temperature("Oslo")))
    print(asyncio.run(temperature("Lima")))

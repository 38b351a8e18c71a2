from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Request


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start-up: open ONE client for the upstream, keep it on app.state. Shutdown: close it."""
    async with httpx.AsyncClient(base_url=app.state.upstream) as client:
        app.state.client = client
        yield  # the app serves here; leaving the `async with` closes the client, once


def get_client(request: Request) -> httpx.AsyncClient:
    """The dependency: hands the app's one client to the path function."""
    client: httpx.AsyncClient = request.app.state.client
    return client


def make_app(upstream: str) -> FastAPI:
    """The app: GET /status asks the upstream for /delay/0.05 and returns its answer."""
    app = FastAPI(lifespan=lifespan)
    app.state.upstream = upstream

    @app.get("/status")
    async def status(client: Annotated[httpx.AsyncClient, Depends(get_client)]) -> dict[str, str]:
        response = await client.get("/delay/0.05")
        response.raise_for_status()
        return {"upstream": response.text}

    return app

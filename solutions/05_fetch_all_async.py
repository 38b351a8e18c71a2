import asyncio

import httpx


async def fetch_all_async(
    client: httpx.AsyncClient, urls: list[str], max_concurrency: int
) -> list[str]:
    """GET every url with `client`, at most max_concurrency at once; bodies in urls' order."""
    semaphore = asyncio.Semaphore(max_concurrency)  # made here, in the loop that uses it

    async def fetch(url: str) -> str:
        async with semaphore:  # wait for one of the max_concurrency places
            response = await client.get(url)
        return response.text

    return await asyncio.gather(*(fetch(url) for url in urls))  # keeps the order of urls

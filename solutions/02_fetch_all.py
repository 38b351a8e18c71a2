from concurrent.futures import ThreadPoolExecutor

import httpx


def fetch_all(client: httpx.Client, urls: list[str], max_workers: int) -> list[str]:
    """GET every url from a pool of max_workers threads sharing `client`; bodies in urls' order."""

    def fetch(url: str) -> str:
        return client.get(url).text

    with ThreadPoolExecutor(max_workers=max_workers) as pool:  # joined before we return
        return list(pool.map(fetch, urls))  # map keeps the order of urls

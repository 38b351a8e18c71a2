from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx


def fetch_from_hosts(urls: list[str], limits: dict[str, int]) -> list[str]:
    """GET every url, at most limits[host] at once per host; bodies in the order of urls."""

    def host_of(url: str) -> str:
        return next(base for base in limits if url.startswith(base + "/"))

    with httpx.Client() as client:  # one client: its pool keeps each host's connections apart
        with ExitStack() as pools:  # one thread pool per host: its max_workers is that host's cap
            pool_for = {
                base: pools.enter_context(ThreadPoolExecutor(max_workers=limit))
                for base, limit in limits.items()
            }
            futures = [pool_for[host_of(url)].submit(client.get, url) for url in urls]
        # every worker is done here (the pools' with has ended): only now may the client close
        return [future.result().text for future in futures]  # in the order of urls

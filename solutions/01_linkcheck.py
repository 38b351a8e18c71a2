# linkcheck: which links of a site answer, and which are broken.

import httpx


def check_links(client: httpx.Client, urls: list[str]) -> dict[str, str]:
    """'ok' or 'broken (<status>)' for each url, in the order of urls."""
    return {url: describe_status(status_of(client, url)) for url in urls}


def describe_status(status: int) -> str:
    return "ok" if status < 400 else f"broken ({status})"


def status_of(client: httpx.Client, url: str) -> int:
    """The url's status code; a 5xx is asked once more, since servers have hiccups."""
    response = client.get(url)
    if response.status_code >= 500:
        return retry_once(client, url)
    return response.status_code


def retry_once(client: httpx.Client, url: str) -> int:
    response = client.get(url)
    if response.status_code >= 500:
        forget_broken_connections(client)
    return response.status_code


def forget_broken_connections(client: httpx.Client) -> None:
    """After a second 5xx, make sure no broken connection to that server is reused."""
    # The bug was here: `client.close()`. The client is the caller's, so closing it broke every
    # later request, far from here (in status_of). And there is nothing to do: a pool never
    # reuses a connection the server has closed; it notices, and opens a new one by itself.
    # (A reviewer would also accept deleting this helper and its call.)

import httpx


def fetch_statuses(client: httpx.Client, urls: list[str]) -> list[int]:
    """GET each url with `client`; return the status codes, as ints, in the order of urls."""
    # No `with client:` here: the caller made the client, so the caller opens and closes it.
    # A 404 or a 503 is an answer like any other: report it, don't raise.
    return [client.get(url).status_code for url in urls]

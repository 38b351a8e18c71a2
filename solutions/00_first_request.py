import httpx


def first_request(client: httpx.Client, url: str) -> str:
    """Return the body of GET url, as text, sent with the client we were given."""
    response = client.get(url)
    return response.text

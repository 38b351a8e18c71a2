import httpx

IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}


def send_with_retry(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    """Send `method url` with `client`; try again only when that is safe, `attempts` tries at most.

    Safe means: an idempotent method (twice leaves the same result as once), and an error that
    says the connection broke: a stale pooled connection (RemoteProtocolError or ReadError) or a
    failed connect. No error proves that the server never saw the request: the method does it.
    """
    for attempt in range(1, attempts + 1):
        try:
            return client.request(method, url)
        # The stale-connection race shows as RemoteProtocolError (the server's close was a FIN)
        # or, more often against real servers, ReadError (a reset). ReadTimeout is not a
        # ReadError: a timeout is raised, never retried (the server may still be working).
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError):
            if method.upper() not in IDEMPOTENT or attempt == attempts:
                raise
    raise ValueError(f"attempts must be 1 or more, not {attempts!r}")

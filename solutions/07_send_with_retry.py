import httpx

IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}


def send_with_retry(
    client: httpx.Client, method: str, url: str, *, attempts: int = 2
) -> httpx.Response:
    """Send `method url` with `client`; try again only when that is safe, `attempts` tries at most.

    Safe means: an idempotent method, and an error that says the request never reached a
    server that could answer it (a stale pooled connection, or a connect that failed).
    """
    for attempt in range(1, attempts + 1):
        try:
            return client.request(method, url)
        except (httpx.RemoteProtocolError, httpx.ConnectError):
            if method.upper() not in IDEMPOTENT or attempt == attempts:
                raise
    raise ValueError(f"attempts must be 1 or more, not {attempts!r}")

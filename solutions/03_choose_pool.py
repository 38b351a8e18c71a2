def choose_pool() -> dict[str, int]:
    """Limits and workers for 24 requests of 0.2 s in at most 0.7 s, on at most 8 connections."""
    # 0.7 s holds 3 rounds of 0.2 s, so at least ceil(24 / 3) = 8 requests must be in flight:
    # all 8 connections the budget allows, and a worker thread for each.
    return {
        "max_connections": 8,  # the pool enforces the budget, however many threads
        "max_keepalive_connections": 8,  # keep every connection between requests: no churn
        "workers": 8,  # each thread sends one request at a time
    }

def size_for_service() -> dict[str, float]:
    """Limits and a pool timeout for the search service: 4 connections, 0.25 s, 20 threads."""
    # 20 calls in 1.5 s = at most 6 rounds of 0.25 s: at least 4 in flight, and 4 is the cap.
    # 16 calls queue in the pool, the last for about 1 s: more than the 0.5 s budget. But the
    # pool timeout is not a deadline: a waiting call starts waiting afresh each time it loses
    # the race for a freed connection, and one comes free every 0.25 s. So 0.5 s is plenty.
    return {
        "max_connections": 4,  # the service's cap
        "max_keepalive_connections": 4,  # keep them all between calls: no churn
        "pool_timeout": 0.5,  # the budget; twice the gap between freed connections
    }

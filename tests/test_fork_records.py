"""How a fork scenario's report reads the lab server's records (no fork needed: records made up).

Lesson 06 prints `requests_per_connection` as its evidence ("two processes, one connection"),
so its grouping and its order are held here on records where start and finish orders differ.
"""

from __future__ import annotations

from labkit.forking import ForkReport
from labkit.server import RequestRecord


def _record(connection: int, path: str, started: float, finished: float) -> RequestRecord:
    return RequestRecord(
        connection=connection,
        client_port=40000 + connection,
        path=path,
        status=200,
        started=started,
        finished=finished,
    )


def test_requests_are_grouped_by_connection_in_the_order_they_started() -> None:
    report = ForkReport("after-fork", [], "")
    records = [  # in the order they finished, as `server.requests` lists them
        _record(3, "/delay/0?of=before-fork", started=0.5, finished=0.5),  # another scenario
        _record(2, "/delay/0?of=after-fork", started=1.1, finished=1.1),  # finishes first
        _record(1, "/delay/0.3?of=after-fork", started=1.0, finished=1.3),  # starts first
        _record(1, "/delay/0.01?of=after-fork", started=1.4, finished=1.41),
    ]
    assert report.requests_per_connection(records) == [
        ["/delay/0.3", "/delay/0.01"],
        ["/delay/0"],
    ]
    assert report.requests_per_connection([]) == []

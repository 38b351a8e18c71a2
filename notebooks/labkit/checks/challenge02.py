"""Challenge for 02_open_once_share_across_threads: one fetcher, two hosts, a limit for each.

`fetch_from_hosts(urls, limits)` GETs URLs on two hosts (two lab servers); `limits` maps each
host's base URL to the most requests that host accepts at once. The function opens its own
client(s) and must close them before it returns. Each server is a witness of its own: how many
requests it served at once, how many TCP connections it saw, and whether they were closed.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any
from unittest import mock

import httpx

from ..pool import most_at_once, peak_in_flight
from ..server import ConnectionRecord, LabServer
from ._evidence import SEND_CLOSED, judge_bodies, pool_of
from ._kernel import CheckServer, exercise_check, flunk, learner_call, need_function, plural
from ._twins import closing

FetchFromHosts = Callable[[list[str], dict[str, int]], list[str]]

# (limit of host A, limit of host B, URLs as "host:delay"), every delay distinct within a call,
# so each body names its URL. Call 1 alternates the hosts; call 2 starts with three URLs on A,
# whose limit is 1: one thread pool for both hosts sends them at once, and A counts them.
CALLS = (
    (3, 2, "A:0.12 B:0.09 A:0.06 B:0.14 A:0.1 B:0.05 A:0.08 A:0.04 B:0.11 A:0.07 B:0.13 A:0.15"),
    (1, 4, "A:0.1 A:0.05 A:0.08 B:0.12 B:0.06 B:0.09 B:0.04 B:0.11 B:0.07 B:0.13"),
)


Sent = list[tuple[httpx.Client, httpx.Request]]  # which client sent each request


def _call(
    fetch: FetchFromHosts, urls: list[str], limits: dict[str, int], call: int
) -> tuple[object, Sent, int]:
    """One call, and its evidence: which httpx.Client sent each request (`httpx.Client.send`,
    every get/post/stream, httpx.get's own client too, is wrapped meanwhile, in every thread),
    and how many threading.(Bounded)Semaphores it made (one per request?). A closed client's
    error is named: kept from call 1, or closed too early, or closed by a full pool (a rare race
    in httpcore 1.0.9: it can close an idle connection just after giving it to a request)."""
    sent: Sent = []  # holds each client till the call is judged, so that no id is reused
    made, lock = 0, threading.Lock()
    send, init = httpx.Client.send, threading.Semaphore.__init__  # BoundedSemaphore's too

    closed = "c2.kept-client" if call > 1 else "c2.closed"  # call 1 worked: its client was kept
    slips = [(SEND_CLOSED, closed), ("httpx.ReadError", "c2.closed"), ("ReadTimeout", "c2.closed")]

    def sending(client: httpx.Client, request: httpx.Request, *args: Any, **kwargs: Any) -> Any:
        with lock:
            sent.append((client, request))
        try:
            return send(client, request, *args, **kwargs)
        except httpx.ReadError:  # on a client still open: its own pool closed the connection
            if not client.is_closed:
                slips.insert(0, ("httpx.ReadError", "c2.pool-race"))
            raise

    def semaphore(sem: threading.Semaphore, value: int = 1) -> None:
        nonlocal made
        with lock:
            made += 1
        init(sem, value)

    words = {"call": str(call)}
    with (
        mock.patch.object(httpx.Client, "send", sending),
        mock.patch.object(threading.Semaphore, "__init__", semaphore),
    ):
        got = learner_call(
            "fetch_from_hosts", fetch, urls, limits, slips=slips, mistake="c2.error", words=words
        )
    return got, sent, made


def _peak_open(*servers: LabServer) -> int:
    """The most TCP connections the servers had open at the same moment, all together (their
    clocks are this process's).

    A connection the client closed counts as open until its last answer, not until the server
    noticed the close: a client that keeps one connection alive closes the others right after
    their answers, and the server notices a moment later, maybe after the next one opened.
    """

    def end(c: ConnectionRecord, last: dict[int, float]) -> float:
        if c.closed is None:
            return math.inf  # still open
        return min(c.closed, last.get(c.id, c.closed)) if c.closed_by == "client" else c.closed

    spans: list[tuple[float, float]] = []
    for server in servers:
        ordered = sorted(server.requests, key=lambda r: r.finished)
        last = {r.connection: r.finished for r in ordered}
        spans += [(c.opened, end(c, last)) for c in server.connections]
    return most_at_once(spans)


def _pool_limits(client: httpx.Client) -> tuple[int | None, int | None]:
    """The pool's max_keepalive_connections and max_connections (httpcore's: None if unknown)."""
    pool = pool_of(client)
    keep = getattr(pool, "_max_keepalive_connections", None)
    most = getattr(pool, "_max_connections", None)
    return (keep if isinstance(keep, int) else None), (most if isinstance(most, int) else None)


def _raced(host: dict[str, Any], client: httpx.Client, sent: list[httpx.Request]) -> bool:
    """One connection more than the limit, from a client of the host's own that keeps every
    connection and caps them at the limit: requests queued in its pool, where httpcore 1.0.9
    can close a connection it saw busy, then idle, in one pass, and open another."""
    keep, most = _pool_limits(client)
    if keep is None or keep < host["limit"] or most != host["limit"] or closing(sent):
        return False
    return id(client) not in host["shared"] and host["opened"] == host["limit"] + 1


def _judge_cap(host: dict[str, Any], peak: int, client: httpx.Client) -> None:
    """More than `limit` at once: a cap given as max_keepalive_connections has its own name."""
    keep, most = _pool_limits(client)
    if keep == host["limit"] and (most is None or most > host["limit"]):
        cap = "no max_connections" if most is None or most > 2**30 else f"max_connections={most}"
        flunk("c2.keepalive-cap", peak=peak, cap=cap, **host)


def _judge_one_client(
    host: dict[str, Any], server: LabServer, client: httpx.Client, sent: list[httpx.Request]
) -> None:
    """Every request to this host came from one client, yet it opened more than its limit of
    connections: it either closed them after use, or had more than `limit` requests in flight
    (the server's in-flight count can miss one whose answer was just leaving).

    The connections opened on both hosts tell the two apart when the server's clocks can't: a
    pool that never filled up (no more connections in all than its max_connections) and kept
    every connection alive opened a new one only while each one it had was busy.
    """
    closes = closing(sent)
    keep, most = _pool_limits(client)
    kept_all = not closes and keep is not None and most is not None
    kept_all = kept_all and host["in_all"] <= min(keep or 0, most or 0)
    each_once = len({r.connection for r in server.requests}) == len(server.requests)
    if each_once and (closes or keep in (0, None)):
        flunk("c2.connection-close" if closes else "c2.churn", which="each connection", **host)
    if each_once and getattr(pool_of(client), "_keepalive_expiry", None) == 0:
        flunk("c2.keepalive-expiry", **host)  # kept, but expired at once: a pool of one-offs
    peak = max(_peak_open(server), host["opened"] if kept_all else 0)
    # `limit` kept alive serve `limit` requests at once with no new connection: more were
    # opened, so more were in flight (at least limit + 1), whatever the clocks saw.
    _judge_cap(host, max(peak, host["limit"] + 1), client)
    if peak > host["limit"]:  # the server's clocks missed the overlap that its connections show
        seen = (
            f": one client sent them all and kept {peak} TCP connections to it open together, "
            "and a client opens another one only while each one it has is busy"
        )
        flunk("c2.over", peak=peak, seen=seen, **host)
    if closes:
        flunk("c2.connection-close", which="some of them", **host)
    # A pool both hosts share holds both hosts' connections. With room for both hosts' limits
    # it is never full, so it closed none to make room: it closed one as it turned idle, as a
    # pool does while it holds more than max_keepalive_connections (its servers' clocks can
    # miss that moment on a loaded machine).
    shared = id(client) in host["shared"]
    held = host["together"] if shared else peak
    if shared and keep is not None and most is not None and keep < host["total"] <= most:
        held = max(held, keep + 1)
    if keep is not None and keep < held:
        flunk("c2.few-keepalive", keep=keep, peak=held, **host)
    if not shared:  # no other host's connection made it close one
        flunk("c2.closed-early", **host)
    flunk("c2.evicted", **host)


def _judge_host(host: dict[str, Any], server: LabServer, sent: Sent) -> None:
    """One host's evidence: in flight at once, TCP connections opened, and all of them closed.

    The number of connections comes before "one at a time": on a loaded machine a client per
    request takes so long to build that its requests no longer overlap at the server.
    """
    limit, opened = host["limit"], host["opened"]
    clients = list({id(client): client for client, _ in sent}.values())
    peak = peak_in_flight(server.requests)
    if peak > limit and len(clients) == 1:
        _judge_cap(host, peak, clients[0])
    # Over the limit (by the server's clocks or by the connections), and a semaphore made for
    # every request: a cap that caps nothing. The clocks can miss an overlap: both count.
    if (peak > limit or opened > limit) and host["made"] >= len(sent):
        flunk("c2.semaphore-per-call", **host)
    if peak > limit:
        flunk("c2.over", peak=peak, seen="", **host)
    one_client = len(clients) == 1 and len(sent) == host["requests"]
    if opened > limit and one_client and _raced(host, clients[0], [r for _, r in sent]):
        opened = limit  # the pool's own race replaced one (check 03 says how): not the answer's
    if opened > limit and one_client:
        _judge_one_client(host, server, clients[0], [r for _, r in sent])
    if opened > limit:
        flunk("c2.connections", peak=peak, **host)
    if peak < min(2, limit):
        flunk("c2.serial", **host)
    if not server.wait_until_closed(1.0):
        flunk("c2.open", still=plural(server.open_connections, "TCP connection"), **host)


@exercise_check
def check_two_hosts(candidate: FetchFromHosts) -> str:
    """`fetch_from_hosts(urls, limits)`: url order, each host's limit kept, clients closed."""
    need_function("check_two_hosts", "fetch_from_hosts", candidate)
    with CheckServer() as host_a, CheckServer() as host_b:
        servers = {"A": host_a, "B": host_b}
        for call, (limit_a, limit_b, planned) in enumerate(CALLS, 1):
            plan = [item.split(":") for item in planned.split()]
            for server in servers.values():
                server.reset()
            limits = {host_a.url: limit_a, host_b.url: limit_b}
            urls = [f"{servers[host].url}/delay/{delay}" for host, delay in plan]
            expected = [f"waited {delay} s\n" for _, delay in plan]
            on_a, on_b = ([f"waited {d} s\n" for h, d in plan if h == host] for host in "AB")
            got, sent, made = _call(candidate, urls, limits, call)
            if isinstance(got, list) and got != expected and got in (on_a + on_b, on_b + on_a):
                flunk("c2.grouped")  # the bodies of each host together, not in url order
            records = sorted(host_a.requests + host_b.requests, key=lambda r: r.finished)
            judge_bodies("fetch_from_hosts", got, expected, records, order="c2")
            in_all = host_a.connections_opened + host_b.connections_opened
            together = _peak_open(host_a, host_b)  # connections open at once, both hosts
            ports = {name: httpx.URL(servers[name].url).port for name in "AB"}
            senders = [{id(c) for c, r in sent if r.url.port == ports[name]} for name in "AB"]
            for name, limit in (("A", limit_a), ("B", limit_b)):
                server = servers[name]
                host = {"name": name, "limit": limit, "call": call, "in_all": in_all, "made": made}
                host |= {"total": limit_a + limit_b, "together": together}  # both hosts
                host |= {"opened": server.connections_opened, "requests": len(server.requests)}
                host |= {"shared": senders[0] & senders[1]}  # the clients that sent to both
                to_host = [(c, r) for c, r in sent if r.url.port == ports[name]]
                _judge_host(host, server, to_host)
    return (
        "fetch_from_hosts works: each host got at most its limit at once (and used it), no "
        "more connections than that, all closed before returning, bodies in url order."
    )

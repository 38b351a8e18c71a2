"""Challenge for 02_open_once_share_across_threads: one fetcher, two hosts, a limit for each.

`fetch_from_hosts(urls, limits)` GETs URLs on two hosts (two lab servers); `limits` maps each
host's base URL to the most requests that host accepts at once. The function opens its own
client(s) and must close them before it returns. Each server is a witness of its own: how many
requests it served at once, how many TCP connections it saw, and whether they were closed.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from ..pool import peak_in_flight
from ..server import LabServer
from ._evidence import SEND_CLOSED, judge_bodies, kind
from ._kernel import CheckFailed, CheckServer, describe, exercise_check
from ._twins import HINT_CONNECTION_CLOSE
from .challenge_hints import HintSteps

FetchFromHosts = Callable[[list[str], dict[str, int]], list[str]]

# (limit of host A, limit of host B, URLs as (host, delay)), every delay distinct within a call,
# so each body names its URL. Call 1 alternates the hosts; call 2 starts with three URLs on A,
# whose limit is 1: one thread pool for both hosts sends them at once, and A counts them.
CALLS: tuple[tuple[int, int, tuple[tuple[str, str], ...]], ...] = (
    (
        3,
        2,
        (
            ("A", "0.12"),
            ("B", "0.09"),
            ("A", "0.06"),
            ("B", "0.14"),
            ("A", "0.1"),
            ("B", "0.05"),
            ("A", "0.08"),
            ("A", "0.04"),
            ("B", "0.11"),
            ("A", "0.07"),
            ("B", "0.13"),
            ("A", "0.15"),
        ),
    ),
    (
        1,
        4,
        (
            ("A", "0.1"),
            ("A", "0.05"),
            ("A", "0.08"),
            ("B", "0.12"),
            ("B", "0.06"),
            ("B", "0.09"),
            ("B", "0.04"),
            ("B", "0.11"),
            ("B", "0.07"),
            ("B", "0.13"),
        ),
    ),
)

STEPS = HintSteps(
    "check_two_hosts",
    {
        "over": "Notebook 02, section 1 ('The pattern'): what decides how many requests are in "
        "flight at once? Here each host needs its own such number.",
        "keepalive-cap": "Notebook 03, section 1 ('What `httpx.Limits` controls'): which of the "
        "two numbers caps the connections?",
        "semaphore-per-call": "A semaphore counts the threads inside it: how many threads are "
        "ever inside one made for a single request?",
        "serial": "Notebook 02, section 1 ('The pattern'): what decides how many requests are in "
        "flight at once? Here each host needs its own such number.",
        "connections": "Section 1 compares one shared client with a client per request: read the "
        "two connection counts again.",
        "churn": "Section 1 compares one shared client with a client per request: what keeps "
        "the shared client's connection count low?",
        "evicted": "Notebook 02, section 1 ('The pattern'): what decides how many requests are in "
        "flight at once? Here each host needs its own such number.",
        "open": "Section 1's sequence diagram: who closes the client, and when the executor's with "
        "ends.",
        "order": (
            "Section 1, 'Thread pools in one paragraph': which call gives results in the "
            "order of the items?"
        ),
        "closed": "Section 4, 'Closing the client while workers still send'.",
    },
    prefix="c2",
)


HINT_OVER = (
    "Cap each host on its own: host {name} allows {limit} requests at once, the other host "
    "its own number. Not one number for both (the smaller slows the other host down, the "
    "larger overloads this one): a client, or a semaphore, per host, with that host's limit."
)


class Senders:
    """Which httpx.Client sent each request, while `watching()`: evidence for the connection count.

    `httpx.Client.send` (every get/post/stream, httpx.get's own client too) is wrapped meanwhile,
    in every thread; the clients are held until `clear()`, so their ids are not reused.
    """

    def __init__(self) -> None:
        self.sent: list[tuple[httpx.Client, httpx.Request]] = []
        self.semaphores = 0  # threading.(Bounded)Semaphores made meanwhile: one per request?
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def watching(self) -> Iterator[Senders]:
        original = httpx.Client.__dict__["send"]
        made = threading.Semaphore.__init__  # BoundedSemaphore's calls it too

        def send(client: httpx.Client, request: httpx.Request, *args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.sent.append((client, request))
            return original(client, request, *args, **kwargs)

        def semaphore(sem: threading.Semaphore, value: int = 1) -> None:
            with self._lock:
                self.semaphores += 1
            made(sem, value)

        setattr(httpx.Client, "send", send)  # noqa: B010 - wrapped in every thread, then put back
        setattr(threading.Semaphore, "__init__", semaphore)  # noqa: B010 - counted, put back
        try:
            yield self
        finally:
            setattr(httpx.Client, "send", original)  # noqa: B010
            setattr(threading.Semaphore, "__init__", made)  # noqa: B010

    def to(self, server: LabServer) -> list[tuple[httpx.Client, httpx.Request]]:
        """The (client, request) pairs sent to `server`."""
        port = httpx.URL(server.url).port
        return [(c, r) for c, r in self.sent if r.url.port == port]

    def clear(self) -> None:
        self.sent.clear()
        self.semaphores = 0


def _call(
    candidate: FetchFromHosts, urls: list[str], limits: dict[str, int], senders: Senders, call: int
) -> object:
    problem = hint = failure = ""
    try:
        with senders.watching():
            return candidate(list(urls), dict(limits))
    except NotImplementedError:
        problem = "Not yet: fetch_from_hosts still raises NotImplementedError."
        hint = "Write its body, run that cell, then run this check again."
    except (RuntimeError, httpx.ReadError, httpx.ReadTimeout) as exc:
        if call > 1 and str(exc) == SEND_CLOSED:  # call 1 worked: its client was kept, closed
            failure = "kept-client"
            problem = (
                f"fetch_from_hosts raised {describe(exc)} in call {call}: call 1 worked, and "
                "closed a client that call {call} used again (a client made at module level, "
                "or kept from call 1?)."
            ).replace("{call}", str(call))
            hint = (
                "Make the clients inside fetch_from_hosts, one per host with that host's limit, "
                "and close them before it returns: a client made once, outside, is closed by "
                "the first call and stays closed for every call after it."
            )
        elif not isinstance(exc, RuntimeError) or str(exc) == SEND_CLOSED:
            failure = "closed"
            problem = (
                f"fetch_from_hosts raised {describe(exc)}: a client closed while requests "
                "were still being sent on it (the lab server answers within 0.2 s)."
            )
            hint = (
                "Every worker must be done before the client it uses closes: end the thread "
                "pools (their `with`, or shutdown(wait=True)) first, then the client."
            )
        else:
            problem, hint = f"fetch_from_hosts raised {describe(exc)}", "Fix that error first."
    except Exception as exc:  # noqa: BLE001 - the learner's error becomes a verdict
        problem, hint = f"fetch_from_hosts raised {describe(exc)}", "Fix that error first."
    if failure:
        STEPS.fail(failure, problem, hint)
    raise CheckFailed(problem, hint)  # outside `except`: no learner frames kept alive


def _judge_order(got: object, expected: list[str], hosts: list[str]) -> None:
    if isinstance(got, Iterator):
        STEPS.fail(
            "order",
            f"fetch_from_hosts returned {kind(got)} (an iterator), not a list.",
            "Turn the results into a list before returning them.",
        )
    on_a = [body for body, host in zip(expected, hosts, strict=True) if host == "A"]
    on_b = [body for body, host in zip(expected, hosts, strict=True) if host == "B"]
    if isinstance(got, list) and got != expected and got in (on_a + on_b, on_b + on_a):
        STEPS.fail(
            "order",
            "the bodies are grouped by host, not in the order of urls.",
            "Return one body per url, in the order of urls, however you split the work "
            "between the hosts.",
        )


def _peak_open(server: LabServer) -> int:
    """The most TCP connections the server had open at the same moment.

    A connection the client closed counts as open until its last answer, not until the server
    noticed the close: a client that keeps one connection alive closes the others right after
    their answers, and the server notices a moment later, maybe after the next one opened.
    """
    last_answer: dict[int, float] = {}
    for record in server.requests:
        last_answer[record.connection] = max(
            last_answer.get(record.connection, 0.0), record.finished
        )
    ends = [
        min(c.closed, last_answer.get(c.id, c.closed))
        if c.closed is not None and c.closed_by == "client"
        else c.closed
        for c in server.connections
    ]
    events = sorted(
        [(c.opened, 1) for c in server.connections] + [(end, -1) for end in ends if end is not None]
    )
    peak = current = 0
    for _, change in events:
        current += change
        peak = max(peak, current)
    return peak


def _pool_limit(client: httpx.Client, name: str) -> int | None:
    """A limit of the client's pool, from httpcore (`_max_connections`, private: None if
    unknown)."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    limit = getattr(pool, name, None)
    return limit if isinstance(limit, int) else None


def _judge_one_client(
    name: str,
    server: LabServer,
    limit: int,
    call: int,
    client: httpx.Client,
    sent: list[httpx.Request],
    opened_in_all: int,
) -> None:
    """Every request to this host came from one client, yet it opened more than `limit`
    connections: it either closed them after use, or had more than `limit` requests in flight
    (the server's in-flight count can miss one whose answer was just leaving).

    `opened_in_all`, on both hosts, tells the two apart when the server's clocks can't: a pool
    that never filled up (no more connections in all than its max_connections) and kept every
    connection alive opened a new one only while each one it had was busy.
    """
    requests, opened = server.requests, server.connections_opened
    used = Counter(r.connection for r in requests)
    closing = any(r.headers.get("connection", "").lower() == "close" for r in sent)
    keep = _pool_limit(client, "_max_keepalive_connections")
    most = _pool_limit(client, "_max_connections")
    kept_all = (
        not closing and keep is not None and most is not None and opened_in_all <= min(keep, most)
    )
    if all(n == 1 for n in used.values()) and (closing or keep in (0, None)):
        STEPS.fail(
            "churn",
            f"host {name} saw {opened} TCP connections for {len(requests)} requests, all "
            f"from one client: it closed each connection after one answer (call {call}).",
            HINT_CONNECTION_CLOSE
            if closing
            else "Your client is shared, but it does not keep its connections alive: "
            "max_keepalive_connections=0 closes each one after its answer. Keep as many "
            "alive as the connections you allow.",
        )
    peak_open = max(_peak_open(server), opened if kept_all else 0)
    if peak_open > limit:  # the server's clocks missed the overlap that its connections show
        _judge_over(name, limit, call, peak_open, [(client, request) for request in sent])
        STEPS.fail(
            "over",
            f"host {name} (limit {limit}) had {peak_open} of your requests in flight at once "
            f"(call {call}): one client sent them all and kept {peak_open} TCP connections to "
            "it open together, and a client opens another one only while each one it has is "
            "busy.",
            HINT_OVER.format(limit=limit, name=name),
        )
    if closing or (keep is not None and keep < peak_open):
        STEPS.fail(
            "churn",
            f"host {name} saw {opened} TCP connections for {len(requests)} requests, all "
            f"from one client that closed some of them after their answer (call {call}).",
            HINT_CONNECTION_CLOSE
            if closing
            else f"Your client is shared, but with max_keepalive_connections={keep} it keeps "
            f"fewer connections alive than the {peak_open} it had open at once: the others "
            "close after their answer. Keep as many alive as the connections you allow.",
        )
    STEPS.fail(
        "evicted",
        f"host {name} saw {opened} TCP connections for {len(requests)} requests, all from "
        f"one client whose pool closed idle ones to make room (call {call}).",
        "One pool for both hosts: when it is full, it closes an idle connection to one host to "
        "open one to the other. Each host has its own limit: use a client per host with that "
        "host's limit, or one pool big enough for both plus a per-host cap (a semaphore).",
    )


def _judge_semaphores(
    name: str, limit: int, call: int, sent: list[tuple[httpx.Client, httpx.Request]], made: int
) -> None:
    """Over the limit (by the server's clocks or by the connections one pool opened), and a
    semaphore made for every request: a cap that caps nothing."""
    if made >= len(sent):
        STEPS.fail(
            "semaphore-per-call",
            f"host {name} (limit {limit}) got more than {limit} of your requests at once (call "
            f"{call}), and that call made {made} semaphores: one per request?",
            "A semaphore made for each request caps nothing: each one only ever has one thread "
            f"inside. Make one per host, before the work starts (threading.Semaphore({limit}) "
            f"for host {name}), and share it between the threads that send to that host.",
        )


def _judge_over(
    name: str,
    limit: int,
    call: int,
    peak: int,
    sent: list[tuple[httpx.Client, httpx.Request]],
) -> None:
    """More than `limit` at once: a cap given as max_keepalive_connections has its own name."""
    clients = {id(client): client for client, _ in sent}
    if len(clients) == 1:
        (client,) = clients.values()
        keep = _pool_limit(client, "_max_keepalive_connections")
        most = _pool_limit(client, "_max_connections")
        if keep == limit and (most is None or most > limit):
            cap = (
                "no max_connections" if most is None or most > 2**30 else f"max_connections={most}"
            )
            STEPS.fail(
                "keepalive-cap",
                f"host {name} (limit {limit}) was serving {peak} of your requests at once "
                f"(call {call}), all from one client made with max_keepalive_connections="
                f"{limit} and {cap}.",
                "max_keepalive_connections only says how many idle connections the pool keeps "
                "for later; max_connections caps how many are open, so how many requests are in "
                f"flight: httpx.Limits(max_connections={limit}, max_keepalive_connections="
                f"{limit}) for host {name}.",
            )


def _judge_host(
    name: str,
    server: LabServer,
    limit: int,
    call: int,
    sent: list[tuple[httpx.Client, httpx.Request]],
    opened_in_all: int,
    semaphores: int = 0,
) -> None:
    """One host's evidence: in flight at once, TCP connections opened, and all of them closed.

    The number of connections comes before "one at a time": on a loaded machine a client per
    request takes so long to build that its requests no longer overlap at the server.
    """
    requests, opened = server.requests, server.connections_opened
    peak = peak_in_flight(requests)
    if peak > limit:
        _judge_over(name, limit, call, peak, sent)
    if peak > limit or opened > limit:  # the server's clocks can miss an overlap: both count
        _judge_semaphores(name, limit, call, sent, semaphores)
    if peak > limit:
        STEPS.fail(
            "over",
            f"host {name} (limit {limit}) was serving {peak} of your requests at "
            f"once (call {call}).",
            HINT_OVER.format(limit=limit, name=name),
        )
    clients = {id(client) for client, _ in sent}
    if opened > limit and len(clients) == 1 and len(sent) == len(requests):
        mine = [r for _, r in sent]
        _judge_one_client(name, server, limit, call, sent[0][0], mine, opened_in_all)
    if opened > limit:
        STEPS.fail(
            "connections",
            f"host {name} saw {opened} TCP connections for {len(requests)} requests, with "
            f"at most {peak} in flight at once (call {call}).",
            "A connection is reused only by the client that opened it: share a client "
            "between the requests, don't make one per request (httpx.get() makes one too).",
        )
    if peak < min(2, limit):
        STEPS.fail(
            "serial",
            f"host {name} (limit {limit}) got your {len(requests)} requests one "
            f"at a time (call {call}).",
            f"Use the concurrency host {name} allows: up to {limit} requests at once.",
        )
    if not server.wait_until_closed(1.0):
        still = server.open_connections
        STEPS.fail(
            "open",
            f"after fetch_from_hosts returned, host {name} still had {still} TCP "
            f"connection{'s' if still > 1 else ''} open (call {call}).",
            "fetch_from_hosts opens its client(s), so it must close them, once, before it "
            "returns: every client it made, after every worker is done with it.",
        )
    closed_by_server = [c for c in server.connections if c.closed_by == "server"]
    if closed_by_server:  # never expected: the lab server closes only when told to
        STEPS.fail(
            "open",
            f"host {name} closed {len(closed_by_server)} connections itself.",
            "Run the check again; if it persists, re-run the notebook from the top.",
        )


@exercise_check
def check_two_hosts(candidate: FetchFromHosts) -> str:
    """`fetch_from_hosts(urls, limits)`: url order, each host's limit kept, clients closed."""
    if not callable(candidate):
        STEPS.fail(
            "order",
            f"check_two_hosts needs the function, not {kind(candidate)}.",
            "Call check_two_hosts(fetch_from_hosts).",
        )
    senders = Senders()
    with CheckServer() as host_a, CheckServer() as host_b:
        servers = {"A": host_a, "B": host_b}
        for call, (limit_a, limit_b, plan) in enumerate(CALLS, 1):
            for server in servers.values():
                server.reset()
            limits = {host_a.url: limit_a, host_b.url: limit_b}
            urls = [f"{servers[host].url}/delay/{delay}" for host, delay in plan]
            expected = [f"waited {delay} s\n" for _, delay in plan]
            senders.clear()
            got = _call(candidate, urls, limits, senders, call)
            _judge_order(got, expected, [host for host, _ in plan])
            records = sorted(host_a.requests + host_b.requests, key=lambda r: r.finished)
            judge_bodies(
                "fetch_from_hosts",
                got,
                expected,
                records,
                order="c2",
            )
            opened_in_all = host_a.connections_opened + host_b.connections_opened
            for name, limit in (("A", limit_a), ("B", limit_b)):
                sent = senders.to(servers[name])
                made = senders.semaphores
                _judge_host(name, servers[name], limit, call, sent, opened_in_all, made)
    STEPS.passed()
    return (
        "fetch_from_hosts works: each host got at most its limit at once (and used it), no "
        "more connections than that, all closed before returning, bodies in url order."
    )

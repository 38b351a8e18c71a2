"""The catalogue of mistakes: every ❌ verdict's words, in one place, each under a stable id.

A judge names a mistake and its evidence (`flunk("00.other-client", what=..., seen=3)`); the
kernel fills the entry's templates with it. So rewording is an edit here, and tests assert ids,
not sentences. A pointer (a notebook's file and section heading, which a test finds there) is
shown when the same mistake comes back. Ids are `<lesson>.<what went wrong>`: `kernel.` for what
any check can meet, `00.` .. `07.` for the lessons' exercises, `c1.` .. `c5.` for the challenges.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

__all__ = ["MISTAKES", "Mistake", "Pointer"]


@dataclass(frozen=True)
class Pointer:
    """Where a notebook covers a mistake: the file and a section's heading, as it is written."""

    notebook: str  # "01_the_reopen_error.ipynb"
    section: str  # "4.2 A module-level client, closed by one of its users"

    def __str__(self) -> str:
        return f"See notebook {self.notebook[:2]}, section “{self.section}”."


@dataclass(frozen=True)
class Mistake:
    """A named diagnosis: what went wrong and what to change ({evidence} fills the blanks)."""

    problem: str
    hint: str
    pointer: Pointer | None = None


# Problems that several ids share word for word: only their hints (and pointers) differ.
raised = partial(Mistake, "{name} raised {error}")  # the learner's code raised: quote its error
served = partial(Mistake, "GET /status failed: the app raised {error}.")  # lesson 06's app
retried = partial(Mistake, "On {what}, send_with_retry {did}.")  # lesson 07: what it did
did = partial(Mistake, "{what} {did}")  # the facades (04, 05): what one did
warned = partial(Mistake, "{who} warned during correct use: {warning}")
stuck = partial(Mistake, "{name} did not finish within {limit:g} s.")
over_cap = partial(Mistake, "up to {peak} requests were in flight at once, but {cap}={limit}.")
one_at_a_time = partial(Mistake, "{fn} sent its {requests} requests one at a time ({cap}={limit}).")

HINT_OPENED = (
    "Use the client as it is, without `with client:` or client.close(): the caller "
    "opened it, and the caller closes it."
)
HINT_STREAM = (
    "Read a streamed response before you return it (response.read(), inside "
    "`with client.stream(...)`), or use client.get(), which reads the body for you."
)
HINT_GIVEN = (
    "Call client.get(url) on the `client` parameter: the caller built and opened it "
    "(httpx.get() and a client of your own are other clients, each with new connections)."
)
HINT_DONT_CLOSE = (  # both ways of closing look alike to the check (the client ends CLOSED)
    "Don't close the client in fetch_statuses: no client.close(), and no `with client:` (the end "
    "of that block closes it too). The caller owns the client and closes it when it is done."
)
HINT_SHAPE = (
    "Try the request with client.request(method, url); on httpx.RemoteProtocolError, "
    "httpx.ReadError or httpx.ConnectError, for an idempotent method, try again, up to "
    "`attempts` tries in all; re-raise the error when no try is left."
)
HINT_DEPENDENCY = (
    "A dependency runs for every request, so a client made there is a client per request. Make the "
    "client once, in the lifespan (`async with httpx.AsyncClient(...) as client:`, keep it on "
    "app.state, then `yield` inside that block), and let get_client return that one client: "
    "`return request.app.state.client`. The path function takes it as a parameter, `client: "
    "Annotated[httpx.AsyncClient, Depends(get_client)]`, and makes no client of its own."
)
HINT_CLOSE = (
    "Open the client in the lifespan with `async with httpx.AsyncClient(...) as client:` and "
    "`yield` inside that block, which closes the client at shutdown. A client made at module "
    "level, or with neither `async with` nor `await client.aclose()` after `yield`, stays open."
)
HINT_REUSE = (
    "Every request used the right client, but its connections were not reused: let the pool keep "
    "them (read each streamed response to its end; no `Connection: close` header)."
)
FAN_CHURN = (  # the problem of fan.churn and fan.connection-close
    "the server saw {opened} for {requests} requests, at most {most} at once ({limits}): "
    "connections were not reused."
)
FAN_DROPPED = (
    "{fn} returned with {kept} open in the client's pool, after {most} requests in flight at once: "
    "it closed the others, so the client's next call opens them again."
)
HINT_DROP_CONNECTION_CLOSE = (
    "Drop the `Connection: close` header: it tells the server to close the "
    "connection after each answer, so every request opens a new one."
)
ATTEMPTS = "`attempts` counts every try, the first included: range(attempts) tries `attempts` times"
KEYS = "Return exactly these keys: {keys}."
C2_EVICTED = (
    "One pool for both hosts: when it is full, it closes an idle connection to one host to open "
    "one to the other. Each host has its own limit: use a client per host with that host's limit, "
    "or one pool big enough for both plus a per-host cap (a semaphore)."
)
HOST_SAW = "host {name} saw {opened} TCP connections for {requests} requests, all from one client"
ACLOSE_HERE = "aclose() must close the running loop's client, inside that loop: "
C3_DICT = "Return {{'max_connections': ..., 'max_keepalive_connections': ..., 'pool_timeout': ...}}"

NB01 = "01_the_reopen_error.ipynb"
NB02 = "02_open_once_share_across_threads.ipynb"
NB03 = "03_pool_sizes_explorer.ipynb"
NB04 = "04_building_a_client_facade.ipynb"
NB05 = "05_async_clients.ipynb"
NB06 = "06_one_client_per_application.ipynb"
NB07 = "07_when_pooled_connections_break.ipynb"
# Sections that many mistakes point to (notebooks 04 and 05).
NB04_OWNERSHIP = "Rules 1 and 2: decide ownership once; never enter or close a borrowed client"
NB04_CLOSING = "Rules 3 and 4: close an owned client once; the facade is the context manager"
NB05_SHARE = "2. Open once per event loop, share across tasks"
NB05_PITFALL = "4. The pitfall: one client, two event loops"

# Advice that several of the Fetcher / AsyncFetcher entries give (the `04.*` ones).
FACADE_BORROWED = (
    "A borrowed client is the caller's: use it, but never enter it (`{with_} client:`, "
    "client.{enter}()) or close it ({shut}). Close only a client your {facade} made."
)
FACADE_OWNED = (
    "Make the client once, in __init__, with {client}(**client_kwargs); reuse it in every "
    "fetch; close it once, in {close}()."
)
FACADE_ENTER = "{enter} should return self (the {facade}), and {exit} should {call} self.{close}()."
FACADE_ON_ERROR = (
    "{exit} runs however the block ends: close there whatever exc_info says, and return None, "
    "so an error goes on to the caller."
)
FACADE_ONLY_WHEN_NONE = (
    "Make a client only when none is given: `client if client is not None else "
    "{client}(**client_kwargs)`, in __init__."
)
FACADE_SHARED = (
    "Give each {facade} its own client, made in __init__ as self._client: a class attribute is "
    "shared by every instance, and the first {close}() closes it for all{loop}."
)
FACADE_OWNS = (
    "{close}() trusts owns_client: if it could change, {article} {facade} could close a client "
    "it only borrowed. Decide it once in __init__ (self._owns_client = client is None) and "
    "expose it as a @property without a setter."
)
not_closed = partial(  # the problem of the three *-not-closing entries
    Mistake,
    "{ended_by} did not close the client the {facade} made (owns_client is True): its "
    "connections stay open.",
)
FACADE_CHURN = "{before}{fetches} fetches ({situation}) opened {opened}, not 1{guess}"
FACADE_OWNERSHIP, FACADE_CLOSING = Pointer(NB04, NB04_OWNERSHIP), Pointer(NB04, NB04_CLOSING)

MISTAKES: dict[str, Mistake] = {
    # What any check can meet: the kernel's own diagnoses.
    "kernel.not-yet": Mistake(
        "Not yet: {name} still raises NotImplementedError.",
        "Write its body, run that cell, then run this check again.",
    ),
    "kernel.needs-function": Mistake(
        "{check} needs the function itself, not {got}.",
        "Call {check}({name}): the function, without calling it.",
    ),
    "kernel.called-function": Mistake(
        "{check} needs the function itself, not a coroutine (what calling it gives).",
        "Call {check}({name}): no parentheses after {name}.",
    ),
    "kernel.stuck": stuck(
        "Something in it waits for what never comes: is every await on something that ends "
        "(a semaphore or lock released, a queue fed, a task that finishes)?",
    ),
    "05.stuck": stuck(
        "Is every request awaited, and is the semaphore always released? `async with "
        "semaphore:` releases it even when a request fails.",
    ),
    "kernel.needs-class": Mistake(
        "{check} needs the class itself, not {got}.",
        "Call {check}({name}): the class, not {name}() or {name}.fetch.",
    ),
    "kernel.unread-stream": Mistake(
        "Your code gave back a streamed response whose body was not read ({error}).", HINT_STREAM
    ),
    "kernel.unread-body": Mistake(
        "{what} returned a streamed response whose body was never read (httpx.ResponseNotRead).",
        HINT_STREAM,
    ),
    "kernel.not-a-response": Mistake(
        "{what} returned {got}, not an httpx.Response.",
        "Return the response itself, after response.raise_for_status().",
    ),
    "kernel.wrong-body": Mistake(
        "{what} returned an answer with the body {text!r}, not {body!r}.",
        "GET the url you were given and return that response.",
    ),
    "kernel.cannot-judge": Mistake(
        "The check could not judge what your code gave back: {error}",
        "Make sure the cell with your answer ran and returns what the exercise asks for; "
        "if it does, re-run the cells above this one in order, then this check.",
    ),
    "kernel.ignored-error": Mistake(
        "An error was ignored while the check ran (Python would only print it): {noted}{more}.",
        'Python only prints such an error ("Exception ignored in ...") and goes on, so '
        "it goes unnoticed: make that code safe (a __del__ runs even when __init__ failed "
        "halfway, and maybe long after), or close things explicitly instead.",
    ),
    "kernel.thread-error": Mistake(
        "An error was ignored while the check ran (Python would only print it): {noted}{more}.",
        "An exception in a thread you start yourself is only printed: catch it there, or "
        "use concurrent.futures, whose future.result() raises it where you can see it.",
    ),
    "kernel.out-of-time": Mistake(
        "The check ran out of time: {who} still running after {limit:g} s, and a thread "
        "cannot be stopped from outside, so it may still be running.",
        "look for what never ends (a worker waiting forever on a queue or a lock, a "
        "thread never joined), fix it, then restart the kernel (Kernel > Restart Kernel) to "
        "stop the old thread, run the cells above, and check again.",
    ),
    # 00_start_here: first_request(client, url)
    "00.wrong-request": Mistake(
        "{what} sent {odd}, not GET {path}.",
        "Send GET to the url you were given, as it is: client.get(url).",
    ),
    "00.whole-response": Mistake(
        "{what} returned the whole response, not its text ({text!r}).", "Return response.text."
    ),
    "00.bytes": Mistake(
        "{what} returned bytes ({got!r}), not text.",
        "Return response.text (a str), not response.content (bytes).",
    ),
    "00.none": Mistake(
        "{what} returned None, not the body as text.",
        "Return client.get(url).text (a `return` is missing?).",
    ),
    "00.status-code": Mistake(
        "{what} returned the number {got}, the status code, not the body as text.",
        "Return response.text: response.status_code is the status, not the body.",
    ),
    "00.not-text": Mistake(
        "{what} returned {got}, not the body as text.",
        "Use client.get(url), then return the response's .text.",
    ),
    "00.wrong-text": Mistake(
        "{what} returned {got!r}, not the body of GET url, {body!r}.",
        "Return client.get(url).text, as it is.",
    ),
    "00.closed-given": Mistake("{what} closed the client it was given.", HINT_OPENED),
    "00.opened-given": raised(HINT_OPENED),
    "00.other-client": Mistake(
        "{what} sent its request on another client, not the given one (the server got {seen}).",
        HINT_GIVEN,
    ),
    "00.refused": raised(HINT_GIVEN),
    "00.saved-answer": Mistake(
        "{what} returned the right text without sending a request: a saved answer?",
        "Send GET url each time first_request is called.",
    ),
    "00.extra-requests": Mistake(
        "{what} sent {count} for one call.",
        "Send GET url once, and return the text of that one response.",
    ),
    "00.unread-stream": raised(
        "Read a streamed body inside its `with client.stream(...)` block "
        "(response.read()), or simply use client.get(url)."
    ),
    "00.json": raised("The body is plain text, not JSON: return response.text."),
    "00.other-error": raised("Use client.get(url), then return the response's .text."),
    # What a twin's code must be (lessons 02, 04, 05): `_twins.judge_kind`.
    "kernel.wrong-kind": Mistake("{what} is {article} {kind}, not {wanted}.", "{what}: {why}"),
    # asyncio's errors whose message doesn't say what to change (lesson 05, challenge 5.3).
    "05.missing-await": raised(
        "A missing await: an AsyncClient's get() gives a coroutine, not a response, until you "
        "await it: `response = await client.get(url)`."
    ),
    "05.gather-list": raised(
        "asyncio.gather takes the coroutines as separate arguments, not one list: "
        "`await asyncio.gather(*coroutines)`, with the star."
    ),
    "05.asyncio-run": raised(
        "Your code already runs in its caller's event loop: await the work (`await "
        "asyncio.gather(...)`, `await client.get(url)`), don't start a new one with asyncio.run().",
    ),
    # 02 fetch_all (threads) and 05 fetch_all_async (asyncio): `_fan_out`. {fn}, {with_}, {get},
    # {close} and {cap} are the flavour's words: fetch_all, `with`, `client.get(url)`, ...
    "fan.opened-given": raised(
        "The caller already opened that client: drop `{with_} client:` from {fn} and just {get}.",
        Pointer(NB02, "1. The pattern: open once, share, close once"),
    ),
    "fan.closed-given-error": raised(
        "Something in {fn} closed the client it was given ({close}, or a "
        "`{with_} client:` block that ended): leave it open, the caller closes it.",
        Pointer(NB02, "Closing the client while workers still send"),
    ),
    "fan.closed-given": Mistake(
        "{fn} closed the client it was given.",
        "Leave the client open: whoever opened it closes it, and it may still be needed.",
        Pointer(NB02, "Closing the client while workers still send"),
    ),
    "05.other-loop": raised(
        "Make the asyncio.Semaphore inside fetch_all_async, so it belongs to the "
        "event loop that runs the function: one made in another event loop (at module "
        "level, or kept from an earlier call) can't be used in this one.",
        Pointer(NB05, "asyncio's own tools belong to a loop too"),
    ),
    "02.error": raised(
        "Read that error: it says what went wrong. Then fix fetch_all, run its cell again, "
        "and this check."
    ),
    "05.error": raised(
        "Fix that error. Remember the caller owns the client: use it, but don't open it "
        "(`async with client:`) or close it (`await client.aclose()`) inside fetch_all_async."
    ),
    "05.returned-awaitable": Mistake(
        "{fn} returned an awaitable, not the list of bodies: a missing await on asyncio.gather?",
        "Await it before returning: `return await asyncio.gather(...)`.",
    ),
    "02.iterator": Mistake(
        "fetch_all returned {got} (an iterator), not a list of bodies.",
        "pool.map gives an iterator: return list(pool.map(fetch, urls)).",
    ),
    "02.futures": Mistake(
        "fetch_all returned Future objects, not the bodies.",
        "Return [f.result() for f in futures], or simply list(pool.map(fetch, urls)).",
    ),
    "02.own-client": Mistake(
        "{fn} sent {sent} of its {requests} requests on the given client; the server saw {opened}.",
        "Call client.get(url) on the given client; no other client in fetch_all, no httpx.get().",
    ),
    "05.own-client": Mistake(
        "{fn} sent {sent} of its {requests} requests on the given client; the server saw {opened}.",
        "Await client.get(url) on the given client; build no client in fetch_all_async.",
    ),
    "fan.extra-requests": Mistake(
        "{fn} sent {sent} requests on the client it was given for {requests} URLs.",
        "GET each url once: one request per URL, and its body in the list.",
    ),
    "02.over-cap": over_cap(
        "Make the pool inside fetch_all, with ThreadPoolExecutor(max_workers=max_workers): no "
        "fixed number, and nothing kept from an earlier call.",
    ),
    "05.over-cap": over_cap(
        "Make ONE asyncio.Semaphore(max_concurrency) inside fetch_all_async, before gather "
        "(not one per request, not a fixed number, not one kept from an earlier call), and "
        "hold it around each request: `async with semaphore: response = await client.get(url)`.",
    ),
    "02.one-at-a-time": one_at_a_time(
        "Send them from a ThreadPoolExecutor(max_workers=max_workers), e.g. with pool.map, and let "
        "each worker send at once: no lock around client.get (a Client is safe to share across "
        "threads), no .result() right after each submit().",
    ),
    "05.one-at-a-time": one_at_a_time(
        "Awaiting requests one by one in a loop runs them one after another; start them "
        "together with asyncio.gather(...) and cap them with an asyncio.Semaphore.",
    ),
    "02.under-cap": Mistake(
        "at most {peak} requests were in flight at once, though {limits} allows {most}.",
        "Use max_workers itself, not a fixed number: ThreadPoolExecutor(max_workers=max_workers).",
    ),
    "05.under-cap": Mistake(
        "at most {peak} requests were in flight at once, though {limits} allows {most}.",
        "Use asyncio.Semaphore(max_concurrency), made inside fetch_all_async, not a fixed number.",
    ),
    "fan.churn": Mistake(FAN_CHURN, HINT_REUSE),
    "fan.connection-close": Mistake(FAN_CHURN, HINT_DROP_CONNECTION_CLOSE),
    "fan.dropped": Mistake(FAN_DROPPED, HINT_REUSE),
    "fan.dropped-close": Mistake(FAN_DROPPED, HINT_DROP_CONNECTION_CLOSE),
    "05.stray-warning": warned(
        "Python warns when work is started and never finished, such as a coroutine made but never "
        "awaited: await every coroutine you make (asyncio.gather(*coroutines) awaits them all).",
    ),
    # 03_pool_sizes_explorer: choose_pool()
    "03.not-the-function": Mistake(
        "check_choose_pool needs the function choose_pool itself, not {what}.",
        "Pass the function, without calling it: check_choose_pool(choose_pool).",
    ),
    "03.error": raised("choose_pool takes no arguments and returns a dict of three whole numbers."),
    "03.none": Mistake("choose_pool returned None: is its `return` missing?", "End it: {ret}"),
    "03.limits": Mistake(
        "choose_pool returned an httpx.Limits: the check builds the client (and its Limits) "
        "itself, from plain numbers.",
        'Return three whole numbers in a dict: {{"max_connections": 8, ...}}, no httpx.Limits.',
    ),
    "03.not-a-dict": Mistake("choose_pool returned {got}, not a dict.", "{ret}"),
    "03.keys": Mistake("choose_pool's dict has {what}.", KEYS),
    "03.no-limit": Mistake(
        "max_connections=None means no limit at all: the pool may open as many TCP "
        "connections as there are workers, over the budget of {budget}.",
        "Make the pool enforce the budget: give max_connections a number.",
        Pointer(NB03, "1. What `httpx.Limits` controls"),
    ),
    "03.not-an-int": Mistake(
        "{key} is {value!r} ({type}), not a whole number (an int).",
        "Give {key} as a plain int: no quotes, no decimal point, no None.",
    ),
    "03.too-low": Mistake(
        "{key}={value} cannot work: it must be at least {low}.",
        "{key} counts {unit}: give it {low} or more.",
    ),
    "03.over-budget": Mistake(
        "max_connections={max_connections} lets the pool open up to {up_to}, over the budget "
        "of {budget}{seen}.",
        "Make the pool enforce the budget: max_connections={budget} at most, whatever the "
        "number of workers.",
        Pointer(NB03, "1. What `httpx.Limits` controls"),
    ),
    "03.few-workers": Mistake(
        "only {workers}, so at most {requests} in flight: {timing}.",
        "Each worker thread sends one request at a time: give the pool at least as many "
        "workers as connections ({max_connections} connections sit partly unused).",
        Pointer(NB03, "2. More workers than connections: requests queue"),
    ),
    "03.too-slow": Mistake(
        "at most {in_flight} in flight: {timing}.",
        "{deadline:g} s holds {rounds} whole rounds of {latency:g} s (a round cannot be "
        "split): how many requests must be in flight at once to finish {total} in that many "
        "rounds? The budget allows {budget}.",
        Pointer(NB03, "Reading a timeline"),
    ),
    "03.no-keepalive": Mistake(
        "the server saw {opened} for {total} requests: with max_keepalive_connections=0 every "
        "connection is closed after its request (connection churn).",
        "Let the pool keep its connections between requests: max_keepalive_connections "
        "equal to max_connections.",
        Pointer(NB03, "4. `max_keepalive_connections=0`: a connection per request"),
    ),
    "03.keepalive-below": Mistake(
        "{this_run}: with max_keepalive_connections={keepalive} below max_connections="
        "{max_connections} ({in_flight} requests in flight), the pool closes connections "
        "between requests and opens new ones.",
        "Set max_keepalive_connections to max_connections (httpcore 1.0.9 counts busy "
        "connections too, so a lower value closes connections you still need).",
        Pointer(NB03, "An honest note about `max_keepalive_connections`"),
    ),
    "03.unanswered": Mistake(
        "only {ok} of {total} requests got an answer ({timeouts}).",
        "Run the cell again; if it persists, re-run the notebook from the top.",
    ),
    # 04 Fetcher and 05 AsyncFetcher: `_facade`. {facade}, {client}, {with_}, {close}... are the
    # flavour's words (`_facade._words`); {label} names the instance, {situation} what it got.
    "04.opened-client": raised(
        "Send with {get} and nothing else: no `{with_} client:` and no client.{enter}() in "
        "fetch, __init__ or {enter}. A client opens by itself on its first request, a borrowed "
        "one may already be open, and leaving `{with_} client:` closes a client for good.",
        Pointer(NB04, "2. The naive facade"),
    ),
    "04.borrowed-error": raised(FACADE_BORROWED, FACADE_OWNERSHIP),
    "04.closed-borrowed": Mistake(
        "{ended_by} closed the client the {facade} was given (borrowed).",
        FACADE_BORROWED,
        FACADE_OWNERSHIP,
    ),
    "04.owned-error": raised(FACADE_OWNED, FACADE_CLOSING),
    "04.client-per-fetch": Mistake(
        "one {label} made {made} for {fetches} fetches: a new client per fetch?", FACADE_OWNED
    ),
    "04.no-method": Mistake("{facade} has no {method}() method.", FACADE_OWNED),
    "04.settings-error": raised(
        "Accept any client settings as **client_kwargs (the check passes transport=, event_hooks=, "
        "verify=, timeout=) and make the client once, in __init__: {client}(**client_kwargs).",
    ),
    "04.settings-ignored": Mistake(
        "{label} did not give its settings to {client}: {seen}.",
        "Make the client with {client}(**client_kwargs).",
    ),
    "04.ignores-given": Mistake(
        "fetch() sent {sent} of its {fetches} requests on the client it was given ({seen}).",
        "Send every request with the client you were given. " + FACADE_ONLY_WHEN_NONE,
    ),
    "04.builds-when-borrowing": Mistake(
        "{label}{where} made {made} of its own, although it was given one.", FACADE_ONLY_WHEN_NONE
    ),
    "04.extra-requests": Mistake(
        "fetch() sent {sent} requests on the client it was given for {fetches} fetches.",
        "Send one GET per fetch(), and return its response.",
    ),
    "04.shared-client-error": raised(FACADE_SHARED),
    "04.shared-client": Mistake("{between}: one client shared by every instance?", FACADE_SHARED),
    "04.lazy-without-lock": Mistake(
        "{at_once} {workers}' first fetches made {made} for one {label}: lazily, without a lock?",
        "Make the client in __init__, or hold {lock} while checking for it and making it lazily.",
        Pointer(NB04, "One facade for a thread pool"),
    ),
    "04.churn": Mistake(FACADE_CHURN, HINT_REUSE),
    "04.connection-close": Mistake(FACADE_CHURN, HINT_DROP_CONNECTION_CLOSE),
    "04.close-not-closing": not_closed(
        "In {close}(), close the client when the {facade} made it.", FACADE_CLOSING
    ),
    "04.close-twice": raised("{close}() must be harmless when called again (httpx's own is)."),
    "04.no-context-manager": Mistake(
        "{facade} has no {missing}, so `{with_} {facade}(client) as f:` can't work.", FACADE_ENTER
    ),
    "04.enter-returns": Mistake(
        "{block} made f {got}, not the {facade}.", FACADE_ENTER, FACADE_CLOSING
    ),
    "04.exit-error": raised(FACADE_ENTER, FACADE_CLOSING),
    "04.exit-not-closing": not_closed(FACADE_ENTER, FACADE_CLOSING),
    "04.exit-arguments": raised(
        "{exit} is given the error that ended the block, as three arguments (type, value, "
        "traceback; three Nones if none did): `def {exit}(self, *exc_info):`.",
    ),
    "04.exit-loses-error": Mistake("{ended_by} {did}", FACADE_ON_ERROR),
    "04.error-not-closing": not_closed(FACADE_ON_ERROR, FACADE_CLOSING),
    "04.works-after-close": did(
        "Note in {close}() that the {facade} is closed, and make fetch() raise RuntimeError "
        "then: a closed {facade} must not work, even if its client still does.",
        Pointer(NB04, "Rule 5: a closed facade says so"),
    ),
    "04.accepts-both": did(
        "Raise TypeError in __init__ when both a client and client settings are given: the "
        "settings can't reach a client that already exists.",
        Pointer(NB04, "Rule 6: a client *and* client settings is a mistake"),
    ),
    "04.owns-client": did(FACADE_OWNS, FACADE_OWNERSHIP),
    "04.owns-client-error": raised(FACADE_OWNS, FACADE_OWNERSHIP),
    "04.status-not-raised": did(
        "Call response.raise_for_status() before returning the response: it raises "
        "httpx.HTTPStatusError for a 4xx or 5xx answer, so no one mistakes an error for data.",
    ),
    "04.refuses-success": raised(
        "Raise only for an error answer: response.raise_for_status() raises for a 4xx or 5xx "
        "and lets any 2xx through (201 Created, 203...). `status_code != 200` refuses successes.",
    ),
    "04.noise": warned(
        "A warning that fires when all is well is noise, and teaches people to ignore warnings. "
        "Warn only about a real mistake, such as an owned client never closed.",
        Pointer(NB04, "Rule 7: warn about real mistakes only"),
    ),
    "05.async-init": Mistake(
        "{facade}.__init__ is an async def: Python calls __init__ without awaiting it.",
        "Make __init__ a plain def: {client}(**client_kwargs) needs no await (a client opens on "
        "its first request).",
    ),
    "04.del-closes-borrowed": Mistake(
        "dropping {article} {facade} that borrowed its client closed it (in __del__).",
        "A borrowed client is the caller's, even in __del__: close only a client your {facade} "
        "made (`if self._owns_client: ...`), better in {close}() than in __del__.",
        FACADE_OWNERSHIP,
    ),
    "05.aclose-calls-close": raised(
        "An httpx.AsyncClient has no close(): close it with `await self._client.aclose()`.",
    ),
    "05.aclose-not-awaited": Mistake(
        "{what} made the coroutine {coroutine} but never awaited it: the client stays open.",
        "Write `await self._client.aclose()`: without await, the call only makes a coroutine.",
        Pointer(NB05, "1. The same three states"),
    ),
    "04.warns-on-correct-use": Mistake(
        "{who} warned though each was closed or borrowed its client: ResourceWarning: {warning}",
        "Warn from __del__ only when the {who} made its client and never closed it: `if "
        "getattr(self, '_owns_client', False) and not getattr(self, '_closed', True):` (getattr, "
        "in case __init__ failed).",
        Pointer(NB04, "Rule 7: warn about real mistakes only"),
    ),
    # 06_one_client_per_application: make_app(upstream) -> FastAPI
    "06.not-the-function": Mistake(
        "check_lifespan_client needs the function make_app itself, not an app or a call's result.",
        "Call check_lifespan_client(make_app): no parentheses after make_app.",
    ),
    "06.error": raised("make_app should build the FastAPI app and return it."),
    "06.no-app": Mistake(
        "make_app(upstream) did not return an app (a FastAPI instance).",
        "End make_app with `return app`.",
    ),
    "06.not-yet-lifespan": Mistake(
        "Not yet: the app's lifespan still raises NotImplementedError.",
        "Write the lifespan and get_client, change the path function, run that cell, "
        "then run this check again.",
    ),
    "06.startup-failed": Mistake(
        "The app did not start: its lifespan raised {error}.",
        "The lifespan runs first: open the client there, put it on app.state, then yield.",
    ),
    "06.not-yet-dependency": Mistake(
        "Not yet: the app raised NotImplementedError while serving GET /status.",
        "Write get_client's body, run that cell, then run this check again.",
    ),
    "06.no-lifespan": Mistake(
        "GET /status failed: the app's lifespan never ran: FastAPI() was made without lifespan=.",
        "Hand the lifespan to the app: `app = FastAPI(lifespan=lifespan)`.",
    ),
    "06.yield-outside": served(
        "The client was closed before the app served: put `yield` inside the `async with` block of "
        "the lifespan, so that the client stays open while the app serves and closes at shutdown.",
    ),
    "06.closed-in-path": Mistake(
        "GET /status failed after {served} requests went downstream: the app raised {error}.",
        "The path function (or dependency) closed the app's client: no `await client.aclose()` or "
        "`async with client:` there; the lifespan closes it, at shutdown.",
        Pointer(NB06, "1c. The pattern: lifespan, `app.state`, a dependency"),
    ),
    "06.entered-borrowed": served(
        "The path function entered the lifespan's client (`async with client:`), which closes it "
        "for every later request: use it as it is, `await client.get(...)`.",
        Pointer(NB06, "1c. The pattern: lifespan, `app.state`, a dependency"),
    ),
    "06.no-state": served(
        "The lifespan did not keep the client on app.state: `app.state.client = client` before "
        "`yield` (and get_client returns `request.app.state.client`).",
    ),
    "06.served-error": served(HINT_DEPENDENCY),
    "06.missing-await": served("A missing await: `response = await client.get(path)`."),
    "06.unprocessable": Mistake(
        "GET /status answered 422 (Unprocessable Content) to {wrong} of {total} requests: "
        "FastAPI could not fill in the path function's parameters.",
        HINT_DEPENDENCY,
    ),
    "06.wrong-answers": Mistake(
        "{wrong} of {total} answers to GET /status were not the upstream's '{answer}' (the "
        "first: status {status}).",
        "GET /status should ask the upstream for /delay/0.05 and return its text, e.g. "
        '`{{"upstream": response.text}}`.',
    ),
    "06.request-failed": Mistake(
        "GET /status failed: {error}",
        "GET /status should answer within seconds: ask the upstream once, return its answer.",
    ),
    "06.shutdown-failed": Mistake("The app's shutdown raised {error}.", HINT_CLOSE),
    "06.blocking-client": Mistake(
        "{total} requests, {at_once} at once, reached the upstream one at a time: the app waited.",
        "Open an httpx.AsyncClient in the lifespan and `await` its requests: in an `async def` "
        "path function, a synchronous httpx.Client blocks the event loop while it waits.",
        Pointer(NB06, "1c. The pattern: lifespan, `app.state`, a dependency"),
    ),
    "06.downstream-count": Mistake(
        "The app sent {sent} requests downstream for the {total} it got.",
        "Send one request downstream (to /delay/0.05) per GET /status.",
    ),
    "06.no-keepalive": Mistake(
        "{total} requests, {at_once} at a time, opened {opened} downstream TCP connections (not at "
        "most {at_once}), all from one client: it did not keep them alive.",
        "The client closes each connection after its answer: drop max_keepalive_connections=0 "
        "and any `Connection: close` header (httpx's default limits keep enough alive).",
    ),
    "06.client-per-request": Mistake(
        "{total} requests, {at_once} at a time, opened {opened} downstream TCP "
        "connections{per}, not at most {at_once}: the app does not share one client.",
        HINT_DEPENDENCY,
        Pointer(NB06, "1a. The mistake: a client per request"),
    ),
    "06.never-closed": Mistake(
        "After the app shut down, {still} of its {opened} downstream connections were still "
        "open: nothing closed its client.",
        HINT_CLOSE,
        Pointer(NB06, "1b. The other mistake: a module-level client that nothing closes"),
    ),
    "06.aclose-not-awaited": Mistake(
        "After shutdown, {still} of its {opened} downstream connections were still open: aclose() "
        "was never awaited, so the client was never closed.",
        "Write `await client.aclose()` (an async call does nothing until awaited), or simply open "
        "it with `async with httpx.AsyncClient(...) as client:` and `yield` inside that block.",
        Pointer(NB06, "1c. The pattern: lifespan, `app.state`, a dependency"),
    ),
    "06.second-serve": Mistake(
        "On a second make_app(upstream), as tests and reloads do, GET /status raised {error}.",
        "Make the client inside the lifespan (`async with httpx.AsyncClient(...) as client:`): a "
        "module-level client closed by the first shutdown stays closed for every later app.",
        Pointer(NB06, "2. Testing the app: run its lifespan"),
    ),
    "06.second-start": Mistake(
        "Served a second time (a new make_app(upstream), as tests and reloads do), the app did not "
        "start: its lifespan raised {error} on the module-level client the first shutdown closed.",
        "Make the client inside the lifespan (`async with httpx.AsyncClient(...) as client:`), not "
        "at module level: each app then gets a client of its own.",
        Pointer(NB06, "2. Testing the app: run its lifespan"),
    ),
    # 07_when_pooled_connections_break: send_with_retry(client, method, url, *, attempts=2)
    "07.error": raised(HINT_SHAPE),
    "07.closed-given": raised(
        "Something in send_with_retry closed the client it was given (client.close(), or a "
        "`with client:` block that ended): leave it open, the caller closes it."
    ),
    "07.closed-client": Mistake(
        "{what} closed the client it was given: the caller owns it.",
        "Leave the client open: no client.close() and no `with client:` in send_with_retry, not "
        "even in `finally:`; the caller closes it.",
    ),
    "07.opened-given": raised(
        "The client you were given is already open: don't write `with client:` in "
        "send_with_retry, just call client.request(method, url)."
    ),
    "07.raise-for-status": raised(
        "A response with any status code is returned as it is: no raise_for_status() here (the "
        "caller decides what a 503 means)."
    ),
    "07.signature": raised(
        "Keep the signature: send_with_retry(client, method, url, *, attempts=2)."
    ),
    "07.wrong-method": Mistake(
        "On {what}, send_with_retry sent {sent}, not {method}.",
        "Send the method you were given: client.request(method, url), not client.get(url).",
    ),
    "07.no-retry": Mistake(
        "On {what}, send_with_retry raised {error}: no retry.",
        "That error on a GET is the stale-connection race: catch httpx.RemoteProtocolError "
        "and httpx.ReadError (its two faces) and send the request once more.",
        Pointer(NB07, "1.5 Fix 2: one retry, for a request that is safe to send twice"),
    ),
    "07.one-try-short": Mistake(
        "On {what}, send_with_retry made 1 try with attempts=2, and {tries} with attempts=3: "
        "one try short.",
        ATTEMPTS + "; range(1, attempts) tries one time fewer.",
    ),
    "07.raised": Mistake("On {what}, send_with_retry raised {error}", HINT_SHAPE),
    "07.not-a-response": Mistake(
        "On {what}, send_with_retry returned {got}, not the httpx.Response.",
        "Return the response itself: `return response`.",
    ),
    "07.unread-stream": Mistake(
        "On {what}, send_with_retry returned a streamed response it never read: its "
        "connection stays taken until someone reads or closes it.",
        "Send with client.request(method, url), which reads the body for you; or read a "
        "streamed response (response.read()) before you return it.",
    ),
    "07.wrong-status": Mistake(
        "On {what}, send_with_retry returned a {got}, where the server answered {status}.",
        "Return the response of the last try, as it is.",
    ),
    "07.own-client": Mistake(
        "On {what}, send_with_retry sent only {tries} of its 2 tries on the given client.",
        "Send every try on the given client; its pool opens a new connection for the retry itself.",
    ),
    "07.pool-emptied": Mistake(
        "On {what}, send_with_retry emptied the client's pool, closing its other connections.",
        "Leave the pool alone (no client._transport.close()): other threads' connections live in "
        "it, and a pool never reuses a connection the server has closed.",
    ),
    "07.extra-tries": Mistake(
        "On {what}, send_with_retry sent {tries} requests, where 2 were enough.",
        "Return as soon as a try gives a response.",
    ),
    "07.retried-response": Mistake(
        "send_with_retry sent GET /status/503 {tries} times: it retried a response.",
        "Return the response at once, any status: retrying a 5xx needs back-off and a budget.",
        Pointer(NB07, "2.1 Where a real retry policy belongs"),
    ),
    "07.post-retried": retried(
        "Retry only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS): the server may have "
        "acted on the POST before the connection closed. Re-raise the error for a POST.",
        Pointer(NB07, "1.5 Fix 2: one retry, for a request that is safe to send twice"),
    ),
    "07.timeout-retried": retried(
        "Don't retry a timeout (the server may still be working on it): catch only "
        "httpx.RemoteProtocolError, httpx.ReadError and httpx.ConnectError, not "
        "httpx.TransportError or httpx.HTTPError.",
        Pointer(NB07, "3.1 A `ReadTimeout` on a pooled connection"),
    ),
    "07.other-error-retried": retried(
        "Retry only the errors of a broken connection: httpx.RemoteProtocolError, httpx.ReadError "
        "and httpx.ConnectError, not httpx.TransportError (this error comes back every try).",
    ),
    "07.put-not-retried": Mistake(
        "On {what}, send_with_retry raised {error} after {tries} try: PUT is idempotent, so it "
        "may be retried.",
        "Retry every idempotent method: GET, HEAD, PUT, DELETE, OPTIONS (sending the "
        "same PUT twice leaves the same result as once).",
    ),
    "07.too-many-tries": Mistake(
        "On {what}, send_with_retry made {tries} tries: more than attempts.", ATTEMPTS + "."
    ),
    "07.too-few-tries": Mistake(
        "On {what}, send_with_retry made {tries} of the 3 tries allowed.",
        "Retry a failed connect too (idempotent methods only), up to `attempts` tries in all.",
        Pointer(NB07, "2. What `retries=` retries"),
    ),
    "07.last-error": retried("After the last try, let the error out: `raise` it."),
    "07.error-swallowed": Mistake(
        "On {what}, send_with_retry {did}: a response of its own, the error caught and dropped.",
        "When the error must go back (no try left, or a request not retried), re-raise it with a "
        "bare `raise` in the except block: a made-up response hides the failure.",
    ),
    "07.one-attempt": retried(
        "`attempts` counts every try, the first included: attempts=1 means no retry.",
    ),
    "07.post-connect-retried": retried(
        "Retry only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS), whatever the "
        "error: check the method first, then the error. Re-raise the error for a POST.",
        Pointer(NB07, "1.5 Fix 2: one retry, for a request that is safe to send twice"),
    ),
    # A list with one item per URL (lessons 01, 02, 05): `_evidence.judge_bodies`.
    "list.none": Mistake(
        "{name} returned None, not a list of {many}.",
        "Return the list of {many} (a `return` is missing?).",
    ),
    "list.not-a-list": Mistake(
        "{name} returned {got}, not a list of {many}.",
        "Return a list with one {type} per URL: {source}.",
    ),
    "list.coroutines": Mistake(
        "{name} returned coroutines, not {many}: a missing await?",
        "Await them: asyncio.gather(*coroutines) runs them all and returns their results.",
    ),
    "list.status-codes": Mistake(
        "{name} returned status codes ({first}...), not the bodies.",
        "Return response.text for each URL, not response.status_code.",
    ),
    "list.responses": Mistake(
        "{name} returned Response objects, not their {many}.", "Return {source} for each URL."
    ),
    "list.odd-items": Mistake(
        "{name} returned {kind} items such as {example}, not {type} {many}.",
        "Return {source} for each URL, as it is.",
    ),
    "list.count": Mistake(
        "{name} returned {count} for {urls} URLs.", "Return exactly one {one} per URL."
    ),
    "list.finishing-order": Mistake(
        "the {many} come in the order the requests finished, not in the order of urls.", "{order}"
    ),
    "list.order": Mistake("the {many} are right but not in the order of urls.", "{order}"),
    "list.wrong-item": Mistake(
        "{one} {index} should be {expected!r}; {name} returned {got!r}.",
        "Return {source} of GET url, for each url in urls.",
    ),
    # 01_the_reopen_error: the predictions quiz
    "01.no-snippet": Mistake(
        "there is no snippet {extra}: the snippets are numbered 1 to {count}.",
        "Use the snippet numbers as keys, e.g. {{1: 'works', 2: ...}}.",
    ),
    "01.prediction-count": Mistake(
        "got {got} predictions for {count} snippets.",
        "Give one prediction per snippet, {count} in all, in snippet order.",
    ),
    "01.no-predictions": Mistake(
        "Not yet: no predictions yet.",
        "Pick an answer in each dropdown, run the `my_predictions = ...` cell, then this one.",
    ),
    "01.predictions-type": Mistake(
        "check_predictions needs a list of {count} answers, not {got}.",
        "Pass the dropdowns' values: [d.value for d in predictions].",
    ),
    "01.dropdowns": Mistake(
        "check_predictions got the dropdowns themselves, not the answers picked in them.",
        "Pass their values: my_predictions = [d.value for d in predictions], as the "
        "`my_predictions` cell does.",
    ),
    "01.unanswered": Mistake(
        "Not yet: no prediction yet for {snippets}.",
        "Pick what you think each snippet does in its dropdown, run the "
        "`my_predictions = ...` cell, then run this check again.",
    ),
    "01.not-a-choice": Mistake(
        "the answer for {snippets} is not one of the choices.",
        "Each answer is 'works' or one of the three messages offered in the dropdowns ("
        '"Cannot open a client instance more than once.", "Cannot reopen a client instance, once '
        'it has been closed.", "Cannot send a request, as the client has been closed."), word for '
        "word; case, punctuation and 'RuntimeError: ' don't matter.",
    ),
    "01.wrong-predictions": Mistake(
        "{right} of {count} right: {snippets} {verb} something else.",
        "Follow the client's state line by line (unopened, opened, closed), or run the "
        "snippets below and compare. Then change those dropdowns and run both cells again.",
        Pointer(NB01, "In short: the errors, by state"),
    ),
    # 01_the_reopen_error: fetch_statuses(client, urls)
    "01.with-client": Mistake(
        "Not yet: {name} works once, then fails the second time with {error}",
        "Remove `with client:` from fetch_statuses: the caller owns the client (it "
        "opens and closes it); fetch_statuses only uses it.",
        Pointer(NB01, "4.1 `with self.client:` in a method"),
    ),
    "01.closed-given-error": Mistake(
        "{name} closed the client it was given: its second call failed with {error}",
        HINT_DONT_CLOSE,
        Pointer(NB01, "2.4 A request after `close()`"),
    ),
    "01.closed-given": Mistake(
        "fetch_statuses closed the client it was given.",
        HINT_DONT_CLOSE,
        Pointer(NB01, "2.4 A request after `close()`"),
    ),
    "01.opened-given": raised(
        "Don't open the client in fetch_statuses (no `with client:`, no client.__enter__()): "
        "the caller made it and opens it; fetch_statuses only uses it.",
        Pointer(NB01, "2.1 `with` inside `with`"),
    ),
    "01.raise-for-status": Mistake(
        "{name} raised httpx.HTTPStatusError on a {status} answer.",
        "Don't call raise_for_status(): a 404 or a 503 is an answer to report; return "
        "its status_code.",
    ),
    "01.other-error": raised(
        "Fix that error: send client.get(url) for each url and return the status codes."
    ),
    "01.wrong-request": Mistake(
        "fetch_statuses (call {call}) sent {odd}, not GET to each of its urls.",
        "Send client.get(url) for each url in urls, as it is.",
    ),
    "01.other-client": Mistake(
        "{saw}; {mine} of them used the client fetch_statuses was given.",
        "Send each request with client.get(url) on the given client: no new client, no httpx.get.",
    ),
    "01.repeats": Mistake(
        "fetch_statuses sent {mine} requests for {total} URLs ({calls} calls): some sent twice.",
        "GET each url once: response = client.get(url), then read its .status_code.",
    ),
    "01.skipped": Mistake(
        "fetch_statuses sent {mine} requests for {total} URLs in {calls} calls: some status codes "
        "were not asked for (saved from an earlier call, or a repeated URL skipped).",
        "GET every url at every call: the answer can change, so only a request tells.",
    ),
    "01.threads": Mistake(
        "{saw}: fetch_statuses sent its requests from {threads}{at_once}, so the pool opened a "
        "connection for each thread.",
        "Send them one after another (threads come in lesson 02): one connection then carries all.",
    ),
    "01.connection-close": Mistake(
        "{saw}, all sent by the client it was given: {closing} of them asked the server to close "
        "the connection (a `Connection: close` header).",
        "Leave that header out: the server then keeps the connection open for the pool to reuse.",
    ),
    "01.unread-stream": Mistake(
        "{saw}, all sent by the client it was given: {unread} streamed responses were closed "
        "before their bodies were read, and such a connection cannot carry another request.",
        "Call response.read() inside `with client.stream(...)`, or just use client.get(url).",
    ),
    "01.unclosed-stream": Mistake(
        "{saw}, all sent by the client it was given: {unclosed} streamed responses were never "
        "closed (nor read), so each kept its connection and the next request needed a new one.",
        "Use client.get(url), which reads the body and gives the connection back; or `with "
        "client.stream('GET', url) as response:` and response.read() inside it.",
    ),
    "01.churn": Mistake(
        "{saw}, all sent one at a time by the client it was given: something closes the connection "
        "after each request.",
        "Send plain client.get(url); leave the client's settings and each response as they are.",
    ),
    # Challenge 1.2: check_links(client, urls), a teammate's link checker (challenge01.py)
    "c1.not-the-function": Mistake(
        "check_linkcheck needs the function check_links, not {got}.",
        "Call check_linkcheck(check_links).",
    ),
    "c1.not-yet": Mistake(
        "Not yet: check_links still raises NotImplementedError.",
        "Run the module's cell as it was given (reload it with %load), then this check.",
    ),
    "c1.closed": Mistake(
        "Not yet: on call {call} of {calls}, check_links raised RuntimeError: {message} That "
        "client is the caller's (the check's), and something in the module closed it.{evidence}",
        "The traceback shows where the closed client was used, not where it was closed. Follow the "
        "client from check_links through every helper it is passed to, and find what closes it.",
        Pointer(NB01, "4.2 A module-level client, closed by one of its users"),
    ),
    "c1.with": Mistake(
        "check_links raised RuntimeError: {message} (call {call} of {calls}).",
        "The module was given an open client: it must not open it (`with client:`) nor close "
        "it. Leave the caller's client to the caller.",
        Pointer(NB01, "4.1 `with self.client:` in a method"),
    ),
    "c1.error": Mistake(
        "check_links raised {error}",
        "Fix that error; the module only needs its lifetime bug fixed.",
    ),
    "c1.left-closed": Mistake(
        "check_links left the caller's client closed (call {call} of {calls}).{evidence}",
        "The client is the caller's: find what in the module closes it, and leave it open.",
        Pointer(NB01, "4.2 A module-level client, closed by one of its users"),
    ),
    "c1.not-a-dict": Mistake(
        "check_links returned {got}, not a dict.",
        "Keep what check_links returns: {{url: 'ok' or 'broken (<status>)'}}.",
    ),
    "c1.extra-links": Mistake(
        "check_links returned links it was not asked about.",
        "Return one entry per url it was given.",
    ),
    "c1.wrong-result": Mistake(
        "for {path} check_links said {got!r}, not {expected!r}.",
        "Keep what each link gets: 'ok' below 400, else 'broken (<status>)'.",
        Pointer(NB01, "Challenge 1.2: the link checker that breaks far from its bug"),
    ),
    "c1.retry-ignored": Mistake(
        "for {path} check_links said {got!r}, not 'ok': its first GET got a 5xx, its retry a "
        "200, and the retry's answer was dropped.",
        "Keep the module's rule: a 5xx is asked once more, and the link gets the retry's "
        "status (status_of returns what retry_once returns).",
        Pointer(NB01, "Challenge 1.2: the link checker that breaks far from its bug"),
    ),
    "c1.order": Mistake(
        "check_links returned the right entries, but not in the order of urls (first {first}, "
        "where urls starts with {start}).",
        "Keep the module's order: one entry per url, in the order of urls (a dict keeps the "
        "order its keys were added in).",
    ),
    "c1.retry": Mistake(
        "the server saw {times} GET of {path}, not {want}: the module's rule is that {what}.",
        "Keep the module's behaviour (its retry of a 5xx); fix only its bug.",
        Pointer(NB01, "Challenge 1.2: the link checker that breaks far from its bug"),
    ),
    "c1.not-on-client": Mistake(
        "{missing} of the {asked} requests of call {call} were not sent on the client check_links "
        "was given (the server saw {opened} TCP connections).",
        "Send every request, retries too, on the caller's client: no new client, no httpx.get().",
        Pointer(NB01, "What an open client keeps: its connection pool"),
    ),
    "c1.connection-close": Mistake(
        "the server saw {opened} new TCP connections in call {call} for {asked} requests on one "
        "client: each asked to close its connection (`Connection: close`).",
        "Leave client.headers as the caller gave it, without `Connection: close`: then one "
        "connection carries all these requests.",
    ),
    "c1.connections": Mistake(
        "the server saw {opened} new TCP connections in call {call} for {asked} requests on "
        "one client: something emptied its pool.",
        "Leave the client's pool alone: one client keeps one connection for all these "
        "requests. There is nothing to forget: a pool never reuses a connection the server "
        "has closed, it notices and opens a new one by itself.",
        Pointer(NB01, "What an open client keeps: its connection pool"),
    ),
    # Challenge 3.2: size_for_service() -> the pool's sizes (challenge03.py)
    "c3.httpx-objects": Mistake(
        "size_for_service returned httpx objects: the check builds the client from plain numbers.",
        C3_DICT + ": two whole numbers and seconds.",
    ),
    "c3.raised": raised("size_for_service takes no arguments and returns a dict of three numbers."),
    "c3.not-a-dict": Mistake("size_for_service returned {got}, not a dict.", C3_DICT + "."),
    "c3.keys": Mistake("size_for_service's dict has {what}{why}.", KEYS),
    "c3.not-whole": Mistake(
        "{key} is {got}, not a whole number of 1 or more.", "Give {key} as an int, e.g. {example}."
    ),
    "c3.bad-timeout": Mistake(
        "pool_timeout is {got}, not seconds above 0.",
        "Give pool_timeout in seconds, as a float, e.g. {example}.",
    ),
    "c3.budget": Mistake(
        "pool_timeout={timeout} is over the {budget} s budget: if the service stalled, a call "
        "would wait {timeout} s for a connection before giving up.",
        "Keep pool_timeout at {budget} s or less. If you chose it to cover the longest wait in the "
        "queue: does a call that waits in the queue longer than the pool timeout really fail?",
        Pointer(NB03, "The pool timeout is not a deadline"),
    ),
    "c3.cap": Mistake(
        "max_connections={connections} lets the pool open more connections than the service "
        "allows ({cap}); this run opened {opened}.",
        "The cap is the service's: max_connections={cap} at most. Calls beyond it queue in the "
        "pool; the pool timeout decides whether they may.",
        Pointer(NB03, "7. Choosing sizes"),
    ),
    "c3.keepalive": Mistake(
        "the server saw {opened} TCP connections for max_connections={connections}: with "
        "max_keepalive_connections={keepalive}, the pool closed connections between calls and "
        "opened new ones.",
        "Keep every connection between calls: max_keepalive_connections equal to max_connections.",
        Pointer(NB03, "An honest note about `max_keepalive_connections`"),
    ),
    "c3.deadline": Mistake(
        "at most {connections} calls in flight: {rounds} rounds of {latency} s = {ideal} s "
        "(measured {elapsed} s), over the {deadline} s deadline.",
        "How many calls must be in flight at once to finish {requests} within {deadline} s? "
        "The service allows {cap}.",
        Pointer(NB03, "2. More workers than connections: requests queue"),
    ),
    "c3.timeouts": Mistake(
        "pool_timeout={timeout}: a waiting call gives up unless a connection comes free within "
        "{timeout} s, and one comes free only every {latency} s (the service's latency); {seen}.",
        "Give a waiting call time to see the next connection come free, with the room the "
        "service's note asks for ({margin} s above {latency} s: at least {least} s), while "
        "staying within the {budget} s budget.",
        Pointer(NB03, "6. `PoolTimeout`: waiting for a connection that never comes"),
    ),
    # Challenge 2.2: fetch_from_hosts(urls, limits), two hosts, a limit for each (challenge02.py)
    "c2.error": raised("Fix that error first."),
    "c2.kept-client": Mistake(
        "in call {call}, {name} raised {error}: call 1 closed a client that call {call} used again "
        "(made at module level, or kept?).",
        "Make the clients inside fetch_from_hosts, one per host with its limit, and close them "
        "before it returns: a client made once, outside, stays closed after the first call.",
        Pointer(NB01, "4.2 A module-level client, closed by one of its users"),
    ),
    "c2.closed": Mistake(
        "{name} raised {error}: a client closed while requests were still being sent on it (the "
        "lab server answers within 0.2 s).",
        "End the thread pools first (their `with`, or shutdown(wait=True)), then close the client.",
        Pointer(NB02, "Closing the client while workers still send"),
    ),
    "c2.grouped": Mistake(
        "the bodies are grouped by host, not in the order of urls.",
        "Return one body per url, in the order of urls, however you split the work by host.",
        Pointer(NB02, "1. The pattern: open once, share, close once"),
    ),
    "c2.over": Mistake(
        "host {name} (limit {limit}) served {peak} of your requests at once (call {call}){seen}.",
        "Cap each host on its own (one number for both slows one or overloads the other): host "
        "{name} allows {limit} at once. Use a client or a semaphore per host, with its limit.",
        Pointer(NB03, "7. Choosing sizes"),
    ),
    "c2.keepalive-cap": Mistake(
        "host {name} (limit {limit}) was serving {peak} of your requests at once (call "
        "{call}), all from one client made with max_keepalive_connections={limit} and {cap}.",
        "max_keepalive_connections only says how many idle connections the pool keeps for later; "
        "max_connections caps how many are open, so how many requests are in flight: "
        "httpx.Limits(max_connections={limit}, max_keepalive_connections={limit}) for host {name}.",
        Pointer(NB03, "1. What `httpx.Limits` controls"),
    ),
    "c2.semaphore-per-call": Mistake(
        "host {name} (limit {limit}) got more than {limit} of your requests at once (call {call}), "
        "and that call made {made} semaphores: one per request?",
        "A semaphore per request caps nothing. Make one per host before the work starts "
        "(threading.Semaphore({limit}) for host {name}) and share it between that host's threads.",
    ),
    "c2.churn": Mistake(
        HOST_SAW + ": it closed each connection after one answer (call {call}).",
        "Your shared client keeps no connection alive: max_keepalive_connections=0 closes each "
        "after its answer. Keep as many alive as the connections you allow.",
        Pointer(NB03, "4. `max_keepalive_connections=0`: a connection per request"),
    ),
    "c2.connection-close": Mistake(
        HOST_SAW
        + " that closed {which} after its answer (call {call}): a `Connection: close` header.",
        HINT_DROP_CONNECTION_CLOSE,
    ),
    "c2.few-keepalive": Mistake(
        HOST_SAW + " that closed some of them after their answer (call {call}).",
        "With max_keepalive_connections={keep}, your shared client keeps fewer alive than the "
        "{peak} it had open at once, and closes the others. Keep as many alive as you allow.",
        Pointer(NB03, "An honest note about `max_keepalive_connections`"),
    ),
    "c2.pool-race": Mistake(
        "{name} raised {error} on a client still open: its full pool closed a connection as it "
        "gave it to a request, to open one to the other host (call {call}).",
        C2_EVICTED,
        Pointer(NB03, "7. Choosing sizes"),
    ),
    "c2.keepalive-expiry": Mistake(
        HOST_SAW + ": keepalive_expiry=0 closed each one as soon as it was idle (call {call}).",
        "keepalive_expiry=0 closes each connection as soon as its answer is read: leave it at "
        "httpx's 5 s (or longer than the gaps between your requests).",
        Pointer(NB03, "5. Keep-alive expiry: idle connections don't live forever"),
    ),
    "c2.closed-early": Mistake(
        HOST_SAW + " (its own, set to keep them alive), yet they closed after their answers "
        "(call {call}).",
        "Something closed each connection after its answer: a streamed response closed before "
        "it is read to its end (a `return` or `break` inside `with client.stream(...)`) takes "
        "its connection with it. Read each response to its end (response.read()), or use "
        "client.get(url), which does.",
    ),
    "c2.evicted": Mistake(
        HOST_SAW + " whose pool closed idle ones to make room (call {call}).",
        C2_EVICTED,
        Pointer(NB03, "7. Choosing sizes"),
    ),
    "c2.connections": Mistake(
        "host {name} saw {opened} TCP connections for {requests} requests, with at most "
        "{peak} in flight at once (call {call}).",
        "A connection is reused only by the client that opened it: share a client between "
        "the requests, don't make one per request (httpx.get() makes one too).",
        Pointer(NB02, "2. Seeing reuse from both sides"),
    ),
    "c2.serial": Mistake(
        "host {name} (limit {limit}) got your {requests} requests one at a time (call {call}).",
        "Send up to {limit} requests at once to host {name}, and to the other host its own number.",
        Pointer(NB03, "7. Choosing sizes"),
    ),
    "c2.open": Mistake(
        "after fetch_from_hosts returned, host {name} still had {still} open (call {call}).",
        "When its workers finish, fetch_from_hosts must close each client it made, once.",
        Pointer(NB02, "1. The pattern: open once, share, close once"),
    ),
    # Challenge 4.2: Fetcher.with_options(**overrides), a facade on the same client (challenge04.py)
    "c4.no-method": Mistake(
        "Not yet: Fetcher has no with_options method.",
        "Add with_options(self, **overrides) to your Fetcher, run its cell, then this check.",
    ),
    "c4.fetcher-error": raised("Fix your Fetcher first (Exercise 4.1)."),
    "c4.error": raised(
        "Fix that error first: with_options(**overrides) returns a new facade on the same "
        "client, which fetches, closes and works in a `with` like any Fetcher."
    ),
    "c4.settings-on-client": raised(
        "The client exists already, so its settings can't change (rule 6): keep the overrides "
        "in the new facade and send them with each of its requests, per request.",
        Pointer(NB04, "Rule 6: a client *and* client settings is a mistake"),
    ),
    "c4.same-fetcher": Mistake(
        "{name} returned the same Fetcher, changed.",
        "Return a new facade: the Fetcher it was called on must keep its own settings (its "
        "other callers count on them).",
    ),
    "c4.not-a-facade": Mistake(
        "{name} returned {got}, with no {missing}: not a facade.",
        "Return a Fetcher-like object: fetch(url), close(), with-support.",
    ),
    "c4.dropped": Mistake(
        "a request from with_options(headers=...).with_options(timeout=...) ({where}) carried "
        "timeout={timeout} but not the parent's {header} header: its overrides were dropped.",
        "Keep the parent's overrides and add your own: `{{**self._options, **overrides}}`.",
    ),
    "c4.merge-order": Mistake(
        "a facade made with_options(headers={{'{header}': '{first}'}}).with_options(headers="
        "{{'{header}': '{later}'}}) sent {header}: {got}: the setting given first won.",
        "A setting given again takes the later value, as a dict merge does: the new overrides "
        "go last (`{{**self._options, **overrides}}`), not first.",
    ),
    "c4.overrides": Mistake(
        "a request from the facade with_options gave ({where}) was sent without {missing}.",
        "Send the overrides with every request of the new facade (and none of the original's).",
        Pointer(NB04, "Rule 6: a client *and* client settings is a mistake"),
    ),
    "c4.leak": Mistake(
        "after with_options(...), the original Fetcher's request ({where}) had the overrides too.",
        "Leave the original Fetcher and the shared client's settings as they were: keep the "
        "overrides in the new facade, for its requests only.",
        Pointer(NB04, "Rule 6: a client *and* client settings is a mistake"),
    ),
    "c4.other-client": Mistake(
        "the Fetcher's client hook saw only {hooked} of the 3 requests; the server saw {opened}.",
        "Send on the original Fetcher's client (its settings, hooks, pool), not a new one.",
        FACADE_OWNERSHIP,
    ),
    "c4.pool": Mistake(
        "the server saw {opened} for 3 requests in a row: the two facades don't share one pool.",
        "Share the client, and so its pool: no new httpx.Client in with_options.",
        FACADE_OWNERSHIP,
    ),
    "c4.owns": Mistake(
        "the new facade's owns_client is {owns}.",
        "It shares a client it did not make: it must not own it, or its close() would close "
        "the client under the original Fetcher.",
        FACADE_OWNERSHIP,
    ),
    "c4.closed-shared": Mistake(
        "after the new facade's close(), the original Fetcher's fetch() raised {error}",
        "Its close() closed the client the original uses; only the Fetcher that made it may.",
        FACADE_CLOSING,
    ),
    "c4.closed-by-with": Mistake(
        "after a `with` on a with_options facade, the original Fetcher's fetch() raised {error}",
        "Only the Fetcher that made the shared client closes it, not the new facade's `with`.",
        FACADE_CLOSING,
    ),
    "c4.unclosed": Mistake(
        "after the original Fetcher's close(), the server still had {still} open.",
        "The client must still be closed, once, by the Fetcher that made it, however many "
        "facades share it.",
        FACADE_CLOSING,
    ),
    "c4.after": Mistake(
        "after the original Fetcher closed its client, the new facade's fetch() {did}.",
        "A facade with a closed client must refuse to work with a RuntimeError (httpx's is fine).",
        Pointer(NB04, "Rule 5: a closed facade says so"),
    ),
    "c4.closed-borrowed": Mistake(
        "closing the two facades closed the caller's client (Fetcher(client) borrowed it).",
        "A borrowed client is the caller's: no facade closes it, not even a with_options one.",
        FACADE_OWNERSHIP,
    ),
    "c4.borrowed-pool": Mistake(
        "with a borrowed client, the server saw {opened} and the client's hook {hooked} of 3.",
        "Every facade sends on the one client it shares.",
        FACADE_OWNERSHIP,
    ),
    # Challenge 5.3: LoopClients, one AsyncClient per event loop (challenge05.py)
    "c5.init-error": raised(
        "LoopClients(**client_kwargs) keeps the settings for the clients it makes; fix that "
        "error first."
    ),
    "c5.error": Mistake("in event loop {run}, {name} raised {error}", "Fix that error first."),
    "c5.bound": Mistake(
        "in event loop {run}, {name} raised {error}: something from an earlier loop (a lock?).",
        "An asyncio.Lock (or Event, Semaphore, Condition, Queue) belongs to the first event loop "
        "that waits on it: don't make one in __init__. Make it per loop, next to that loop's "
        "client, or need none (a plain `def current()` never awaits).",
        Pointer(NB05, "asyncio's own tools belong to a loop too"),
    ),
    "c5.not-a-client": Mistake(
        "current() returned {got}, not an httpx.AsyncClient.",
        "Return the running loop's httpx.AsyncClient.",
    ),
    "c5.same": Mistake(
        "in event loop {run}, {seen}.",
        "Give every call in a loop, even overlapping ones, the client made on its first call.",
        Pointer(NB05, NB05_SHARE),
    ),
    "c5.race": Mistake(
        "in event loop {run}, {at_once} concurrent first current() calls got {made} different "
        "clients (a later one got one of them again): they raced.",
        "current() awaits between finding no client and storing one, so tasks calling meanwhile "
        "each make one: store it before any `await`, or guard both with a per-loop asyncio.Lock.",
        Pointer(NB05, NB05_SHARE),
    ),
    "c5.per-task": Mistake(
        "in event loop {run}, the first {at_once} current() calls, from tasks at the same "
        "time, got {made} different clients: one per task, not one per loop.",
        "Key the cache by the running event loop (asyncio.get_running_loop()), not by task: a "
        "context variable is copied into each task, so each task that sets it gets a client "
        "of its own, and nothing closes them.",
        Pointer(NB05, NB05_SHARE),
    ),
    "c5.one-client": Mistake(
        "in event loop {run}, {name} raised {error}. That client is event loop {prev}'s.",
        "Each loop needs a client of its own, made in it: key your cache by the running loop.",
        Pointer(NB05, NB05_PITFALL),
    ),
    "c5.settings": Mistake(
        "in event loop {run}, current()'s client ignored the settings given to "
        "LoopClients(**client_kwargs): the check's hook heard {heard} of its {requests} requests.",
        "Make every client with the kwargs __init__ got: httpx.AsyncClient(**self._client_kwargs).",
    ),
    "c5.open": Mistake(
        "in event loop {run}, aclose() left the loop's client open.",
        ACLOSE_HERE + "`await client.aclose()` on the client current() gave in this loop.",
        Pointer(NB05, NB05_PITFALL),
    ),
    "c5.not-kept": Mistake(
        "in event loop {run}, current()'s client was gone once the check let go of it, before "
        "aclose(): each `await clients.current().get(url)` would make a client nothing closes.",
        "Your cache holds its clients weakly (a weakref.WeakValueDictionary?): hold them strongly "
        "until their loop's aclose(), or key them weakly by the loop (weakref.WeakKeyDictionary).",
        Pointer(NB05, NB05_SHARE),
    ),
    "c5.connections": Mistake(
        "event loop {run} opened {opened} for {requests} requests one after another.",
        "One client per loop, reused: its pool keeps one connection for them.",
        Pointer(NB05, NB05_SHARE),
    ),
    "c5.open-connections": Mistake(
        "after event loop {run} ended (its aclose() awaited), the server still had {still} open.",
        ACLOSE_HERE + "once the loop is closed, nothing can close its connections any more.",
        Pointer(NB05, NB05_PITFALL),
    ),
    "c5.left": Mistake(
        "after event loop {run} ended, the cache still held its closed client (and its loop).",
        "Let aclose() remove the loop's entry from the cache, or key it so a dead loop's entry "
        "goes by itself (weakref.WeakKeyDictionary).",
        Pointer(NB05, "Challenge 5.3: a client per event loop"),
    ),
    "c5.concurrent": Mistake(
        "two event loops running at the same time, in two threads, {seen}: the check's loops one "
        "after the other never showed it.",
        "Key the cache by the running loop (asyncio.get_running_loop()), not the last loop or a "
        "client still open: two loops in two threads can run at once.",
    ),
    "c5.closed-other": Mistake(
        "two event loops ran at the same time, in two threads: loop 1's aclose() closed loop "
        "2's client too, while loop 2 was still running and using it.",
        "aclose() closes the running loop's client only (pop this loop's entry and close that "
        "one): other loops, in other threads, still use theirs, and each closes its own.",
        Pointer(NB05, "Challenge 5.3: a client per event loop"),
    ),
}

# The words a hint needs from where a mistake was made: how to keep the order of urls.
ORDER = {
    "01": "Build the list in the order of urls: one client.get(url) per url, in turn.",
    "02": "pool.map(fetch, urls) returns results in the order of urls (as_completed does not).",
    "05": "asyncio.gather(...) returns results in the order of its arguments "
    "(asyncio.as_completed does not).",
    "c2": "Return one body per url, in the order of urls (pool.map keeps the order; "
    "as_completed does not).",
}

# Why a function of the wrong kind can't work, by the kind it is (`kernel.wrong-kind`).
KIND_WHY = {
    "async def": "callers call it without `await` (from threads, too): make it a plain `def` "
    "that sends with {client}.",
    "plain def": "callers await it, and it awaits the client: make it `async def`.",
    "async generator": "`yield` makes it give values one by one; make it `async def` and "
    "`return` its result.",
    "generator": "`yield` makes it give values one by one; `return` its result instead.",
}

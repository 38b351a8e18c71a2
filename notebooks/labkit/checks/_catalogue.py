"""The catalogue of mistakes: every ❌ verdict's words, in one place, each under a stable id.

A judge names a mistake and gives its evidence (`flunk("00.other-client", what=..., seen=3)`);
the kernel fills this entry's templates with that evidence and prints them. So rewording a
hint is an edit here, and a test asserts the id, not the sentence. An entry may point into a
notebook (file, section heading): a test holds every pointer against the notebook's real
headings, and the kernel shows it with a repeated mistake, when hints are stepped.

Ids are `<lesson>.<what went wrong>`: `kernel.` for what any check can meet, `00.` .. `07.`
for the lessons' exercises, `c1.` .. `c5.` for the challenges.
"""

from __future__ import annotations

from dataclasses import dataclass

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


HINT_OPENED = (
    "Use the client as it is, without `with client:` or client.close(): the caller "
    "opened it, and the caller closes it."
)
HINT_STREAM = (
    "Read a streamed response before you return it (response.read(), inside "
    "`with client.stream(...)`), or use client.get(), which reads the body for you."
)

NB01 = "01_the_reopen_error.ipynb"

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
    "kernel.stuck": Mistake(
        "{name} did not finish within {limit:g} s.",
        "Something in it waits for what never comes: is every await on something that ends "
        "(a semaphore or lock released, a queue fed, a task that finishes)?",
    ),
    "05.stuck": Mistake(
        "{name} did not finish within {limit:g} s.",
        "Is every request awaited, and is the semaphore always released? `async with "
        "semaphore:` releases it even when a request fails.",
    ),
    "kernel.needs-class": Mistake(
        "{check} needs the class itself, not {got}.",
        "Call {check}({name}): the class, not {name}() or {name}.fetch.",
    ),
    "kernel.unread-stream": Mistake(
        "Your code gave back a streamed response whose body was not read ({error}).",
        HINT_STREAM,
    ),
    "kernel.unread-body": Mistake(
        "{what} returned a streamed response whose body was never read (httpx.ResponseNotRead).",
        HINT_STREAM,
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
    "00.opened-given": Mistake("{name} raised {error}", HINT_OPENED),
    "00.other-client": Mistake(
        "{what} sent its request on another client, not on the one it was given "
        "(the given client sent nothing; the server got {seen}).",
        "Call client.get(url) on the `client` parameter: the caller built and opened it "
        "(httpx.get() and a client of your own are other clients, each with new "
        "connections).",
    ),
    "00.refused": Mistake(
        "{name} raised {error}",
        "Call client.get(url) on the `client` parameter: the caller built and opened it "
        "(httpx.get() and a client of your own are other clients, each with new "
        "connections).",
    ),
    "00.saved-answer": Mistake(
        "{what} returned the right text without sending a request: a saved answer?",
        "Send GET url each time first_request is called.",
    ),
    "00.extra-requests": Mistake(
        "{what} sent {count} for one call.",
        "Send GET url once, and return the text of that one response.",
    ),
    "00.unread-stream": Mistake(
        "{name} raised {error}",
        "Read a streamed body inside its `with client.stream(...)` block "
        "(response.read()), or simply use client.get(url).",
    ),
    "00.json": Mistake(
        "{name} raised {error}", "The body is plain text, not JSON: return response.text."
    ),
    "00.other-error": Mistake(
        "{name} raised {error}", "Use client.get(url), then return the response's .text."
    ),
}

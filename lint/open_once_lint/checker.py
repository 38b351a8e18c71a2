"""The rules: one pass over a module's `ast`, then one small check per rule.

Only what the code says is used: names bound to `httpx` or `httpx2` (aliases included), where a
client is built, where it is used, and where the function that builds it is called from. The
checked code is never imported. A rule fires only when it can see the mistake; when it cannot
tell (a client handed to code in another module, a function called from elsewhere), it stays
silent rather than guess.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

LIBRARIES = frozenset({"httpx", "httpx2"})
CLIENT_CLASSES = frozenset({"Client", "AsyncClient"})
SEND_FUNCTIONS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"}
)
SEND_METHODS = SEND_FUNCTIONS | {"send"}
CLOSING_USES = frozenset({"close", "aclose", "__exit__", "__aexit__"})
READING_USES = frozenset(
    {"read", "aread", "iter_bytes", "aiter_bytes", "iter_text", "aiter_text", "iter_lines",
     "aiter_lines", "iter_raw", "aiter_raw", "close", "aclose"}
)  # fmt: skip

# code: (message naming the fix, notebook section that teaches it)
RULES: dict[str, tuple[str, str]] = {
    "OO101": (
        "client built per call or per request: build one client once (main, lifespan, "
        "__init__) and pass it in",
        "06_one_client_per_application.ipynb#1a.-The-mistake:-a-client-per-request",
    ),
    "OO102": (
        "{name}() builds a new client per call: send with one shared client",
        "02_open_once_share_across_threads.ipynb#1.-The-pattern:-open-once,-share,-close-once",
    ),
    "OO103": (
        "{name} on a client this function did not create closes it for its owner: use it "
        "without `with` or close(), and let its owner close it",
        "01_the_reopen_error.ipynb#4.1-with-self.client:-in-a-method",
    ),
    "OO104": (
        "streamed response never closed: use `with client.stream(...)`, or close it in `finally`",
        "02_open_once_share_across_threads.ipynb"
        "#A-streamed-response-never-closed-holds-its-connection",
    ),
    "OO105": (
        "client as a default argument: default to None and pass the app's one client in",
        "06_one_client_per_application.ipynb"
        "#1b.-The-other-mistake:-a-module-level-client-that-nothing-closes",
    ),
    "OO106": (
        "dependency builds a client per request: build it in the lifespan and hand out "
        "app.state's client",
        "06_one_client_per_application.ipynb#1c.-The-pattern:-lifespan,-app.state,-a-dependency",
    ),
    "OO107": (
        "client never closed, returned or stored (its pool leaks): use `with`, or close it",
        "08_many_clients_and_http2.ipynb#1.2-Dropped-clients-wait-for-the-garbage-collector",
    ),
    "OO108": (
        "client returned from inside its `with`, which closes it: return it without `with` "
        "and let the caller close it",
        "01_the_reopen_error.ipynb#2.4-A-request-after-close()",
    ),
    "OO109": (
        "AsyncClient {name} shared by more than one asyncio.run() (an event loop each; this "
        "one starts another): build it inside the coroutine that asyncio.run() runs",
        "05_async_clients.ipynb#4.-The-pitfall:-one-client,-two-event-loops",
    ),
}

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
# Decorators (their last name) that make a function run once per request, message or task.
HANDLER_DECORATORS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "route", "api_route",
     "websocket", "websocket_route", "tool", "task", "shared_task", "message_handler",
     "callback_query_handler", "message", "callback_query", "on_message", "before_request",
     "after_request", "middleware", "resource", "prompt", "view", "action"}
)  # fmt: skip
# Decorators that make a function run once, or hand its client out.
ONCE_DECORATORS = frozenset(
    {"fixture", "yield_fixture", "contextmanager", "asynccontextmanager", "on_event",
     "command", "group", "callback", "before_serving", "before_first_request", "lifespan",
     "on_startup", "startup", "cached_property", "cache", "lru_cache", "property",
     "setup_class", "main", "entrypoint"}
)  # fmt: skip
ONCE_NAMES = frozenset(
    {"main", "_main", "amain", "async_main", "main_async", "run", "cli", "lifespan",
     "startup", "on_startup", "shutdown", "on_shutdown", "setup", "set_up", "setUp",
     "asyncSetUp", "setUpClass", "setup_class", "setup_method", "setup_module", "init",
     "initialize", "start", "__init__", "__post_init__", "__enter__", "__aenter__", "__new__",
     "create_app", "make_app", "build_app", "connect", "open", "serve", "execute_main"}
)  # fmt: skip
HANDLER_ANNOTATIONS = frozenset({"Request", "HttpRequest", "WebSocket", "Message", "Update"})
FRAMEWORKS = frozenset({"fastapi", "starlette", "litestar"})
DEPENDS = frozenset({"Depends", "Security"})
RUNNERS = frozenset({"run"})  # asyncio.run, anyio.run
# Methods that keep what they are given: an exit stack's, a container's, a registry's.
HAND_OVER_METHODS = frozenset(
    {"enter_context", "enter_async_context", "push", "push_async_exit", "callback",
     "push_async_callback", "register", "append", "add", "setdefault", "set", "put",
     "put_nowait", "extend", "update", "insert"}
)  # fmt: skip
# Functions that keep or close what they are given (a plain function of that name does not).
HAND_OVER_FUNCTIONS = frozenset({"setattr", "closing", "aclosing"})
CLIENT_NAME = re.compile(r"(^|_)(http|https|httpx|async|sync|api|web)?_?client$", re.I)
NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.I)


@dataclass(frozen=True, order=True)
class Finding:
    line: int
    col: int  # 0-based, as in `ast`; printed 1-based
    code: str
    message: str

    def format(self, path: str) -> str:
        return f"{path}:{self.line}:{self.col + 1}: {self.code} {self.message}"


def _last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


# `@bot.command()` runs per chat message; `@click.command()` or `@app.command()` (typer) once.
CHAT_BOTS = frozenset({"bot", "client", "commands", "app_commands", "tree", "dp", "router"})


def _chat_command(decorator: ast.expr) -> bool:
    node = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (
        isinstance(node, ast.Attribute)
        and node.attr in ("command", "hybrid_command", "slash_command")
        and isinstance(node.value, ast.Name)
        and node.value.id in CHAT_BOTS
    )


class _Module:
    """What one pass over a module found, and the questions the rules ask of it."""

    def __init__(self, tree: ast.AST) -> None:
        self.tree = tree
        self.parents: dict[ast.AST, ast.AST] = {}
        self.libraries: set[str] = set()  # names bound to httpx/httpx2
        self.constructors: set[str] = set()  # names bound to Client/AsyncClient
        self.async_constructors: set[str] = set()
        self.send_functions: dict[str, str] = {}  # local name -> httpx function
        self.frameworks = False
        self.request_globals: set[str] = set()  # flask's `g`: it lives for one request
        self.functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        self.by_name: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        self.references: dict[str, list[ast.AST]] = {}  # function name -> where it is named
        self.depends_targets: set[str] = set()
        self.calls: list[ast.Call] = []
        self.withs: list[ast.With | ast.AsyncWith] = []
        named: list[tuple[str, ast.AST]] = []  # where a name is read: a function's uses
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
            if isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    if alias.name in LIBRARIES:
                        self.libraries.add(alias.asname or alias.name)
                    if top in FRAMEWORKS:
                        self.frameworks = True
            elif isinstance(node, ast.ImportFrom) and node.module:
                top = node.module.split(".")[0]
                if node.module == "flask":
                    self.request_globals.update(
                        alias.asname or alias.name for alias in node.names if alias.name == "g"
                    )
                if top in FRAMEWORKS:
                    self.frameworks = True
                if node.module in LIBRARIES:
                    for alias in node.names:
                        local = alias.asname or alias.name
                        if alias.name in CLIENT_CLASSES:
                            self.constructors.add(local)
                            if alias.name == "AsyncClient":
                                self.async_constructors.add(local)
                        elif alias.name in SEND_FUNCTIONS:
                            self.send_functions[local] = alias.name
            elif isinstance(node, FUNCTIONS):
                self.functions.append(node)
                self.by_name.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.Call):
                self.calls.append(node)
                if _last_name(node.func) in DEPENDS:
                    for arg in node.args[:1]:
                        if isinstance(arg, ast.Name):
                            self.depends_targets.add(arg.id)
                for keyword in node.keywords:
                    if keyword.arg == "dependency" and isinstance(keyword.value, ast.Name):
                        self.depends_targets.add(keyword.value.id)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                self.withs.append(node)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                named.append((node.id, node))
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("self", "cls")
            ):
                named.append((node.attr, node))
        for name, node in named:
            if name in self.by_name:
                self.references.setdefault(name, []).append(node)
        self.loop_mains = {
            _last_name(c.args[0]) or ""
            for c in self.calls
            if c.args
            and isinstance(c.func, ast.Attribute)
            and c.func.attr in RUNNERS
            and isinstance(c.func.value, ast.Name)
            and c.func.value.id in ("asyncio", "anyio", "trio")
        }  # a coroutine that asyncio.run() runs is its event loop's main
        self._kinds: dict[ast.AST, str] = {}
        self._hot: set[ast.AST] | None = None

    # --- what an expression is ---------------------------------------------------------
    def constructor(self, node: ast.AST | None) -> str | None:
        """'Client' or 'AsyncClient' if node builds an httpx client, else None."""
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in CLIENT_CLASSES
            and isinstance(func.value, ast.Name)
            and func.value.id in self.libraries
        ):
            return func.attr
        if isinstance(func, ast.Name) and func.id in self.constructors:
            return "AsyncClient" if func.id in self.async_constructors else "Client"
        return None

    def builds_client(self, node: ast.AST | None) -> ast.Call | None:
        """The constructor call in `node`, also as `x or httpx.Client()` or an if-expression."""
        if self.constructor(node):
            return node  # type: ignore[return-value]
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                if found := self.builds_client(value):
                    return found
        if isinstance(node, ast.IfExp):
            return self.builds_client(node.body) or self.builds_client(node.orelse)
        if isinstance(node, ast.Await):
            return self.builds_client(node.value)
        return None

    def module_send(self, node: ast.Call) -> str | None:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in SEND_FUNCTIONS
            and isinstance(func.value, ast.Name)
            and func.value.id in self.libraries
        ):
            return func.attr
        if isinstance(func, ast.Name) and func.id in self.send_functions:
            return self.send_functions[func.id]
        return None

    def is_client_annotation(self, node: ast.expr | None) -> bool:
        if node is None:
            return False
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return any(f"{lib}.{c}" in node.value for lib in self.libraries for c in CLIENT_CLASSES)
        if isinstance(node, ast.BinOp):
            return self.is_client_annotation(node.left) or self.is_client_annotation(node.right)
        if isinstance(node, ast.Subscript):
            return self.is_client_annotation(node.slice) or (
                isinstance(node.slice, ast.Tuple)
                and any(self.is_client_annotation(e) for e in node.slice.elts)
            )
        if isinstance(node, ast.Tuple):
            return any(self.is_client_annotation(e) for e in node.elts)
        if isinstance(node, ast.Attribute):
            return (
                node.attr in CLIENT_CLASSES
                and isinstance(node.value, ast.Name)
                and node.value.id in self.libraries
            )
        return isinstance(node, ast.Name) and node.id in self.constructors

    # --- where a node is ----------------------------------------------------------------
    def function_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        parent = self.parents.get(node)
        while parent is not None and not isinstance(parent, FUNCTIONS):
            parent = self.parents.get(parent)
        return parent

    def class_of(self, function: ast.AST) -> ast.ClassDef | None:
        parent = self.parents.get(function)
        return parent if isinstance(parent, ast.ClassDef) else None

    def in_loop(self, node: ast.AST, stop: ast.AST | None, per_item: bool = False) -> bool:
        """True if `node` runs once per iteration of a loop or comprehension inside `stop`.
        per_item: not a `for` over a literal tuple or list (one pass per configuration)."""
        child, parent = node, self.parents.get(node)
        while parent is not None and parent is not stop:
            if isinstance(parent, ast.Lambda):
                return self._mapped(parent)  # map(lambda u: httpx.get(u), urls)
            if isinstance(parent, FUNCTIONS + (ast.ClassDef,)):
                return False
            if isinstance(parent, (ast.For, ast.AsyncFor)) and child in parent.body:
                if not (per_item and isinstance(parent.iter, (ast.Tuple, ast.List, ast.Set))):
                    return True
            if isinstance(parent, ast.While) and (child in parent.body or child is parent.test):
                return True
            if isinstance(parent, ast.comprehension):
                comp = self.parents[parent]
                if child is not parent.iter or comp.generators.index(parent) > 0:  # type: ignore[attr-defined]
                    return True
                child, parent = comp, self.parents.get(comp)
                continue
            if isinstance(parent, COMPREHENSIONS):
                return True  # elt, key or value (a generator's first iter is handled above)
            child, parent = parent, self.parents.get(parent)
        return False

    def enclosing_loop(self, node: ast.AST) -> ast.AST | None:
        parent = self.parents.get(node)
        while parent is not None and not isinstance(parent, FUNCTIONS):
            if isinstance(parent, (ast.For, ast.AsyncFor, ast.While) + COMPREHENSIONS):
                return parent
            parent = self.parents.get(parent)
        return None

    def inside(self, node: ast.AST, ancestor: ast.AST) -> bool:
        parent = self.parents.get(node)
        while parent is not None:
            if parent is ancestor:
                return True
            parent = self.parents.get(parent)
        return False

    # --- how often a function runs ------------------------------------------------------
    def kind(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
        """'handler' (per request, message or task), 'once', or 'plain'."""
        if function in self._kinds:
            return self._kinds[function]
        names = {_last_name(d) for d in function.decorator_list}
        owner = self.class_of(function)
        kind = "plain"
        params = function.args.posonlyargs + function.args.args + function.args.kwonlyargs
        if names & HANDLER_DECORATORS or any(_chat_command(d) for d in function.decorator_list):
            kind = "handler"
        elif (
            names & ONCE_DECORATORS
            or (function.name in ONCE_NAMES and not (owner is not None and function.name == "run"))
            or function.name in self.loop_mains
            or "lifespan" in function.name
            or "startup" in function.name
            or function.name.startswith(("test", "main_"))
            or (owner is not None and owner.name.startswith("Test"))
        ):
            kind = "once"
        elif any(
            _last_name(p.annotation) in HANDLER_ANNOTATIONS
            for p in params
            if p.annotation is not None
        ) or any(p.arg == "request" for p in params[:2]):
            kind = "handler"
        self._kinds[function] = kind
        return kind

    def hot(self) -> set[ast.AST]:
        """Functions that run per item or per request: named in a loop, in map-like calls,
        in a handler, or in another hot function (a fixed point over this module)."""
        if self._hot is not None:
            return self._hot
        hot: set[ast.AST] = {f for f in self.functions if self.kind(f) == "handler"}
        changed = True
        while changed:
            changed = False
            for name, refs in self.references.items():
                targets = [f for f in self.by_name[name] if f not in hot and self.kind(f) != "once"]
                if not targets:
                    continue
                for ref in refs:
                    where = self.function_of(ref)
                    if (
                        self.in_loop(ref, where)
                        or self._mapped(ref)
                        or (where is not None and where in hot and where not in targets)
                    ):
                        hot.update(targets)
                        changed = True
                        break
        self._hot = hot
        return hot

    def _mapped(self, ref: ast.AST) -> bool:
        """`pool.map(fetch, urls)`, `executor.map(...)`: a function handed over per item."""
        parent = self.parents.get(ref)
        return (
            isinstance(parent, ast.Call)
            and ref in parent.args
            and _last_name(parent.func) in ("map", "imap", "imap_unordered", "starmap", "amap")
        )

    def run_once_only(
        self,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        seen: frozenset[ast.AST] = frozenset(),
    ) -> bool:
        """Named once in this module, where it runs once (top level, a main)."""
        refs = self.references.get(function.name, [])
        if len(refs) != 1 or function in seen:
            return False  # not called here, or called more than once: a client each time
        for ref in refs:
            where = self.function_of(ref)
            if self.in_loop(ref, where) or self._mapped(ref):
                return False
            if (
                where is not None
                and self.kind(where) != "once"
                and not self.run_once_only(where, seen | {function})
            ):
                return False
        return True


# --- names: where a local is bound and used --------------------------------------------
def _names_in(node: ast.AST, name: str) -> Iterator[ast.Name]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id == name:
            yield sub


def _bound_name(module: _Module, call: ast.Call) -> tuple[str | None, ast.AST | None]:
    """The local name a constructor call is bound to, and the statement that binds it."""
    parent = module.parents.get(call)
    while isinstance(parent, (ast.BoolOp, ast.IfExp, ast.Await)):
        parent = module.parents.get(parent)
    if isinstance(parent, ast.withitem):
        if isinstance(parent.optional_vars, ast.Name):
            return parent.optional_vars.id, module.parents.get(parent)
        return None, module.parents.get(parent)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        target = parent.targets[0]
        if isinstance(target, ast.Name):
            return target.id, parent
    if isinstance(parent, (ast.AnnAssign, ast.NamedExpr)) and isinstance(parent.target, ast.Name):
        return parent.target.id, parent
    return None, parent


def _is_send(node: ast.AST, name: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in SEND_METHODS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == name
    )


def _handed_over(
    module: _Module, use: ast.Name, scope: ast.AST, seen: frozenset[ast.AST] = frozenset()
) -> bool:
    """The local `use` names leaves the function's hands: returned, yielded, stored, closed,
    entered, or given to a constructor, a closer (`closing`), a container or a registry
    (`stack.enter_context`, `clients.append`), or to a function of this module that does one
    of those with it. Given to any other function, it is only used: the caller still owns it."""
    parent = module.parents.get(use)
    if isinstance(parent, ast.Attribute):
        return parent.attr in CLOSING_USES or parent.attr in ("__enter__", "__aenter__")
    node: ast.AST = use
    while parent is not None and parent is not scope:
        if isinstance(parent, (ast.Return, ast.Yield, ast.YieldFrom, ast.withitem)):
            return True
        if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node is parent.value:
            return True  # stored somewhere, or renamed: followed no further
        if isinstance(parent, ast.Call):
            if node is parent.func:
                return False
            callee = _last_name(parent.func) or ""
            if callee[:1].isupper():
                return True  # a constructor: the object keeps it
            if isinstance(parent.func, ast.Attribute):  # contextlib.closing(), stack.push()
                return callee in HAND_OVER_METHODS | HAND_OVER_FUNCTIONS
            return callee in HAND_OVER_FUNCTIONS or _keeps_argument(
                module, parent, node, seen | {scope}
            )
        if isinstance(parent, (ast.Dict, ast.List, ast.Tuple, ast.Set, ast.keyword, ast.Starred)):
            node, parent = parent, module.parents.get(parent)
            continue
        return False
    return False


def _keeps_argument(
    module: _Module, call: ast.Call, arg: ast.AST, seen: frozenset[ast.AST]
) -> bool:
    """`helper(client)` where helper, a function of this module, keeps or closes the client
    (the parameter it lands in is handed over in there)."""
    if not isinstance(call.func, ast.Name):
        return False
    for callee in module.by_name.get(call.func.id, []):
        if callee in seen:
            continue
        params = callee.args.posonlyargs + callee.args.args
        if isinstance(arg, ast.keyword):
            name = arg.arg
        elif arg in call.args and call.args.index(arg) < len(params):
            name = params[call.args.index(arg)].arg
        else:
            continue
        uses = [n for n in _names_in(callee, name or "") if isinstance(n.ctx, ast.Load)]
        if any(_handed_over(module, u, callee, seen) for u in uses):
            return True
        if _closes_something_named(callee, name or ""):
            return True
    return False


def _globals_declared(function: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            found.update(node.names)
    return found


# --- the rules ---------------------------------------------------------------------------
def _per_call(module: _Module, call: ast.Call) -> Iterator[Finding]:
    """OO101 (client per call, sent with) and OO107 (never closed); OO108 (returned closed)."""
    function = module.function_of(call)
    scope: ast.AST = function if function is not None else module.tree
    name, binder = _bound_name(module, call)
    parent = module.parents.get(call)
    # httpx.Client().get(...): sent with, and never closed.
    inline_send = (
        isinstance(parent, ast.Attribute)
        and parent.attr not in CLOSING_USES | {"__enter__", "__aenter__"}
        and isinstance(module.parents.get(parent), ast.Call)
    )
    sends: list[ast.AST] = []
    if name is not None:
        # Where this client, not another of the same name, is used: its `with` block, else the
        # loop it is built in, else the function (or module).
        region: ast.AST = scope
        if isinstance(binder, (ast.With, ast.AsyncWith)):
            region = binder
        elif (loop := module.enclosing_loop(call)) is not None:
            region = loop
        sends = [n for n in ast.walk(region) if _is_send(n, name)]
    elif inline_send:
        sends = [parent]  # type: ignore[list-item]
    in_with = isinstance(binder, (ast.With, ast.AsyncWith))
    leaks = list(_leaks(module, call, function, name, binder, inline_send))
    # Never closed (OO107) and built per call (OO101) are two mistakes, both reported: `with`
    # fixes the leak only, and `--select OO101` must still find every client per request.
    yield from leaks
    if sends:
        yield from _oo101(module, call, function, name, sends, in_with)
    if in_with and name is not None and function is not None:
        yield from _oo108(module, function, binder, name)  # type: ignore[arg-type]


def _leaks(
    module: _Module,
    call: ast.Call,
    function: ast.FunctionDef | ast.AsyncFunctionDef | None,
    name: str | None,
    binder: ast.AST | None,
    inline_send: bool,
) -> Iterator[Finding]:
    """OO107: built, used, and then neither closed, returned nor stored."""
    in_with = isinstance(binder, (ast.With, ast.AsyncWith))
    if inline_send and not in_with:
        yield _finding(call, "OO107")
        return
    if function is None or in_with:
        return
    if name is None or name in _globals_declared(function):
        return
    uses = [n for n in _names_in(function, name) if isinstance(n.ctx, ast.Load)]
    if not uses or any(_handed_over(module, u, function) for u in uses):
        return
    if any(
        isinstance(n, ast.Attribute) and n.attr in CLOSING_USES
        for n in ast.walk(function)
        if isinstance(n, ast.Attribute)
    ) and _closes_something_named(function, name):
        return
    yield _finding(call, "OO107")


def _closes_something_named(function: ast.AST, name: str) -> bool:
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in CLOSING_USES
            and isinstance(node.value, ast.Name)
            and node.value.id == name
        ):
            return True
    return False


def _oo101(
    module: _Module,
    call: ast.Call,
    function: ast.FunctionDef | ast.AsyncFunctionDef | None,
    name: str | None,
    sends: list[ast.AST],
    in_with: bool,
) -> Iterator[Finding]:
    if module.in_loop(call, function, per_item=True):
        loop = module.enclosing_loop(call)
        if isinstance(loop, ast.While) or not any(module.in_loop(send, loop) for send in sends):
            yield _finding(call, "OO101")
        return  # else a client per host or per setting, each sending many requests in a loop
    if function is None or isinstance(module.parents.get(call), (ast.BoolOp, ast.IfExp)):
        return  # `client or httpx.Client()`: the caller can pass its one client in
    if name is not None:
        # Handed out or kept: a factory, a context manager, a lazy attribute.
        for use in _names_in(function, name):
            if isinstance(use.ctx, ast.Load):
                parent = module.parents.get(use)
                if isinstance(parent, (ast.Return, ast.Yield)):
                    return
                if isinstance(parent, (ast.Assign, ast.AnnAssign)) and use is parent.value:
                    return
    kind = module.kind(function)
    if kind == "once" or _is_generator(function):
        return
    if kind == "handler":
        yield _finding(call, "OO101")
        return
    if any(module.in_loop(s, function) or _gathered(module, s, function) for s in sends):
        return  # a session: many requests with one client, in this call
    if function in module.hot():
        yield _finding(call, "OO101")
        return
    # A helper that sends a request or two with a client of its own, each time it is called.
    if module.run_once_only(function):
        return
    yield _finding(call, "OO101")


def _gathered(module: _Module, node: ast.AST, function: ast.AST) -> bool:
    """A send inside a nested function or a lambda (a per-item worker, a callback a timer
    calls many times) counts as many requests."""
    parent = module.parents.get(node)
    while parent is not None and parent is not function:
        if isinstance(parent, FUNCTIONS + (ast.Lambda,)):
            return True
        parent = module.parents.get(parent)
    return False


def _is_generator(function: ast.AST) -> bool:
    for node in _own_nodes(function):
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
    return False


def _own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's own body, not those of functions nested in it."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, FUNCTIONS + (ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _oo108(
    module: _Module,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    with_node: ast.With | ast.AsyncWith,
    name: str,
) -> Iterator[Finding]:
    for node in _own_nodes(function):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        value = node.value
        returned = (isinstance(value, ast.Name) and value.id == name) or (
            isinstance(value, ast.Tuple)
            and any(isinstance(e, ast.Name) and e.id == name for e in value.elts)
        )
        if not returned:
            continue
        if module.inside(node, with_node) or node.lineno > (with_node.end_lineno or 0):
            if not module.inside(node, with_node) and _rebound_after(function, name, with_node):
                continue
            yield _finding(node, "OO108")


def _rebound_after(function: ast.AST, name: str, with_node: ast.stmt) -> bool:
    end = with_node.end_lineno or 0
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
            if node.lineno > end:
                return True
    return False


def _module_sends(module: _Module, call: ast.Call, func_name: str) -> Iterator[Finding]:
    """OO102: httpx.get() and friends, where they run per item or per request."""
    function = module.function_of(call)
    if module.in_loop(call, function) or (function is not None and function in module.hot()):
        message = RULES["OO102"][0].format(name=ast.unparse(call.func))  # as the code spells it
        yield Finding(call.lineno, call.col_offset, "OO102", message)


def _client_attributes(module: _Module, cls: ast.ClassDef) -> set[str]:
    """self.<name> attributes of a class that hold an httpx client (built or annotated)."""
    found: set[str] = set()
    client_params: set[str] = set()
    for node in ast.walk(cls):
        if isinstance(node, FUNCTIONS):
            for p in node.args.args + node.args.kwonlyargs:
                if module.is_client_annotation(p.annotation) or (
                    p.annotation is None and CLIENT_NAME.search(p.arg)
                ):
                    client_params.add(p.arg)  # typed as a client, or named like one
        if isinstance(node, ast.AnnAssign) and module.is_client_annotation(node.annotation):
            target = node.target
            if isinstance(target, ast.Name) and module.parents.get(node) is cls:
                found.add(target.id)
            if isinstance(target, ast.Attribute):
                found.add(target.attr)
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign):
            value_is_client = module.builds_client(node.value) is not None or (
                isinstance(node.value, ast.Name) and node.value.id in client_params
            )
            if value_is_client:
                for bound in node.targets:
                    if isinstance(bound, ast.Attribute):
                        found.add(bound.attr)
                    elif isinstance(bound, ast.Name) and module.parents.get(node) is cls:
                        found.add(bound.id)  # a class attribute: one client for every instance
    return found


def _module_clients(module: _Module) -> set[str]:
    """Names a module binds to a client at its top level."""
    return {
        t.id
        for node in getattr(module.tree, "body", [])
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and module.builds_client(node.value)
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name)
    }


def _borrowed_withs(module: _Module) -> Iterator[Finding]:
    """OO103: `with` on a client the function did not build."""
    module_clients = _module_clients(module)
    attributes: dict[ast.ClassDef, set[str]] = {}
    for with_node in module.withs:
        function = module.function_of(with_node)
        if function is None or function.name in ("__enter__", "__aenter__", "__exit__"):
            continue
        for item in with_node.items:
            expr = item.context_expr
            if isinstance(expr, ast.Attribute):
                if _borrowed_attribute(module, function, expr, attributes):
                    yield _oo103(expr, "`with`")
            elif isinstance(expr, ast.Name):
                if _assigned_in(function, expr.id):
                    # `client = request.app.state.client`: a local name for a borrowed client.
                    if _bound_to_borrowed(module, function, expr.id, attributes):
                        yield _oo103(expr, "`with`")
                    continue
                params = {
                    p.arg: p
                    for p in function.args.posonlyargs
                    + function.args.args
                    + function.args.kwonlyargs
                }
                param = params.get(expr.id)
                if param is not None:
                    if module.is_client_annotation(param.annotation) or (
                        param.annotation is None and CLIENT_NAME.search(param.arg)
                    ):
                        yield _oo103(expr, "`with`")
                elif expr.id in module_clients:
                    yield _oo103(expr, "`with`")


def _oo103(node: ast.AST, name: str) -> Finding:
    message = RULES["OO103"][0].format(name=name)
    return Finding(node.lineno, node.col_offset, "OO103", message)  # type: ignore[attr-defined]


# Functions whose job is to close what the program keeps: shutdown hooks, close() methods.
CLOSER_NAME = re.compile(
    r"close|shutdown|stop|clean|tear_?down|dispose|finali[sz]e|terminate|disconnect|exit|"
    r"__del__|release|destroy|quit|reset|lifespan",
    re.I,
)


def _borrowed_closes(module: _Module) -> Iterator[Finding]:
    """OO103 too: `client.close()` / `await client.aclose()` on a client the function did not
    build, in a function that also uses it (a dependency that yields the app's client and closes
    it in `finally`, a route, a method): the first call closes it for every later one. Left
    alone where closing is the function's job: lifespans and other run-once functions (main,
    fixtures), shutdown hooks, `close()`/`__exit__`/`__del__` and other closers, atexit."""
    module_clients = _module_clients(module)
    attributes: dict[ast.ClassDef, set[str]] = {}
    for call in module.calls:
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr in CLOSING_USES):
            continue
        function = module.function_of(call)
        if (
            function is None
            or module.kind(function) == "once"
            or CLOSER_NAME.search(function.name)
            or any(_last_name(d) == "register" for d in function.decorator_list)
        ):
            continue
        target = func.value
        if _borrowed_target(module, function, target, module_clients, attributes) and _used_besides(
            module, function, target
        ):
            yield _oo103(call, f"`{ast.unparse(func)}()`")


def _borrowed_target(
    module: _Module,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    target: ast.expr,
    module_clients: set[str],
    attributes: dict[ast.ClassDef, set[str]],
) -> bool:
    if isinstance(target, ast.Attribute):
        root: ast.expr = target.value
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in ("self", "cls"):
            return _borrowed_attribute(module, function, target, attributes)
        return (
            isinstance(root, ast.Name)
            and root.id not in module.libraries
            and bool(CLIENT_NAME.search(target.attr))
            and not _assigns_attribute(function, target.attr)
        )
    if not isinstance(target, ast.Name):
        return False
    if _assigned_in(function, target.id):
        return _bound_to_borrowed(module, function, target.id, attributes)
    params = {
        p.arg: p for p in function.args.posonlyargs + function.args.args + function.args.kwonlyargs
    }
    param = params.get(target.id)
    if param is None:
        return target.id in module_clients
    if not (
        module.is_client_annotation(param.annotation)
        or (param.annotation is None and CLIENT_NAME.search(param.arg))
    ):
        return False
    # `consume(httpx.Client())` somewhere in the module: the caller hands its client over.
    return not any(
        isinstance(call.func, ast.Name)
        and call.func.id == function.name
        and any(
            module.builds_client(a.value if isinstance(a, ast.keyword) else a)
            for a in [*call.args, *call.keywords]
        )
        for call in module.calls
    )


def _used_besides(module: _Module, function: ast.AST, target: ast.expr) -> bool:
    """The function uses the client for more than closing it (a pure closer only closes)."""
    shape = ast.dump(target)
    for node in ast.walk(function):
        if node is target or not isinstance(node, (ast.Name, ast.Attribute)):
            continue
        if not isinstance(node.ctx, ast.Load) or ast.dump(node) != shape:
            continue
        parent = module.parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.attr in CLOSING_USES | {"is_closed"}:
            continue
        return True
    return False


def _borrowed_attribute(
    module: _Module,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    expr: ast.Attribute,
    attributes: dict[ast.ClassDef, set[str]],
) -> bool:
    """`self.client` (a client attribute of this class), or `request.app.state.client`,
    `deps.http_client`: an attribute chain ending in a client's name, that this function does
    not set. Lifespans and other run-once functions may close what the app keeps."""
    root: ast.expr = expr.value
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name) or root.id in module.libraries:
        return False
    if _assigns_attribute(function, expr.attr):
        return False
    cls = module.class_of(function)
    if root.id in ("self", "cls") and isinstance(expr.value, ast.Name):
        if cls is None:
            return False
        if cls not in attributes:
            attributes[cls] = _client_attributes(module, cls)
        return expr.attr in attributes[cls]
    return (
        bool(CLIENT_NAME.search(expr.attr))
        and module.kind(function) != "once"
        and not _is_generator(function)
    )


def _bound_to_borrowed(
    module: _Module,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    name: str,
    attributes: dict[ast.ClassDef, set[str]],
) -> bool:
    """Every binding of `name` in the function is `name = <a borrowed client attribute>`."""
    stores = [
        n
        for n in ast.walk(function)
        if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)
    ]
    for store in stores:
        parent = module.parents.get(store)
        if not (
            isinstance(parent, (ast.Assign, ast.AnnAssign))
            and isinstance(parent.value, ast.Attribute)
            and (parent.target if isinstance(parent, ast.AnnAssign) else parent.targets[0]) is store
            and _borrowed_attribute(module, function, parent.value, attributes)
        ):
            return False
    return bool(stores)


def _assigned_in(function: ast.AST, name: str) -> bool:
    return any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)
        for n in ast.walk(function)
    )


def _assigns_attribute(function: ast.AST, attr: str) -> bool:
    return any(
        isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.ctx, ast.Store)
        for n in ast.walk(function)
    )


def _looks_like_client(module: _Module, node: ast.expr, function: ast.AST | None) -> bool:
    if isinstance(node, ast.Name):
        if node.id in module.libraries:
            return True
        if CLIENT_NAME.search(node.id):
            return True
        scope = function if function is not None else module.tree
        for sub in ast.walk(scope):
            if isinstance(sub, ast.Assign) and module.builds_client(sub.value):
                if any(isinstance(t, ast.Name) and t.id == node.id for t in sub.targets):
                    return True
            if isinstance(sub, ast.withitem) and module.builds_client(sub.context_expr):
                if isinstance(sub.optional_vars, ast.Name) and sub.optional_vars.id == node.id:
                    return True
        return False
    if isinstance(node, ast.Attribute):
        return bool(CLIENT_NAME.search(node.attr))
    return module.builds_client(node) is not None


def _streams(module: _Module, call: ast.Call) -> Iterator[Finding]:
    """OO104: client.stream(...) outside `with`; send(..., stream=True) never closed."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return
    function = module.function_of(call)
    parent = module.parents.get(call)
    if func.attr == "stream":
        # httpx's signature, stream(method, url, ...): tells it from other libraries' stream()
        method = call.args[0] if call.args else None
        is_http = (
            (isinstance(method, ast.Constant) and isinstance(method.value, str))
            or len(call.args) >= 2
            or any(k.arg in ("method", "url") for k in call.keywords)
        )
        if not (is_http and _looks_like_client(module, func.value, function)):
            return
        if isinstance(parent, (ast.withitem, ast.Return, ast.Yield)) or (
            isinstance(parent, ast.Call) and call in parent.args
        ):
            return
        if isinstance(parent, ast.Assign):
            name = parent.targets[0]
            if isinstance(name, ast.Name) and function is not None:
                if any(
                    _handed_over(module, u, function) or _entered(module, u)
                    for u in _names_in(function, name.id)
                    if isinstance(u.ctx, ast.Load)
                ):
                    return
        yield _finding(call, "OO104")
        return
    if func.attr != "send" or not any(
        k.arg == "stream" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in call.keywords
    ):
        return
    while isinstance(parent, ast.Await):
        call_or_await: ast.AST = parent
        parent = module.parents.get(call_or_await)
    if isinstance(parent, (ast.withitem, ast.Return, ast.Yield)) or isinstance(parent, ast.Call):
        return
    if isinstance(parent, (ast.Assign, ast.AnnAssign)):
        target = parent.targets[0] if isinstance(parent, ast.Assign) else parent.target
        if not isinstance(target, ast.Name):
            return  # stored: whoever holds it closes it
        scope = function if function is not None else module.tree
        for use in _names_in(scope, target.id):
            if not isinstance(use.ctx, ast.Load):
                continue
            up = module.parents.get(use)
            if isinstance(up, ast.Attribute) and up.attr in READING_USES:
                return
            if _handed_over(module, use, scope) or _entered(module, use):
                return
            if isinstance(up, ast.Call) and use in up.args:
                return  # given to a helper that reads or closes it
    yield _finding(call, "OO104")


def _entered(module: _Module, use: ast.Name) -> bool:
    parent = module.parents.get(use)
    return isinstance(parent, ast.withitem)


def _defaults(module: _Module) -> Iterator[Finding]:
    """OO105: a client as a default argument value (or a dataclass field's default)."""
    for function in module.functions:
        for default in function.args.defaults + function.args.kw_defaults:
            if default is not None and (call := module.builds_client(default)):
                yield _finding(call, "OO105")
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ClassDef) and any(
            _last_name(d) == "dataclass" for d in node.decorator_list
        ):
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign) and (call := module.builds_client(stmt.value)):
                    yield _finding(call, "OO105")


def _dependencies(module: _Module) -> Iterator[tuple[ast.Call, Finding]]:
    """OO106: a dependency or request hook that builds a client per request."""
    for function in module.functions:
        names = {_last_name(d) for d in function.decorator_list}
        if names & (ONCE_DECORATORS - {"callback"}) or "lifespan" in function.name:
            continue
        hook = bool(names & {"before_request", "before_app_request"}) or _keeps_on_g(
            module, function
        )
        # A bare generator that yields a new client is a web framework's dependency (a
        # context manager or a fixture would carry its decorator).
        is_dependency = function.name in module.depends_targets or (
            _is_generator(function) and module.class_of(function) is None
        )
        if not (hook or is_dependency):
            continue
        for node in _own_nodes(function):
            call = module.builds_client(node) if isinstance(node, ast.Call) else None
            if call is None or call is not node:
                continue
            name, binder = _bound_name(module, call)
            handed = hook or _yields_or_returns(function, name, call)
            if handed and not (
                isinstance(binder, (ast.With, ast.AsyncWith)) and _returns_name(function, name)
            ):
                yield call, _finding(call, "OO106")


def _keeps_on_g(module: _Module, function: ast.AST) -> bool:
    """`g.client = httpx.Client()`: Flask's g lasts one request, so does that client."""
    return any(
        isinstance(node, ast.Assign)
        and module.builds_client(node.value) is not None
        and any(
            isinstance(t, ast.Attribute)
            and isinstance(t.value, ast.Name)
            and t.value.id in module.request_globals
            for t in node.targets
        )
        for node in _own_nodes(function)
    )


def _yields_or_returns(function: ast.AST, name: str | None, call: ast.AST) -> bool:
    for node in _own_nodes(function):
        if isinstance(node, (ast.Yield, ast.Return)) and node.value is not None:
            if node.value is call:
                return True
            if name is not None and isinstance(node.value, ast.Name) and node.value.id == name:
                return True
    return False


def _returns_name(function: ast.AST, name: str | None) -> bool:
    return name is not None and any(
        isinstance(n, ast.Return) and isinstance(n.value, ast.Name) and n.value.id == name
        for n in _own_nodes(function)
    )


def _free_names(function: ast.AST) -> set[str]:
    """Names a function reads but does not bind itself (closure or module variables)."""
    bound = {a.arg for a in ast.walk(function) if isinstance(a, ast.arg)}
    loaded: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
    return loaded - bound


def _bound_names(function: ast.AST) -> set[str]:
    bound = {a.arg for a in ast.walk(function) if isinstance(a, ast.arg)}
    bound.update(
        n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    )
    return bound


def _loops_shared(module: _Module) -> Iterator[Finding]:
    """OO109: an AsyncClient made outside the coroutines that asyncio.run() runs more than once
    (a module-level client, or one a function hands to the coroutines it runs)."""
    runs = [
        c
        for c in module.calls
        if isinstance(c.func, ast.Attribute)
        and c.func.attr in RUNNERS
        and isinstance(c.func.value, ast.Name)
        and c.func.value.id in ("asyncio", "anyio", "trio")
        and c.args
    ]
    if not runs:
        return
    module_clients: dict[str, ast.AST] = {}
    for stmt in getattr(module.tree, "body", []):
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            call = module.builds_client(stmt.value)
            if call is not None and module.constructor(call) == "AsyncClient":
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        module_clients[t.id] = call
    free = {f: _free_names(f) for f in module.functions}

    def reaches(function: ast.AST, seen: set[ast.AST]) -> set[str]:
        """Free names of a function and of the module functions it calls."""
        names = set(free.get(function, set()))  # type: ignore[call-overload]
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                for callee in module.by_name.get(node.func.id, []):
                    if callee not in seen and module.function_of(callee) is None:
                        seen.add(callee)
                        names |= reaches(callee, seen)
        return names

    counts: dict[ast.AST, int] = {}
    reported: set[ast.AST] = set()
    for run in runs:
        target = _last_name(run.args[0]) if isinstance(run.args[0], (ast.Call, ast.Name)) else None
        where = module.function_of(run)
        many = module.in_loop(run, where) or (where is not None and module.kind(where) != "once")
        for function in module.by_name.get(target or "", []):
            outer = module.function_of(function)
            if outer is not None and not module.inside(run, outer):
                continue  # another function's nested coroutine of the same name
            free_names = reaches(function, {function})
            outer_bound = _bound_names(outer) if outer is not None else set()
            sites: list[tuple[ast.AST, str]] = [
                (module_clients[n], n)
                for n in free_names
                if n in module_clients and n not in outer_bound
            ]
            if outer is not None:
                for p in outer.args.posonlyargs + outer.args.args + outer.args.kwonlyargs:
                    if p.arg in free_names and _is_async_annotation(module, p.annotation):
                        sites.append((p, p.arg))
                for node in ast.walk(outer):
                    if (
                        isinstance(node, ast.Assign)
                        and module.constructor(module.builds_client(node.value)) == "AsyncClient"
                    ):
                        sites.extend(
                            (node.value, t.id)
                            for t in node.targets
                            if isinstance(t, ast.Name) and t.id in free_names
                        )
            for site, name in sites:
                counts[site] = counts.get(site, 0) + (2 if many else 1)
                if counts[site] >= 2 and site not in reported:
                    reported.add(site)  # found where the second event loop starts
                    message = RULES["OO109"][0].format(name=f"`{name}`")
                    yield Finding(run.lineno, run.col_offset, "OO109", message)


def _is_async_annotation(module: _Module, node: ast.expr | None) -> bool:
    if not module.is_client_annotation(node):
        return False
    text = ast.unparse(node) if node is not None else ""
    return "AsyncClient" in text or any(c in text for c in module.async_constructors)


def _objects_per_request(module: _Module) -> Iterator[Finding]:
    """OO101 through `__init__`: a class that builds its client in `__init__` is fine while its
    object lives long; made per request or per item, so is its client."""
    hot = module.hot()
    for node in ast.walk(module.tree):
        if not isinstance(node, ast.ClassDef):
            continue
        init = next(
            (f for f in node.body if isinstance(f, FUNCTIONS) and f.name == "__init__"), None
        )
        if init is None:
            continue
        built = [
            call
            for stmt in ast.walk(init)
            if isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Attribute) for t in stmt.targets)
            and (call := module.builds_client(stmt.value)) is not None
        ]
        if not built:
            continue
        for call in module.calls:
            if not (isinstance(call.func, ast.Name) and call.func.id == node.name):
                continue
            where = module.function_of(call)
            if module.in_loop(call, where, per_item=True) or (where is not None and where in hot):
                yield from (_finding(c, "OO101") for c in built)
                break


def _finding(node: ast.AST, code: str) -> Finding:
    return Finding(node.lineno, node.col_offset, code, RULES[code][0])  # type: ignore[attr-defined]


def _imports_a_library(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(alias.name in LIBRARIES for alias in node.names):
                return True
        elif isinstance(node, ast.ImportFrom) and node.module in LIBRARIES:
            return True
    return False


def check_tree(tree: ast.AST) -> list[Finding]:
    """Every finding in a parsed module, sorted by place (no `# noqa` applied)."""
    if not _imports_a_library(tree):
        return []
    module = _Module(tree)
    findings: set[Finding] = set()
    dependency_calls: set[ast.Call] = set()
    for call, finding in _dependencies(module):
        dependency_calls.add(call)
        findings.add(finding)
    for call in module.calls:
        if module.constructor(call) and call not in dependency_calls and _first_built(module, call):
            parent = module.parents.get(call)
            if not isinstance(parent, ast.arguments) and not _is_default(module, call):
                findings.update(_per_call(module, call))
        elif (func_name := module.module_send(call)) is not None:
            findings.update(_module_sends(module, call, func_name))
            if func_name == "stream":
                findings.update(_streams(module, call))
        else:
            findings.update(_streams(module, call))
    findings.update(_objects_per_request(module))
    findings.update(_borrowed_withs(module))
    findings.update(_borrowed_closes(module))
    findings.update(_defaults(module))
    findings.update(_loops_shared(module))
    return sorted(findings)


def _first_built(module: _Module, call: ast.Call) -> bool:
    """For `A() if x else B()` or `x or A()`, only the first constructor stands for both."""
    top: ast.AST = call
    while isinstance(module.parents.get(top), (ast.BoolOp, ast.IfExp, ast.Await)):
        top = module.parents[top]
    return module.builds_client(top) is call


def _is_default(module: _Module, call: ast.Call) -> bool:
    parent = module.parents.get(call)
    if isinstance(parent, ast.arguments):
        return True
    return isinstance(parent, ast.AnnAssign) and isinstance(
        module.parents.get(parent), ast.ClassDef
    )


def parse(source: str, filename: str = "<string>") -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes and the like are not ours to report
        return ast.parse(source, filename)


def _noqa_filter(findings: Iterable[Finding], lines: list[str]) -> list[Finding]:
    kept = []
    for finding in findings:
        text = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        match = NOQA.search(text)
        if match:
            codes = match.group("codes")
            if codes is None or finding.code in re.split(r"[,\s]+", codes.upper()):
                continue
        kept.append(finding)
    return kept


def check_source(source: str, filename: str = "<string>") -> list[Finding]:
    """Findings in Python source, `# noqa` applied. Raises SyntaxError if it does not parse."""
    if "httpx" not in source:  # no library, no finding: skip the parse
        return []
    return _noqa_filter(check_tree(parse(source, filename)), source.splitlines())


_MAGIC = re.compile(r"^\s*[%!?]|^\s*\w+\s*=\s*[%!]")


def notebook_cells(text: str) -> list[tuple[int, str]]:
    """(1-based cell number, Python source) of each code cell; IPython magics blanked out."""
    cells = []
    for number, cell in enumerate(json.loads(text).get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if source.lstrip().startswith("%%"):
            continue
        lines = ["" if _MAGIC.match(line) else line for line in source.splitlines()]
        cells.append((number, "\n".join(lines)))
    return cells


def check_notebook(text: str, filename: str = "<notebook>") -> list[tuple[int, Finding]]:
    """(cell number, finding) for the code cells of a notebook, read as one module."""
    cells = notebook_cells(text)
    if not any("httpx" in source for _, source in cells):
        return []
    starts: list[tuple[int, int]] = []
    lines: list[str] = []
    for number, source in cells:
        starts.append((len(lines) + 1, number))
        lines.extend(source.splitlines() or [""])
        lines.append("")
    try:
        findings = check_source("\n".join(lines), filename)
    except SyntaxError:  # one cell that does not parse: read each cell alone
        located: list[tuple[int, Finding]] = []
        for number, source in cells:
            try:
                located.extend((number, f) for f in check_source(source, filename))
            except SyntaxError:
                continue
        return located
    located = []
    for finding in findings:
        start, number = max(s for s in starts if s[0] <= finding.line)
        line = finding.line - start + 1
        located.append((number, Finding(line, finding.col, finding.code, finding.message)))
    return located


def check_file(path: str | Path) -> list[str]:
    """The formatted findings of one .py or .ipynb file (`path:line:col: OOnnn message`)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        return [
            finding.format(f"{path}:cell_{number}")
            for number, finding in check_notebook(text, str(path))
        ]
    return [finding.format(str(path)) for finding in check_source(text, str(path))]

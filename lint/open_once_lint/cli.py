"""`open-once-lint PATH...`: check files and folders (.py, and the code cells of .ipynb)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from open_once_lint.checker import RULES, check_file

SKIPPED_FOLDERS = frozenset(
    {".git", ".hg", ".svn", "__pycache__", ".ipynb_checkpoints", ".tox", ".nox", ".venv",
     "node_modules", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
)  # fmt: skip


def files(paths: Sequence[str]) -> Iterator[Path]:
    """Each .py and .ipynb file under the paths, in a stable order (a file named is kept)."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            for folder, subfolders, names in os.walk(path):
                subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS)
                for file in sorted(names):
                    if file.endswith((".py", ".ipynb")):
                        yield Path(folder, file)
        else:
            yield path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="open-once-lint",
        description="Find httpx client-lifetime mistakes (the Open Once rules). "
        "Exit status: 0 clean, 1 findings, 2 a file could not be read or parsed.",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        default=["."],
        metavar="PATH",
        help=".py and .ipynb files, or folders to search for them (optional; default: the "
        "current folder, `.`)",
    )
    parser.add_argument("--select", default="OO", help="code prefixes to report, comma-separated")
    parser.add_argument("--ignore", default="", help="code prefixes to leave out")
    parser.add_argument(
        "--lessons", action="store_true", help="after each finding, the lesson that teaches it"
    )
    parser.add_argument("--list-rules", action="store_true", help="print the rules and exit")
    args = parser.parse_args(argv)
    if args.list_rules:
        for code, (message, section) in RULES.items():
            example = {"OO102": "httpx.get", "OO103": "`with`", "OO109": "`client`"}.get(code, "")
            print(f"{code} {message.format(name=example)}\n      taught in notebooks/{section}")
        return 0
    select = tuple(c.strip() for c in args.select.split(",") if c.strip())
    ignore = tuple(c.strip() for c in args.ignore.split(",") if c.strip())
    status = 0
    for path in files(args.paths):
        try:
            lines = check_file(path)
        except (OSError, SyntaxError, ValueError) as error:
            print(f"{path}:0:1: E902 {type(error).__name__}: {error}", file=sys.stderr)
            status = 2
            continue
        for line in lines:
            code = line.split(": ", 2)[1].split(" ", 1)[0]
            if code.startswith(select) and not (ignore and code.startswith(ignore)):
                print(line)
                if args.lessons and code in RULES:
                    print(f"    taught in notebooks/{RULES[code][1]}")
                status = max(status, 1)
    return status

"""The rules as a flake8 plugin: `flake8 --select=OO` (flake8 applies `# noqa` itself)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from open_once_lint import __version__
from open_once_lint.checker import check_tree


class Plugin:
    name = "open-once-lint"
    version = __version__

    def __init__(self, tree: ast.AST, lines: list[str]) -> None:
        self._tree = tree
        self._lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        if not any("httpx" in line for line in self._lines):
            return  # no library, no finding: the same shortcut as the command's
        for finding in check_tree(self._tree):
            yield finding.line, finding.col, f"{finding.code} {finding.message}", type(self)

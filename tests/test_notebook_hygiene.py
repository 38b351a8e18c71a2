"""Every stored notebook is clean, and the hygiene rules themselves catch what they should."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from nbval.plugin import get_sanitize_patterns

from tests.hygiene import findings

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebook_is_clean(path: Path) -> None:
    assert findings(path) == []


def test_the_pack_has_its_notebooks() -> None:
    assert [p.name[:3] for p in NOTEBOOKS][:1] == ["00_"]


def _cell(
    source: str, count: int | None, outputs: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "source": source,
        "metadata": {},
        "execution_count": count,
        "outputs": outputs or [],
    }


def _stream(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


ERROR: dict[str, Any] = {
    "output_type": "error",
    "ename": "RuntimeError",
    "evalue": "boom",
    "traceback": [],
}


def _raises(
    cell: dict[str, Any], *, tag: bool = True, comment: bool = True, error: bool = True
) -> None:
    """Make `cell` one that raises on purpose, with any of its three parts left out."""
    if tag:
        cell["metadata"]["tags"] = ["raises-exception"]
    if comment:
        cell["source"] = "# NBVAL_RAISES_EXCEPTION\n" + cell["source"]
    if error:
        cell["outputs"] = [ERROR]


GOOD: dict[str, Any] = {
    "cells": [_cell(f"print({i})", i, [_stream(f"{i}\n")]) for i in range(1, 6)],
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def _bad(change: Any) -> dict[str, Any]:
    nb = copy.deepcopy(GOOD)
    change(nb)
    return nb


BAD = {
    "not run": lambda nb: nb["cells"][2].update(execution_count=None),
    "run out of order": lambda nb: nb["cells"][0].update(execution_count=7),
    "unexpected error": lambda nb: nb["cells"][1]["outputs"].append(ERROR),
    "error with neither comment nor tag": lambda nb: _raises(
        nb["cells"][1], tag=False, comment=False
    ),
    "error with the comment but no tag": lambda nb: _raises(nb["cells"][1], tag=False),
    "comment without tag or error": lambda nb: _raises(nb["cells"][1], tag=False, error=False),
    "tagged, no error stored": lambda nb: _raises(nb["cells"][1], comment=False, error=False),
    "tagged and commented, no error stored": lambda nb: _raises(nb["cells"][1], error=False),
    "machine path": lambda nb: nb["cells"][1]["outputs"].append(_stream("/home/me/x.py\n")),
    "memory address": lambda nb: nb["cells"][1]["outputs"].append(
        _stream("<httpx.Client object at 0x7f3a2b1c9d10>\n")
    ),
    "widget state": lambda nb: nb["metadata"].update(widgets={"state": {}}),
    "verify=False": lambda nb: nb["cells"][3].update(source="httpx.Client(verify = False)"),
    "kernelspec": lambda nb: nb["metadata"].update(kernelspec={"name": "venv-py"}),
    "too many unchecked": lambda nb: [
        nb["cells"][i].update(source="# NBVAL_IGNORE_OUTPUT\n1") for i in (0, 1)
    ],
}


def test_a_good_notebook_has_no_findings(tmp_path: Path) -> None:
    path = tmp_path / "good.ipynb"
    path.write_text(json.dumps(GOOD))
    assert findings(path) == []


@pytest.mark.parametrize("comment", [True, False], ids=["with-comment", "tag-only"])
def test_a_cell_that_raises_on_purpose_is_clean(tmp_path: Path, comment: bool) -> None:
    nb = copy.deepcopy(GOOD)
    _raises(nb["cells"][2], comment=comment)
    path = tmp_path / "good.ipynb"
    path.write_text(json.dumps(nb))
    assert findings(path) == []


@pytest.mark.parametrize("name", BAD)
def test_each_kind_of_bad_notebook_is_caught(tmp_path: Path, name: str) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(_bad(BAD[name])))
    assert len(findings(path)) == 1


def test_the_sanitizers_parse_and_apply() -> None:
    patterns = get_sanitize_patterns((ROOT / "tests" / "sanitize.cfg").read_text())
    assert len(patterns) == 2  # a malformed pair would be silently dropped by nbval

    def clean(text: str) -> str:
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    assert clean("<httpx.Client object at 0x7f3a2b1c9d10>") == "<httpx.Client object at ADDRESS>"
    assert clean("http://127.0.0.1:40123/delay/1") == "http://127.0.0.1:PORT/delay/1"

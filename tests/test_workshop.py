"""The workshop fits its slot: each notebook's core path, by the plain estimate, fits the minutes
that the notebook, the instructor guide and the README give it, and those three agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.workshop import OPTIONAL, estimate, promised, sections

ROOT = Path(__file__).resolve().parent.parent
WORKSHOP = sorted((ROOT / "notebooks").glob("0[0-5]_*.ipynb"))
SLOT = 150  # minutes, breaks included: the guide's plan
GUIDE = (ROOT / "docs" / "instructor-guide.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def plan_table() -> str:
    """The table under the guide's heading "The plan (150 minutes)"."""
    return GUIDE.split("## The plan", 1)[1].split("\n\n", 2)[1]


def guide_plan() -> dict[str, int]:
    """Minutes per row of the guide's 150-minute plan: notebook number (or 'break') -> min."""
    rows: dict[str, int] = {}
    for line in plan_table().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) < 3 or not cells[2].isdigit():
            continue
        match = re.search(r"notebooks/(\d\d)_", cells[1])
        rows[match.group(1) if match else cells[1]] = int(cells[2])
    return rows


def readme_minutes() -> dict[str, tuple[int, int]]:
    """(core, everything) per notebook, from the README's learning path ('29 / 42')."""
    found = re.findall(r"\| \[(\d\d) [^]]*\]\(notebooks/[^)]*\) \|.*\| (\d+) / (\d+) \|", README)
    return {number: (int(core), int(everything)) for number, core, everything in found}


@pytest.mark.parametrize("path", WORKSHOP, ids=lambda p: p.name[:2])
def test_the_promised_minutes_cover_the_plain_estimate(path: Path) -> None:
    core, everything = estimate(path)
    promised_core, promised_everything = promised(path)
    assert promised_core >= core, f"{path.name}: the core path needs {core} min by the estimate"
    assert promised_everything >= everything, f"{path.name}: everything needs {everything} min"


@pytest.mark.parametrize("path", WORKSHOP, ids=lambda p: p.name[:2])
def test_guide_and_readme_give_each_notebook_its_core_minutes(path: Path) -> None:
    number = path.name[:2]
    assert guide_plan()[number] == promised(path)[0]
    assert readme_minutes()[number] == promised(path)


def test_the_plan_fills_its_slot_and_its_clock_adds_up() -> None:
    plan = guide_plan()
    assert sorted(k for k in plan if k.isdigit()) == [p.name[:2] for p in WORKSHOP]
    assert sum(plan.values()) == SLOT
    # The "time" column: each row starts when the one before it ends.
    starts = re.findall(r"^\| (\d):(\d\d) \|", plan_table(), re.MULTILINE)
    clock = [int(h) * 60 + int(m) for h, m in starts]
    assert clock[0] == 0 and clock[-1] == SLOT
    assert [b - a for a, b in zip(clock, clock[1:], strict=False)] == list(plan.values())


@pytest.mark.parametrize("path", WORKSHOP[1:], ids=lambda p: p.name[:2])
def test_challenges_are_optional_and_the_core_path_has_an_exercise(path: Path) -> None:
    parts = sections(path)
    challenges = [s for s in parts if s.heading.startswith("Challenge")]
    assert challenges and all(s.optional for s in challenges)
    assert any(s.heading.startswith("Exercise") and not s.optional for s in parts)


def _notebook(tmp_path: Path, *cells: tuple[str, str]) -> Path:
    nb = {
        "cells": [
            {"cell_type": kind, "metadata": {}, "source": source}
            | ({"outputs": [], "execution_count": None} if kind == "code" else {})
            for kind, source in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "made_up.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_the_estimate_counts_what_a_learner_reads_runs_and_solves(tmp_path: Path) -> None:
    words = " ".join(["word"] * 200)  # one minute of reading
    path = _notebook(
        tmp_path,
        (
            "markdown",
            f"# Title\n**Time:** core path 9 minutes (the workshop); everything, with"
            f" the optional parts, about 9 minutes.\n\n> 🧑‍🏫 **Instructor note:** {words}"
            f"\n> {words}\n\nBack to the learner.",
        ),
        ("markdown", f"## 1. Core\n{words}"),
        ("code", "x = 1"),
        ("code", ""),  # an empty cell costs nothing
        ("markdown", f"## 2. Deeper\n\n{OPTIONAL} · later\n\n{words}"),
        ("markdown", f"### 2.1 Still deeper\n{words}"),
        ("code", "y = 2"),
        ("markdown", "## Exercise 2.2: core again"),
        ("code", "stub()"),
        ("code", "check()"),
    )
    parts = sections(path)
    assert [(s.heading, s.optional) for s in parts] == [
        ("Title", False),
        ("1. Core", False),
        ("2. Deeper", True),
        ("2.1 Still deeper", True),
        ("Exercise 2.2: core again", False),
    ]
    # The title's 21 words count, the instructor note's 400 do not. Core: 21 + 203 + 5 words
    # (1.1 min), 3 code cells (1.5) and one exercise (5): 7.6. The optional part adds 411 words
    # and a cell (2.6): 10.2.
    assert parts[0].words == 21
    assert estimate(path) == (8, 11)
    assert promised(path) == (9, 9)


def test_the_map_in_notebook_00_lists_every_notebook_with_the_readmes_minutes() -> None:
    """The map learners meet first agrees with the README's learning path, row by row."""
    nb = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "".join(c["source"]).startswith("## The map of the pack"))
    rows = re.findall(
        r"^\| \[(\d\d) [^]]*\]\((\S+)\) \|.*\| ([\d /]+) \|$", "".join(cell["source"]), re.M
    )
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [link for _, link, _ in rows] == notebooks
    listed = re.findall(
        r"^\| \[(\d\d) [^]]*\]\(notebooks/[^)]*\) \|.*\| ([\d /]+) \|$", README, re.M
    )
    assert [(number, minutes.strip()) for number, _, minutes in rows] == [
        (number, minutes.strip()) for number, minutes in listed
    ]

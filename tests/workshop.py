"""How long a notebook takes a learner, by a plain estimate, and which parts a workshop skips.

The estimate is deliberately simple, so an instructor can redo it by hand: learner-facing prose
at 200 words a minute (instructor notes left out), 30 seconds per code cell, and 5 minutes of
thinking and typing per exercise or challenge on top of reading its prompt and running its
cells. A section is optional when its heading cell carries the OPTIONAL callout; it runs to
the next heading of the same or a higher level. Everything else is the core path: what the
room does in the workshop.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WORDS_PER_MINUTE = 200
MINUTES_PER_CODE_CELL = 0.5
MINUTES_PER_EXERCISE = 5
# The visible mark of an optional section, on the line after its heading.
OPTIONAL = "> ⏭️ **Optional**"
HEADING = re.compile(r"^(#{1,3}) (.*)$", re.MULTILINE)
EXERCISE = re.compile(r"^(Exercise|Challenge) \d+\.\d+")
INSTRUCTOR = "🧑‍🏫"


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else (value or "")


def learner_words(markdown: str) -> int:
    """Words a learner reads: everything but the instructor notes' blockquotes."""
    kept: list[str] = []
    in_note = False
    for line in markdown.splitlines():
        if line.startswith(">") and INSTRUCTOR in line:
            in_note = True
        elif not line.startswith(">"):
            in_note = False
        if not in_note:
            kept.append(line)
    return len(re.findall(r"\S+", "\n".join(kept)))


@dataclass
class Section:
    heading: str
    level: int
    optional: bool
    words: int = 0
    code_cells: int = 0

    @property
    def minutes(self) -> float:
        exercise = MINUTES_PER_EXERCISE if EXERCISE.match(self.heading) else 0
        return self.words / WORDS_PER_MINUTE + self.code_cells * MINUTES_PER_CODE_CELL + exercise


def sections(path: Path) -> list[Section]:
    """The notebook cut at its headings; a section inside an optional one is optional too."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    found: list[Section] = []
    optional_from: int | None = None  # the level of the optional section we are inside
    for cell in nb["cells"]:
        source = _text(cell["source"])
        if cell["cell_type"] == "markdown":
            match = HEADING.search(source)
            if match:
                level = len(match.group(1))
                if optional_from is not None and level <= optional_from:
                    optional_from = None
                if OPTIONAL in source and optional_from is None:
                    optional_from = level
                found.append(Section(match.group(2), level, optional_from is not None))
            if found:
                found[-1].words += learner_words(source)
        elif source.strip() and found:
            found[-1].code_cells += 1
    return found


def estimate(path: Path) -> tuple[int, int]:
    """(core path, everything), in whole minutes, rounded up."""
    parts = sections(path)
    core = sum(s.minutes for s in parts if not s.optional)
    return math.ceil(core), math.ceil(sum(s.minutes for s in parts))


# The first cell's promise: "**Time:** core path 25 minutes (the workshop); everything ... 41."
TIME_LINE = re.compile(
    r"\*\*Time:\*\* core path (\d+) minutes \(the workshop\); everything, with the optional"
    r" parts, about (\d+)"
)


def promised(path: Path) -> tuple[int, int]:
    """(core, everything) minutes that the notebook's first cell promises."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    match = TIME_LINE.search(_text(nb["cells"][0]["source"]))
    if not match:
        raise ValueError(f"{path.name}: no '**Time:** core path N minutes ...' line in cell 1")
    return int(match.group(1)), int(match.group(2))

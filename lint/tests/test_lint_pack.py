"""The pack checks itself: its solutions are clean, and its notebooks raise only the findings of
the mistakes they show on purpose (each one below, with the code that should find it).

A new finding in a notebook is either a new mistake shown on purpose (add it to ON_PURPOSE) or a
real one (fix the notebook). A mistake shown on purpose that is no longer found means a rule
stopped working, or the notebook changed: look before editing this list.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from open_once_lint.checker import RULES, check_notebook, check_source, notebook_cells

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# notebook -> (code, the flagged line without its comment), as many times as it is flagged
ON_PURPOSE: dict[str, list[tuple[str, str]]] = {
    "01_the_reopen_error.ipynb": [
        ("OO101", "with httpx.Client() as client:"),  # 1: five clients for five requests
        ("OO103", "with self.client:"),  # 4.1: `with self.client:` in a method
        ("OO103", "with client:"),  # exercise 1.1's broken fetch_statuses, as shown
        ("OO103", "with client:"),  # ... and its stub
        ("OO103", "shared_client.close()"),  # 4.2: one of its users closes the module's client
    ],
    "02_open_once_share_across_threads.ipynb": [
        ("OO101", "with httpx.Client(**server.client_kwargs()) as own:"),  # a client per task
        ("OO102", 'httpx.get(server.url + "/")'),  # httpx.get() in a loop
        ("OO101", "with httpx.Client(verify=verify) as own:"),  # a new connection each request
    ],
    "05_async_clients.ipynb": [
        ("OO101", "async with httpx.AsyncClient(**server.client_kwargs()) as own:"),
        ("OO101", "async with httpx.AsyncClient(**tls_kwargs) as own:"),
        ("OO109", 'outcomes.append(f"status {asyncio.run(get_status())}")'),  # 4: two loops
    ],
    "06_one_client_per_application.ipynb": [
        ("OO101", "async with httpx.AsyncClient(verify=trust) as client:"),  # 1a
        ("OO101", "with httpx.Client(verify=trust) as client:"),  # 3: Flask, per request
        ("OO101", "async with httpx.AsyncClient(base_url=upstream) as client:"),  # 6.1's stub
    ],
    "08_many_clients_and_http2.ipynb": [
        ("OO101", "client = httpx.Client()"),  # 1.1: a client per request, kept
        ("OO101", "client = httpx.Client(verify=plain_trust())"),
        ("OO101", "httpx.Client(verify=plain_trust()).get(url)"),  # 1.2: a client per loop pass,
        ("OO107", "httpx.Client(verify=plain_trust()).get(url)"),  # ... dropped at once
    ],
}


def _findings(path: Path) -> Counter[tuple[str, str]]:
    text = path.read_text(encoding="utf-8")
    cells = dict(notebook_cells(text))
    return Counter(
        (f.code, cells[number].splitlines()[f.line - 1].split("#")[0].strip())
        for number, f in check_notebook(text, str(path))
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_show_their_mistakes_and_no_other(path: Path) -> None:
    assert _findings(path) == Counter(ON_PURPOSE.get(path.name, []))


def test_every_listed_notebook_exists() -> None:
    assert set(ON_PURPOSE) <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*.py")), ids=lambda p: p.name)
def test_solutions_are_clean(path: Path) -> None:
    assert check_source(path.read_text(encoding="utf-8"), str(path)) == []


def _anchors(path: Path) -> set[str]:
    """JupyterLab's anchor of each markdown heading: its text, spaces made dashes."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    headings = re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)
    return {re.sub(r"[`*]", "", h).strip().replace(" ", "-") for h in headings}


def test_each_rule_links_a_real_section_of_a_notebook() -> None:
    for code, (_, section) in RULES.items():
        name, anchor = section.split("#")
        path = ROOT / "notebooks" / name
        assert path.exists(), (code, name)
        assert anchor in _anchors(path), (code, anchor, sorted(_anchors(path)))


def test_the_notebooks_sample_module_has_each_mistake_once_and_its_fix_none() -> None:
    examples = ROOT / "lint" / "examples"
    mistakes = check_source((examples / "shop_mistakes.py").read_text(encoding="utf-8"))
    assert sorted(f.code for f in mistakes) == sorted(RULES)
    assert check_source((examples / "shop_fixed.py").read_text(encoding="utf-8")) == []


def test_notebook_10_links_real_sections() -> None:
    """Notebook 10 links each rule to its lessons: every link lands on a heading that exists."""
    path = ROOT / "notebooks" / "10_check_your_own_code.ipynb"
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    links = re.findall(r"\]\((\d\d_\w+\.ipynb)#([^\s()]+(?:\(\))?)\)", text)
    assert len(links) >= len(RULES)
    for name, anchor in links:
        assert anchor in _anchors(ROOT / "notebooks" / name), (name, anchor)


def test_docs_lint_md_links_each_lesson_at_its_section() -> None:
    """docs/lint.md's rule table: every lesson is a link, and each lands on a heading."""
    text = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"\| OO1\d\d \|", line)][:9]
    assert [row.split()[1] for row in rows] == sorted(RULES)
    link = r"\[[^]]+\]\(\.\./notebooks/(\d\d_\w+\.ipynb)#([^\s]+?)\)(?=;|$)"
    for row in rows:
        cell = row.rstrip(" |").rsplit("| ", 1)[1]
        assert re.sub(link, "", cell).replace(";", "").strip() == "", (row.split()[1], cell)
        for name, anchor in re.findall(link, cell):
            assert anchor in _anchors(ROOT / "notebooks" / name), (name, anchor)

"""The set-up a new user meets: which Pythons, the set-up check's verdicts, the README's commands.

The check's stored output in notebook 00 must hold on every supported Python (nbval compares it
on whichever runs the tests), so it may name no version that differs between them; an older
Python gets one line that says what to do, even where nothing of the pack installs.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from labkit import setup_check
from labkit.setup_check import SUPPORTED_PYTHONS, python_verdict, report_versions, supported_pythons
from tests.notebook_runner import ROOT

START_HERE = ROOT / "notebooks" / "00_start_here.ipynb"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_supported_python_gets_the_same_tick() -> None:
    verdicts = {python_verdict(v) for v in SUPPORTED_PYTHONS}
    assert len(verdicts) == 1
    ((ok, line),) = verdicts
    assert ok and line.startswith("✅")
    assert supported_pythons() == "3.11 to 3.15"


@pytest.mark.parametrize("old", [(3, 10), (3, 9), (3, 8)])
def test_an_older_python_is_told_what_to_do(old: tuple[int, int]) -> None:
    ok, line = python_verdict(old)
    assert not ok and line.startswith(f"❌ Python {old[0]}.{old[1]} is too old")
    for advice in ("3.11 to 3.15", "uv", "pyenv", "conda", "virtual environment", "Binder"):
        assert advice in line


def test_an_older_python_gets_only_its_own_line(capsys: pytest.CaptureFixture[str]) -> None:
    """The pins don't install there: "run pip install" lines would send the learner astray."""
    assert report_versions((3, 10)) is False
    assert capsys.readouterr().out.splitlines() == [python_verdict((3, 10))[1]]


def test_a_newer_python_is_warned_not_refused() -> None:
    ok, line = python_verdict((3, 16))
    assert not ok and line.startswith("⚠️ Python 3.16 is newer") and "use Python 3.15" in line


def _stored_check_output() -> str:
    nb = nbformat.read(START_HERE, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "setup_check" in c.source]
    assert len(cells) == 1, "00 runs the set-up check in one cell"
    assert cells[0].source.strip() == "%run labkit/setup_check.py"
    return "".join(o.get("text", "") for o in cells[0].outputs if o.output_type == "stream")


@pytest.mark.parametrize("python", SUPPORTED_PYTHONS, ids=lambda v: f"{v[0]}.{v[1]}")
def test_00_stores_what_every_supported_python_prints(
    python: tuple[int, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert report_versions(python) is True
    assert capsys.readouterr().out == _stored_check_output()


def _older_pythons() -> list[Path]:
    """Interpreters older than 3.11 on this machine (pyenv's), newest first; often none."""
    found = sorted(
        Path.home().glob(".pyenv/versions/3.*/bin/python3"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.parent.name)[:2]],
        reverse=True,
    )
    return [p for p in found if (3, 8) <= _version(p) < SUPPORTED_PYTHONS[0]]


def _version(python: Path) -> tuple[int, int]:
    major, minor = re.findall(r"\d+", python.parent.parent.name)[:2]
    return int(major), int(minor)


def test_the_check_runs_on_an_old_python_alone(tmp_path: Path) -> None:
    """`python notebooks/labkit/setup_check.py` where nothing of the pack can be installed."""
    olds = _older_pythons()
    if not olds:
        pytest.skip("no Python older than 3.11 on this machine to run the check with")
    script = Path(setup_check.__file__)
    result = subprocess.run(
        [str(olds[0]), "-I", str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    major, minor = _version(olds[0])
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"❌ Python {major}.{minor} is too old"), result.stdout


def _set_up_block() -> list[str]:
    section = re.search(r"^## Set up.*?(?=^## )", README, re.MULTILINE | re.DOTALL)
    assert section, 'README.md has no "## Set up" section'
    block = re.search(r"^```bash\n(.*?)^```", section.group(0), re.MULTILINE | re.DOTALL)
    assert block, "README's set-up has no bash block"
    return block.group(1).splitlines()


def test_the_readme_names_the_supported_pythons_and_two_commands() -> None:
    assert "Python 3.11 to 3.15" in README
    assert _set_up_block() == [
        "python -m pip install -r requirements.txt",
        "jupyter lab --ServerApp.root_dir=. notebooks/00_start_here.ipynb",
    ]


def _links(markdown: str) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", markdown)


def test_00_links_the_docs_so_they_open_from_jupyterlab() -> None:
    """Relative links resolve from notebooks/, inside the file browser's root (the pack's)."""
    nb = nbformat.read(START_HERE, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert not re.search(r"`docs/\w+\.md`", markdown), "a docs file named as code, not linked"
    targets = {link for link in _links(markdown) if not link.startswith(("http", "#"))}
    assert {"../docs/troubleshooting.md", "../docs/cheatsheet.md"} <= targets
    for target in targets:
        path = (START_HERE.parent / target.split("#")[0]).resolve()
        assert path.is_file() and ROOT in path.parents, target


def test_troubleshooting_covers_root_old_pythons_and_ports() -> None:
    text = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    for heading in ("Python too old", "Running as root", "Port in use"):
        assert heading in headings
    assert "--allow-root" in text and "No matching distribution found" in text
    # The README's anchors point at these headings.
    for anchor in re.findall(r"docs/troubleshooting\.md#([\w-]+)", README):
        assert anchor in {h.lower().replace(" ", "-") for h in headings}, anchor


def test_the_check_needs_nothing_but_the_standard_library() -> None:
    """So it runs before `pip install`, and on a Python whose pins don't install."""
    source = Path(setup_check.__file__).read_text(encoding="utf-8")
    imports = set(re.findall(r"^(?:from|import) (\w+)", source, re.MULTILINE))
    assert imports <= {"__future__", "re", "sys", "importlib", "pathlib"}


def _pins_with(tmp_path: Path, name: str, pin: str) -> Path:
    """A copy of requirements.txt in which `name` is pinned to `pin`."""
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    lines = [
        f"{name}=={pin}" if re.match(rf"^{re.escape(name)}==", line) else line
        for line in text.splitlines()
    ]
    assert f"{name}=={pin}" in lines, f"requirements.txt pins no {name}"
    (tmp_path / "requirements.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path / "requirements.txt"


def test_a_version_other_than_the_pin_is_not_a_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The room's check must not say "all good" when a lesson's figures may not hold."""
    pins = _pins_with(tmp_path, "httpx", "0.0.1")
    real = setup_check.pinned_versions
    monkeypatch.setattr(setup_check, "pinned_versions", lambda: real(pins))
    assert report_versions(SUPPORTED_PYTHONS[0]) is False
    lines = capsys.readouterr().out.splitlines()
    [httpx_line] = [line for line in lines if " httpx " in f" {line} "]
    assert httpx_line.startswith("⚠️ httpx ") and "pins 0.0.1" in httpx_line
    assert "pip install -r requirements.txt" in httpx_line
    assert sum(line.startswith("✅") for line in lines) == len(lines) - 1  # the others pass


def test_a_missing_package_is_not_a_success(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = setup_check.version

    def without_trustme(name: str) -> str:
        if name == "trustme":
            raise setup_check.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(setup_check, "version", without_trustme)
    assert report_versions(SUPPORTED_PYTHONS[0]) is False
    lines = capsys.readouterr().out.splitlines()
    assert "❌ trustme is not installed: run  python -m pip install -r requirements.txt" in lines


def test_the_pins_are_read_from_requirements_lines_only(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# The lessons\nhttpx==0.29.0  # a comment\nTrustMe==1.2.1\n"
        "jupyterlab>=4\n  pytest==9.0.1 ; python_version >= '3.11'\n",
        encoding="utf-8",
    )
    assert setup_check.pinned_versions(requirements) == {
        "httpx": "0.29.0",
        "trustme": "1.2.1",
        "pytest": "9.0.1",
    }

"""scripts/check_wheels.py, offline: what it asks pip, and how it reads the answers.

The check itself needs the package index, so .ci/run runs it and the test suite does not. Here:
that pip in the check's child evaluates environment markers for the target platform (pip alone
uses the interpreter that runs it), with no index at all; and the checks on pip's answers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.setup_check import SUPPORTED_PYTHONS
from scripts import check_wheels
from scripts.check_wheels import PLATFORMS, Result, fallbacks, marker_environment, pinned_here

BY_NAME = {platform.name: platform for platform in PLATFORMS}


def test_the_matrix_is_every_supported_python_on_five_platforms() -> None:
    assert list(BY_NAME) == [
        "Linux x86_64",
        "Linux aarch64",
        "macOS arm64",
        "macOS x86_64",
        "Windows amd64",
    ]
    linux = BY_NAME["Linux x86_64"].tags
    assert "manylinux_2_28_x86_64" in linux and "manylinux_2_17_x86_64" in linux
    assert "manylinux2014_x86_64" in linux  # pip does not expand manylinux_2_28 by itself
    windows = BY_NAME["Windows amd64"]
    command = check_wheels.pip_command(
        "3.15", windows, check_wheels.REQUIREMENTS, "https://pypi.org/simple", "/nowhere"
    )
    for option in ("--only-binary=:all:", "--isolated", "--dry-run", "--ignore-installed"):
        assert option in command
    for option, value in [("--python-version", "3.15"), ("--platform", "win_amd64")]:
        assert command[command.index(option) + 1] == value


def _pip_in_the_childs_environment(python: str, platform: str, tmp_path: Path) -> tuple[int, str]:
    """The check's child, offline: a requirement that exists only behind a Windows marker."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text('colorama==0.4.6 ; sys_platform == "win32"\n', encoding="utf-8")
    env = json.dumps(marker_environment(python, BY_NAME[platform]))
    done = subprocess.run(
        [sys.executable, "-c", check_wheels.CHILD, env, "install", "--isolated", "--no-index"]
        + ["--dry-run", "--ignore-installed", "--quiet", "--report", "-", "-r", str(requirements)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def test_pip_evaluates_markers_for_the_target_not_for_this_machine(tmp_path: Path) -> None:
    status, out = _pip_in_the_childs_environment("3.15", "Windows amd64", tmp_path)
    assert status != 0 and "No matching distribution found for colorama" in out  # wanted there
    status, out = _pip_in_the_childs_environment("3.15", "macOS x86_64", tmp_path)
    assert status == 0, out
    report = json.loads(out)
    assert report["install"] == []  # not wanted there
    environment = report["environment"]
    assert environment["sys_platform"] == "darwin" and environment["platform_machine"] == "x86_64"
    assert environment["python_version"] == "3.15"


def _result(platform: str, requirements: str = "requirements.txt", **versions: str) -> Result:
    return Result("3.14", platform, requirements, True, 1.0, versions=dict(versions))


def test_an_older_release_on_one_platform_fails_the_check() -> None:
    """The resolver took an older release with a wheel; a learner's pip would build the newest."""
    results = [
        _result("Linux x86_64", cffi="2.1.1", idna="3.21"),
        _result("macOS x86_64", cffi="2.0.0", idna="3.21"),
        _result("Windows amd64", cffi="2.1.1"),  # idna not needed there: not a difference
        _result("macOS x86_64", "requirements-dev.txt", cffi="2.1.1"),  # another file
    ]
    assert fallbacks(results) == {
        ("3.14", "macOS x86_64", "requirements.txt"): (
            "older where newer has no wheel: cffi 2.0.0 (not 2.1.1)"
        )
    }
    results[1].pinned_here = ["cffi"]  # pinned older for that platform, on purpose
    assert fallbacks(results) == {}


def test_the_intel_mac_pins_hold_on_intel_macs_only() -> None:
    for python in (f"{major}.{minor}" for major, minor in SUPPORTED_PYTHONS):
        for platform in PLATFORMS:
            for requirements in (check_wheels.REQUIREMENTS, check_wheels.DEV):
                expected = ["argon2-cffi-bindings", "cryptography"]
                if platform.name != "macOS x86_64":
                    expected = []
                assert pinned_here(python, platform, requirements) == expected


@pytest.mark.parametrize("name", ["Linux x86_64", "Windows amd64"])
def test_a_pin_without_a_wheel_is_named(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a failed resolve prints: pip's own ERROR lines, which name the package."""

    class Done:
        returncode = 1
        stdout = ""
        stderr = (
            "ERROR: Could not find a version that satisfies the requirement matplotlib==3.11.2"
            " (from versions: none)\nERROR: No matching distribution found for matplotlib==3.11.2"
        )

    monkeypatch.setattr(check_wheels.subprocess, "run", lambda *a, **k: Done())
    result = check_wheels.resolve(
        "3.15", BY_NAME[name], check_wheels.REQUIREMENTS, "https://pypi.org/simple", max_age=0
    )
    assert not result.ok and "No matching distribution found for matplotlib==3.11.2" in (
        result.problem
    )

"""Does every pin install from wheels on each supported Python and each learner's platform?

    python scripts/check_wheels.py             # the matrix below; needs the package index (PyPI)
    python scripts/check_wheels.py --fresh     # ignore results cached in the last 12 hours
    python scripts/check_wheels.py --python 3.15 --platform "Windows amd64"

For each supported Python (SUPPORTED_PYTHONS in notebooks/labkit/setup_check.py) and each
platform below, pip's own resolver resolves requirements.txt as a learner's `pip install` would,
but for that platform (`--platform`, `--python-version`, `--implementation cp`) and from wheels
only (`--only-binary=:all:`), dependencies included: the pins are exact, their dependencies are
not, so only a full resolve per platform sees what a learner really gets. requirements-dev.txt
is resolved too where it is installed (Linux x86_64: CI and the developers).

Two things pip does not do by itself for another platform, done here:
- Environment markers (`pywinpty; os_name == "nt"`, `appnope; sys_platform == "darwin"`,
  `...; python_version < "3.13"`) are evaluated by pip against the interpreter that runs it, not
  against `--platform`/`--python-version` (pip's report says so). Each resolve runs pip in a
  child whose marker environment is the target's (`packaging.markers.default_environment`, as
  vendored by pip, patched before pip is imported); the report's "environment" proves it took.
- With `--only-binary`, the resolver quietly falls back to an older release when the newest has
  no wheel for a platform, where a learner's pip would pick the newest and try to build it from
  source. So within one Python, a package resolved at different versions on different platforms
  fails the check too.

Each resolve costs about 10 s of CPU (pip reads every file of every release of some 135
projects), so they run in parallel: the 30 combinations took 233 s on 2 shared cores (load 5),
23 minutes under load 15. A combination that passed is cached for 12 hours in
~/.cache/open-once/wheel-check/, keyed by the requirement files, pip's version and this script
(pip's own HTTP cache does nothing where a proxy strips the index's Cache-Control headers): a
second run takes under a second. Needs pip 24 or newer (requirements-dev.txt pins it). Exits 1
if any combination fails.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# labkit/setup_check.py alone (the standard library only), not the labkit package (httpx...):
# this script runs with nothing installed but pip.
_spec = importlib.util.spec_from_file_location(
    "setup_check", ROOT / "notebooks/labkit/setup_check.py"
)
assert _spec and _spec.loader
_setup_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_setup_check)
SUPPORTED_PYTHONS: tuple[tuple[int, int], ...] = _setup_check.SUPPORTED_PYTHONS

REQUIREMENTS = ROOT / "requirements.txt"
DEV = ROOT / "requirements-dev.txt"
INDEX = "https://pypi.org/simple"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "open-once" / "wheel-check"
MAX_AGE_HOURS = 12.0


def _manylinux(arch: str, glibc: int = 28) -> list[str]:
    """manylinux_2_28 and every older tag: glibc 2.28 (RHEL 8; Debian 10 and Ubuntu 20.04 on).

    pip expands only the legacy manylinux2014 name to older tags, so all are listed.
    """
    return [f"manylinux_2_{minor}_{arch}" for minor in range(glibc, 16, -1)] + [
        f"manylinux2014_{arch}"
    ]


@dataclass(frozen=True)
class Platform:
    name: str
    tags: tuple[str, ...]  # pip's --platform values (a macosx_ tag covers older macOS too)
    markers: tuple[tuple[str, str], ...]  # PEP 508 environment values that differ by platform


def _markers(os_name: str, sys_platform: str, machine: str, release: str) -> tuple:
    system = {"linux": "Linux", "darwin": "Darwin", "win32": "Windows"}[sys_platform]
    return (
        ("os_name", os_name),
        ("sys_platform", sys_platform),
        ("platform_system", system),
        ("platform_machine", machine),
        ("platform_release", release),
        ("platform_version", release),
    )


def _linux(arch: str) -> Platform:
    return Platform(
        f"Linux {arch}", tuple(_manylinux(arch)), _markers("posix", "linux", arch, "6.8")
    )


def _macos(arch: str, oldest: str) -> Platform:
    tags = (f"macosx_{oldest}_{arch}",)  # pip adds every older macOS, and universal2
    return Platform(f"macOS {arch}", tags, _markers("posix", "darwin", arch, "24.0.0"))


PLATFORMS = (
    _linux("x86_64"),
    _linux("aarch64"),
    # macOS 11 is the oldest that runs on Apple silicon; 10.15 the oldest for which matplotlib,
    # numpy, Pillow and cffi build their Intel wheels for Python 3.14 and 3.15.
    _macos("arm64", "11_0"),
    _macos("x86_64", "10_15"),
    Platform("Windows amd64", ("win_amd64",), _markers("nt", "win32", "AMD64", "10")),
)
DEV_PLATFORMS = ("Linux x86_64",)  # where requirements-dev.txt is installed (.ci/run, CI)

# Run in a child: make pip evaluate markers for the target, then run pip's own CLI.
CHILD = """
import json, sys
import pip._vendor.packaging.markers as markers
target = json.loads(sys.argv[1])
host = markers.default_environment
markers.default_environment = lambda: {**host(), **target}
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@dataclass
class Result:
    python: str
    platform: str
    requirements: str
    ok: bool
    seconds: float
    cached: bool = False
    problem: str = ""
    versions: dict[str, str] = field(default_factory=dict)  # name: version resolved
    binary: list[str] = field(default_factory=list)  # wheels that are not pure Python
    pinned_here: list[str] = field(default_factory=list)  # pinned for this platform by a marker


def marker_environment(python: str, platform: Platform) -> dict[str, str]:
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "implementation_version": f"{python}.0",
        "platform_python_implementation": "CPython",
        **dict(platform.markers),
    }


def _name(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def pinned_here(python: str, platform: Platform, requirements: Path) -> list[str]:
    """Names that a `name==version ; marker` line pins for this target (an older release on
    purpose: requirements.txt's block for Intel Macs), in the file or in requirements.txt."""
    from pip._vendor.packaging.requirements import Requirement

    names = set()
    for path in {REQUIREMENTS, requirements}:
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#")[0].strip()
            if ";" in line and not line.startswith("-"):
                requirement = Requirement(line)
                marker = requirement.marker
                if marker and marker.evaluate(marker_environment(python, platform)):
                    names.add(_name(requirement.name))
    return sorted(names)


def pip_command(
    python: str, platform: Platform, requirements: Path, index: str, target: str
) -> list[str]:
    """`pip install --dry-run` for that platform; `--target` (never written to: a dry run) is
    what pip before 24 asks for with `--platform`, and .ci/run's virtual environments have
    the pip that their Python came with."""
    env = marker_environment(python, platform)
    command = [sys.executable, "-c", CHILD, json.dumps(env), "install", "--target", target]
    command += ["--isolated", "--index-url", index, "--dry-run", "--ignore-installed", "--quiet"]
    command += ["--report", "-", "--only-binary=:all:", "--implementation", "cp"]
    command += ["--python-version", python, "-r", str(requirements)]
    for tag in platform.tags:
        command += ["--platform", tag]
    return command


def _cache_key(python: str, platform: Platform, requirements: Path, index: str) -> str:
    digest = hashlib.sha256()
    for part in (python, repr(platform), requirements.name, index, version("pip")):
        digest.update(part.encode() + b"\0")
    for path in (Path(__file__), REQUIREMENTS, requirements):
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def resolve(
    python: str, platform: Platform, requirements: Path, index: str, max_age: float
) -> Result:
    """One resolve, or the cached result of the same one that passed less than max_age ago."""
    key = CACHE / f"{_cache_key(python, platform, requirements, index)}.json"
    if max_age > 0 and key.exists() and time.time() - key.stat().st_mtime < max_age * 3600:
        return Result(**{**json.loads(key.read_text(encoding="utf-8")), "cached": True})
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as target:
        command = pip_command(python, platform, requirements, index, target)
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    result = Result(python, platform.name, requirements.name, False, time.monotonic() - started)
    result.pinned_here = pinned_here(python, platform, requirements)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
        result.problem = " / ".join(errors) or done.stderr.strip()[-500:]
        return result
    report = json.loads(done.stdout)
    wanted = marker_environment(python, platform)
    seen = {name: report["environment"].get(name) for name in wanted}
    if seen != wanted:
        result.problem = f"pip evaluated markers for {seen}, not for the target"
        return result
    for item in report["install"]:
        name = _name(item["metadata"]["name"])
        filename = item["download_info"]["url"].rsplit("/", 1)[-1]
        result.versions[name] = item["metadata"]["version"]
        if not filename.endswith(".whl"):
            result.problem = f"{filename} is not a wheel"
        elif not filename.endswith("-none-any.whl"):
            result.binary.append(filename)
    result.ok = not result.problem
    if result.ok:
        CACHE.mkdir(parents=True, exist_ok=True)
        key.write_text(json.dumps({**asdict(result), "cached": False}), encoding="utf-8")
    return result


def fallbacks(results: list[Result]) -> dict[tuple[str, str, str], str]:
    """(python, platform, requirements): what resolved older there than elsewhere on its Python.

    Only an older release with a wheel for that platform makes the resolver differ by platform
    (Requires-Python is the same): a learner's pip would take the newest and build it.
    """
    newest: dict[tuple[str, str, str], str] = {}
    for r in results:
        for name, v in r.versions.items():
            key = (r.python, r.requirements, name)
            if name in r.pinned_here:
                continue
            if key not in newest or _newer(v, newest[key]):
                newest[key] = v
    found: dict[tuple[str, str, str], str] = defaultdict(str)
    for r in results:
        older = [
            f"{name} {v} (not {newest[(r.python, r.requirements, name)]})"
            for name, v in sorted(r.versions.items())
            if name not in r.pinned_here and v != newest[(r.python, r.requirements, name)]
        ]
        if older:
            found[(r.python, r.platform, r.requirements)] = (
                "older where newer has no wheel: " + ", ".join(older)
            )
    return found


def _newer(a: str, b: str) -> bool:
    from pip._vendor.packaging.version import Version

    return Version(a) > Version(b)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--python", action="append", help="only this Python (repeatable)")
    parser.add_argument("--platform", action="append", help="only this platform (repeatable)")
    parser.add_argument("--index-url", default=INDEX)
    parser.add_argument("--jobs", type=int, default=6, help="resolves at once (default 6)")
    parser.add_argument("--fresh", action="store_true", help="ignore the cache of passed resolves")
    args = parser.parse_args(argv)
    if int(version("pip").split(".")[0]) < 24:
        print(f"pip {version('pip')} is too old for this check: requirements-dev.txt pins pip 26")
        return 2

    pythons = args.python or [f"{major}.{minor}" for major, minor in SUPPORTED_PYTHONS]
    platforms = [p for p in PLATFORMS if not args.platform or p.name in args.platform]
    if not platforms or set(args.platform or []) - {p.name for p in PLATFORMS}:
        parser.error(f"platforms are {', '.join(repr(p.name) for p in PLATFORMS)}")
    jobs = [(py, p, REQUIREMENTS) for py in pythons for p in platforms]
    jobs += [(py, p, DEV) for py in pythons for p in platforms if p.name in DEV_PLATFORMS]
    max_age = 0.0 if args.fresh else MAX_AGE_HOURS

    started = time.monotonic()
    print(
        f"Resolving {len(jobs)} combinations from wheels only"
        f" ({args.index_url}), {args.jobs} at once"
    )
    width = max(len(p.name) for p in platforms)

    def show(r: Result, problem: str = "") -> None:
        what = problem or (
            f"{len(r.versions)} wheels, {len(r.binary)} not pure Python" if r.ok else r.problem
        )
        when = "cached" if r.cached else f"{r.seconds:.0f} s"
        mark = "ok  " if r.ok and not problem else "FAIL"
        print(
            f"{mark} Python {r.python:<5} {r.platform:<{width}}  {r.requirements:<20}"
            f" {what} ({when})",
            flush=True,
        )

    results = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(resolve, *job, args.index_url, max_age) for job in jobs]
        for future in as_completed(futures):
            results.append(future.result())
            show(results[-1])
    for key, problem in fallbacks([r for r in results if r.ok]).items():
        for r in results:
            if (r.python, r.platform, r.requirements) == key:
                show(r, problem)
                r.ok = False
    failed = [r for r in results if not r.ok]
    elapsed = time.monotonic() - started
    print(
        f"wheel check: {len(results) - len(failed)} of {len(results)} combinations install from"
        f" wheels ({sum(r.cached for r in results)} cached) in {elapsed:.0f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

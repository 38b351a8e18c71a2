"""Print repo2docker's base environment for a Python as PyPI pins, to check Binder's for conflicts.

Binder builds with repo2docker, whose image starts from a conda environment locked per Python
(`buildpacks/conda/environment.py-3.11-linux-64.lock`: JupyterLab, Notebook, JupyterHub...),
then pip-installs binder/requirements.txt over it. conda-forge is out of reach here, but the
same versions of the same packages are on PyPI, so pip can show whether the pins conflict:

    python scripts/binder_base_env.py > /tmp/base.txt      # needs requirements-dev.txt
    python3.11 -m venv /tmp/binder && /tmp/binder/bin/pip install -r /tmp/base.txt
    /tmp/binder/bin/pip install -r binder/requirements.txt && /tmp/binder/bin/pip check
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

# conda-forge names that differ from PyPI's; None: not a PyPI package (or a metapackage).
RENAMED: dict[str, str | None] = {
    "brotli-python": "brotli",
    "python-fastjsonschema": "fastjsonschema",
    "jupyterhub-base": "jupyterhub",
    "nbconvert-core": "nbconvert",
    "bleach-with-css": None,
    "jsonschema-with-format-nongpl": None,
    "jupyterhub-singleuser": None,
    "nodejs": None,
    "pip": None,
    "python": None,
    "python_abi": None,
    "setuptools": None,
    "wheel": None,
}


def lock_file(python: str) -> Path:
    """repo2docker's lock for that Python, from the installed jupyter-repo2docker."""
    spec = importlib.util.find_spec("repo2docker")
    if spec is None or spec.origin is None:
        sys.exit("jupyter-repo2docker is not installed: pip install -r requirements-dev.txt")
    return (
        Path(spec.origin).parent / "buildpacks" / "conda" / f"environment.py-{python}-linux-64.lock"
    )


def pypi_pins(lock: Path) -> dict[str, str]:
    """Python packages of a conda lock (builds `py*`), under their PyPI names."""
    pins: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        if not line.startswith("http"):
            continue
        filename = re.sub(r"\.(conda|tar\.bz2)$", "", line.split("#")[0].rsplit("/", 1)[1])
        name, version, build = filename.rsplit("-", 2)
        if not build.startswith("py"):
            continue  # a C library, a compiler runtime, nodejs...
        pypi = RENAMED.get(name, name.replace("_", "-"))
        if pypi is not None:
            pins[pypi] = version
    return pins


if __name__ == "__main__":
    runtime = Path(__file__).resolve().parent.parent / "binder" / "runtime.txt"
    python = sys.argv[1] if len(sys.argv) > 1 else runtime.read_text().strip().split("-")[1]
    for name, version in sorted(pypi_pins(lock_file(python)).items()):
        print(f"{name}=={version}")

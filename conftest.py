"""Makes the suite's start cheap: bytecode is cached, and nbval loads once an import of
jsonschema's is made cheap (pyproject: `-p no:nbval`).

Python caches compiled modules (and pytest its rewritten test modules) unless
PYTHONDONTWRITEBYTECODE is set, as it is on some CI and container images. The suite starts
eight workers and some twenty kernels, and each would then compile labkit and the tests again:
with the caches, a cold run of the suite without the browser tests took 82 s and 144 s of CPU
on 2 cores, without them 91 s and 157 s. So the suite writes them (`__pycache__/` is ignored by
git), for this process and every process it starts.

nbval imports nbformat, which imports jsonschema, which builds 39 parsers for the "iri" formats
at import when rfc3987-syntax is installed (Jupyter's event schemas want it): 1.8 s of CPU in
each of pytest's seven processes, about a tenth of the suite's start, for formats that no
notebook's schema uses. Without the module, jsonschema skips those two formats, as it is
documented to. A plugin named in `addopts` loads too late for this (nbval's entry point is
imported first), so nbval is loaded from here instead.
"""

import os
import sys

os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

pytest_plugins = ["nbval.plugin"]

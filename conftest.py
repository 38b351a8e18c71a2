"""Loads nbval once an import of jsonschema's is made cheap (pyproject: `-p no:nbval`).

nbval imports nbformat, which imports jsonschema, which builds 39 parsers for the "iri" formats
at import when rfc3987-syntax is installed (Jupyter's event schemas want it): 1.8 s of CPU in
each of pytest's seven processes, about a tenth of the suite's start, for formats that no
notebook's schema uses. Without the module, jsonschema skips those two formats, as it is
documented to. A plugin named in `addopts` loads too late for this (nbval's entry point is
imported first), so nbval is loaded from here instead.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

pytest_plugins = ["nbval.plugin"]

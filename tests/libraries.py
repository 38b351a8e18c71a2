"""Which library `import httpx` gives this test run: httpx, or httpx2 under the alias.

`OPEN_ONCE_HTTPX=httpx2` (read at the top of tests/conftest.py) runs labkit's tests with
`httpx2.alias_httpx()`. A test of behaviour that only httpx 0.x (httpcore 1.0.9) has carries
`httpx_only(...)`, naming the difference; tests/test_compare.py asserts what httpx2 does instead.
"""

from __future__ import annotations

import httpx
import pytest

ON_HTTPX2 = httpx.__name__ == "httpx2"


def httpx_only(difference: str) -> pytest.MarkDecorator:
    """Skip under the alias: `difference` says what httpx2 does instead."""
    return pytest.mark.skipif(
        ON_HTTPX2,
        reason=f"httpx 0.x / httpcore 1.0.9 only: {difference} (see tests/test_compare.py)",
    )

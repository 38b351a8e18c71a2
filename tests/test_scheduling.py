"""The workers get each module's tests spread over the run, not side by side."""

from __future__ import annotations

from tests.scheduling import interleaved, scope_of


def test_each_modules_tests_are_spread_over_the_queue_after_the_notebooks() -> None:
    checks = [f"tests/test_checks.py::test_{n}" for n in range(4)]
    pool = [f"tests/test_pool.py::test_{n}" for n in range(2)]
    notebooks = ["notebooks/01.ipynb", "notebooks/02.ipynb"]
    order = interleaved(notebooks + checks + pool)
    assert order[:2] == notebooks  # the scopes of many tests first, as xdist sorted them
    assert sorted(order) == sorted(notebooks + checks + pool)  # nothing lost or repeated
    # 4 checks at 1/8, 3/8, 5/8, 7/8 of the way; 2 pool tests at 1/4 and 3/4; in file order.
    assert order[2:] == [checks[0], pool[0], checks[1], checks[2], pool[1], checks[3]]


def test_a_lone_module_keeps_its_order() -> None:
    scopes = [f"tests/test_a.py::test_{n}" for n in range(5)]
    assert interleaved(scopes) == scopes


def test_a_notebook_a_class_and_a_file_kept_together_are_one_scope_each() -> None:
    together = ("tests/test_browser.py",)
    assert scope_of("notebooks/01.ipynb::Cell 3", together) == "notebooks/01.ipynb"
    assert scope_of("tests/test_browser.py::test_x[01]", together) == "tests/test_browser.py"
    cls = "tests/test_relay.py::TestFidelity::test_first[HTTP]"
    assert scope_of(cls, together) == "tests/test_relay.py::TestFidelity"
    assert (
        scope_of("tests/test_relay.py::test_bytes", together) == "tests/test_relay.py::test_bytes"
    )
    odd = "tests/test_a.py::test_b[x::y]"  # "::" in a parameter's id: not a class
    assert scope_of(odd, together) == odd


def test_the_relays_timing_tests_go_last() -> None:
    relay = [f"tests/test_server_relay.py::test_{n}" for n in range(2)]
    others = [f"tests/test_zoo.py::test_{n}" for n in range(3)]
    assert interleaved(relay + others) == others + relay

"""Shared fixtures: the toy assignment used by the grader's own tests, and the test cache.

The suite keeps its answer keys in a cache of its own (``$DLGRADE_TEST_CACHE``,
default ``~/.cache/dlgrade-tests``), never the user's ``$DLGRADE_CACHE``, so a
test run cannot poison the keys a TA grades with (nor the other way round).
Tests that need the sandbox's namespaces are skipped, with the reason, on a
machine without bubblewrap.
"""
from __future__ import annotations

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `pytest -n 2` (make test, CI): one BLAS thread per test process (and the dlgrade processes it starts), so
    # two workers use the two cores instead of oversubscribing them (a 5000-iteration backprop run took 3x longer
    # with two 2-thread BLAS pools on 2 cores). Set before numpy is imported.
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import inspect  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from helpers import TOY, replace_function, write_notebook  # noqa: E402,F401 - shared with the test modules

sys.path.insert(0, str(TOY))
os.environ["DLGRADE_CACHE"] = os.environ.get("DLGRADE_TEST_CACHE",
                                             str(Path.home() / ".cache" / "dlgrade-tests"))
os.environ.pop("DLGRADE_COURSE", None)  # the checkout's own course


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test that grades with isolation is skipped, not failed, where bubblewrap is missing."""
    from grader.sandbox import IsolationUnavailable

    try:
        return (yield)
    except IsolationUnavailable as exc:
        pytest.skip(f"needs the sandbox's namespaces layer: {exc}")


@pytest.fixture(scope="session")
def toy_rubric():
    from grader.rubric import load_rubric

    return load_rubric(TOY / "toy.yaml")


@pytest.fixture(scope="session")
def toy_source() -> str:
    import toyref

    return inspect.getsource(toyref)

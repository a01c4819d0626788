"""Shared fixtures: the toy assignment used by the grader's own tests, and the test cache.

The suite keeps its answer keys in a cache of its own (``$DLGRADE_TEST_CACHE``,
default ``~/.cache/dlgrade-tests``), never the user's ``$DLGRADE_CACHE``, so a
test run cannot poison the keys a TA grades with (nor the other way round).
Tests that need the sandbox's namespaces are skipped, with the reason, on a
machine without bubblewrap.
"""
from __future__ import annotations

import inspect
import os
import sys
from pathlib import Path

import nbformat
import pytest

TOY = Path(__file__).parent / "fixtures" / "toy"
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


def write_notebook(path: Path, cells: list[str], markdown: dict[int, str] | None = None) -> Path:
    """A notebook whose code cells are ``cells`` (strings)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    for i, text in (markdown or {}).items():
        nb.cells.insert(i, nbformat.v4.new_markdown_cell(text))
    path.write_text(nbformat.writes(nb))
    return path


def replace_function(source: str, name: str, new_def: str) -> str:
    """``source`` with top-level function ``name`` replaced by ``new_def``."""
    import ast

    tree = ast.parse(source)
    node = next(n for n in tree.body if getattr(n, "name", None) == name)
    lines = source.splitlines(keepends=True)
    end = node.end_lineno
    while end < len(lines) and lines[end].strip().startswith("### END SOLUTION"):
        end += 1
    return "".join(lines[: node.lineno - 1]) + new_def.rstrip() + "\n" + "".join(lines[end:])

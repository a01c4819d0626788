"""The bundled example class is generated from the reference and stays in step with it."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from grader.rubric import rubric_paths

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))


@pytest.mark.parametrize("assignment", [p.stem for p in rubric_paths()])
def test_examples_up_to_date(assignment, tmp_path):
    import make_examples

    for fresh in make_examples.make(assignment, tmp_path):
        committed = ROOT / "examples" / assignment / fresh.name
        assert committed.exists() and committed.read_text() == fresh.read_text(), \
            f"{committed} is out of date: run `python examples/make_examples.py`"

"""The authoring guide is true: its tables come from the registries, its rubric example loads."""
from __future__ import annotations

import re

import yaml

from grader.authoring import docs
from grader.rubric import Rubric
from grader.rubric.schema import Case, Check

TEXT = docs.DOC.read_text()


def test_generated_tables_are_current():
    assert docs.render(TEXT) == TEXT, "docs/authoring.md is out of date: run `python -m grader.authoring.docs`"
    for name in docs.tables():
        assert f"<!-- generated: {name} -->" in TEXT
    for kind in ("allclose", "band", "predicate", "train_loop_pattern", "log_slope", "rng", "tensor", "dict"):
        assert f"`{kind}`" in TEXT


def _yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", TEXT, re.S)


def test_rubric_example_validates():
    """The guide's full rubric example is a valid rubric (its `...` placeholders filled in)."""
    block = next(b for b in _yaml_blocks() if b.lstrip().startswith("assignment:"))
    raw = yaml.safe_load(block.replace("  ...\n", "  text\n"))
    rubric = Rubric.model_validate(raw)
    assert [i.id for i in rubric.items] == ["D1", "D3-proof"] and rubric.items[1].manual


def test_steps_and_comparison_examples_validate():
    blocks = _yaml_blocks()
    steps = yaml.safe_load(next(b for b in blocks if b.lstrip().startswith("cases:")))
    for case in steps["cases"]:
        Case.model_validate(case)
    comparison = yaml.safe_load(next(b for b in blocks if b.lstrip().startswith("select:")))
    comparison["expected"] = "reference"  # the example lists the three forms in a comment
    Check.model_validate({"name": "c", "function": "f", "cases": [{"args": [1]}], **comparison})

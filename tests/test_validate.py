"""`dlgrade validate` on every assignment: reference 100 %, skeleton 0, mutants caught and named."""
from __future__ import annotations

import pytest

from grader.rubric import get_rubric, rubric_paths
from grader.authoring.validate import validate

# torch-heavy assignments: every sandboxed run imports torch (~2 s each)
SLOW = {"dln-dynamics", "linear-deep-learning", "backprop"}
ASSIGNMENTS = [pytest.param(p.stem, marks=pytest.mark.slow) if p.stem in SLOW else p.stem
               for p in rubric_paths()]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate(assignment):
    findings = validate(get_rubric(assignment))
    bad = [f"{f.what}: {f.detail}" for f in findings if not f.ok]
    assert not bad, "\n".join(bad)
    assert any(f.what.startswith("mutant ") for f in findings), "no mutants for this assignment"


def test_validate_toy(toy_rubric, tmp_path, monkeypatch):
    from grader.authoring import skeleton

    monkeypatch.setattr(skeleton, "skeleton_dir", lambda: tmp_path)
    skeleton.write(toy_rubric)
    findings = {f.what: f for f in validate(toy_rubric)}
    assert all(f.ok for f in findings.values()), [f for f in findings.values() if not f.ok]
    assert findings["mutant tick__ignores_k"].detail.startswith("caught and named")

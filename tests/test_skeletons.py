"""Skeletons are generated from the reference; the committed ones must match."""
from __future__ import annotations

import pytest

from grader.authoring import skeleton
from grader.rubric import get_rubric, rubric_paths

ASSIGNMENTS = [p.stem for p in rubric_paths()]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_skeleton_is_generated(assignment):
    rubric = get_rubric(assignment)
    path = skeleton.skeleton_path(rubric)
    assert path.exists(), f"missing {path}; run `dlgrade skeleton {assignment}`"
    assert path.read_text() == skeleton.render(rubric), \
        f"{path} differs from the generator; run `dlgrade skeleton {assignment}` and commit"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_skeleton_has_no_solution_code(assignment):
    rubric = get_rubric(assignment)
    text = skeleton.render(rubric)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert "reference." not in text.replace("reference solution", "")


def test_strip_solutions_keeps_signature_and_docstring(toy_rubric):
    nb = skeleton.build_notebook(toy_rubric)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert 'def double(x):\n    """Twice ``x`` (any array)."""\n    # YOUR CODE HERE\n    raise NotImplementedError()' in code
    assert "_private_helper" not in code and "2.0 * np.asarray(x)" not in code
    assert "SCALE = np.array([0.5, 2.0, 3.0])" in code
    answer = [c for c in nb.cells if c.metadata.get("dlgrade", {}).get("item") == "T5"]
    assert answer and answer[0].cell_type == "markdown"


def test_unbalanced_markers_are_an_error():
    with pytest.raises(ValueError, match="no matching"):
        skeleton.strip_solutions("def f():\n    ### BEGIN SOLUTION\n    return 1\n")

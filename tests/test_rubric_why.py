"""Every tolerance says why it is what it is (issue 13): each ``compare`` of a rubric has a ``why``.

The reason is the precision the sheet asks for, or what a correct method of
the kind the sheet suggests reaches (measured), whichever is looser; for a
comparison without a tolerance (integers, strings, shapes, a property, a
calibrated band) it says so. A new check without one fails here.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.rubric import load_rubric, rubric_paths

RUBRICS = Path(__file__).resolve().parents[1] / "rubrics"

# Rubrics exempt from the rule (none: every rubric complies; a new rubric must too).
PENDING: set[str] = set()


def _checks_without_why(path: Path) -> list[str]:
    rubric = load_rubric(path)
    return [f"{item.id} / {check.name} ({check.compare.kind})"
            for item in rubric.items for check in (item.checks or [])
            if not (check.compare.why or "").strip()]


@pytest.mark.parametrize("path", [p for p in rubric_paths(RUBRICS) if p.stem not in PENDING], ids=lambda p: p.stem)
def test_every_compare_has_a_why(path):
    assert _checks_without_why(path) == []


def test_the_rule_covers_the_rubrics_of_issue_13():
    covered = {p.stem for p in rubric_paths(RUBRICS)} - PENDING
    assert {"dln-dynamics", "linear-deep-learning", "backprop", "learning-time", "signal-propagation"} <= covered

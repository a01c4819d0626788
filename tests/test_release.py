"""The student bundle: same verdicts as the TA's check, and nothing secret inside."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.pipeline import Options, grade_file
from grader.authoring.release import build
from grader.rubric import get_rubric

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "signal-propagation"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build(get_rubric("signal-propagation"), tmp_path_factory.mktemp("bundle"))


def test_bundle_holds_no_solution_and_no_hidden_item(bundle):
    rubric = get_rubric("signal-propagation")
    hidden = {i.id for i in rubric.items if i.visibility == "hidden"}
    data = json.loads((bundle / "selfcheck.json").read_text())
    assert {i["id"] for i in data["items"]}.isdisjoint(hidden)
    assert all(i["visibility"] == "public" for i in data["items"])
    assert not (bundle / "dlgrade_selfcheck" / "reference").exists()
    shipped = {p.name for p in (bundle / "dlgrade_selfcheck" / "grader").iterdir()}
    assert not shipped & {"authoring", "course", "batch", "templates"}, shipped
    assert not list((bundle / "dlgrade_selfcheck").rglob("*.yaml"))  # no rubric travels with the grader
    for f in bundle.rglob("*"):
        if f.is_file() and f.suffix in (".py", ".json", ".ipynb"):
            text = f.read_text()
            assert "### BEGIN SOLUTION" not in text or f.name == "skeleton.py", f
            assert "model_answer" not in text or f.suffix == ".py", f
    for call in data["calls"]:
        assert call["id"] in {c for i in data["items"] for ch in i["checks"] for c in ch["calls"]}


@pytest.mark.parametrize("student", ["alice", "bob", "carol", "dave"])
def test_bundle_check_agrees_with_the_grader(bundle, student):
    nb = EXAMPLES / f"{student}.ipynb"
    ta = grade_file(nb, "signal-propagation", opts=Options(public_only=True, unsafe=True))
    out = subprocess.run([sys.executable, "-I", "check.py", str(nb), "--json"], cwd=bundle,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    got = {i["item_id"]: (round(i["points"], 9), i["status"]) for i in res["items"]}
    want = {i.item_id: (round(i.points, 9), i.status) for i in ta.items}
    assert got == want
    mistakes = sorted(m for i in res["items"] for c in i["checks"] for m in [c["mistake"]] if m)
    assert mistakes == sorted(m for i in ta.items for m in i.mistakes)

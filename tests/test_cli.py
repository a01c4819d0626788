"""The `dlgrade` command end to end (subprocesses, as a user runs it)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DLGRADE = [sys.executable, "-m", "grader.cli"]


def run(*args, **kw):
    return subprocess.run([*DLGRADE, *args], capture_output=True, text=True, cwd=ROOT, **kw)


def test_list_json():
    out = run("list", "--json")
    assert out.returncode == 0, out.stderr
    data = {a["assignment"]: a for a in json.loads(out.stdout)}
    assert "signal-propagation" in data
    assert any(i["manual"] for i in data["signal-propagation"]["items"])


def test_check_skeleton_runs_and_scores_zero():
    out = run("check", "skeletons/signal-propagation.ipynb", "--json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["error"] is None
    auto = [i for i in res["items"] if i["status"] != "manual"]
    assert auto and all(i["points"] == 0 for i in auto)
    assert all(i["visibility"] == "public" for i in res["items"])
    assert any("not implemented yet" in i["message"] for i in auto)


def test_check_table_output():
    out = run("check", "skeletons/signal-propagation.ipynb")
    assert out.returncode == 0 and "score 0 /" in out.stdout and "Public items only" in out.stdout


def test_grade_folder_writes_csv(tmp_path):
    import shutil

    cls = tmp_path / "class"
    cls.mkdir()
    shutil.copy(ROOT / "skeletons" / "signal-propagation.ipynb", cls / "zoe.ipynb")
    (cls / "yan.ipynb").write_text("{ broken")
    (cls / "xia").mkdir()
    out = run("grade", str(cls), "-a", "signal-propagation", "--out", str(tmp_path / "r.csv"),
              "--json", str(tmp_path / "r.jsonl"))
    assert out.returncode == 0, out.stderr
    import csv

    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "r.csv"))}
    assert set(rows) == {"zoe", "yan", "xia"}
    assert rows["zoe"]["total"] == "0" and "not valid JSON" in rows["yan"]["error"]
    assert "no .ipynb or .py file" in rows["xia"]["error"]
    assert len(open(tmp_path / "r.jsonl").read().splitlines()) == 3


def test_unknown_assignment_is_a_clear_error():
    out = run("grade", ".", "-a", "nope")
    assert out.returncode == 2 and "no rubric for assignment 'nope'" in out.stderr


@pytest.mark.slow
def test_demo(tmp_path):
    """The demo grades every example as its name promises: alice full, bob's two mistakes named, carol 0, dave unreadable."""
    sys.path.insert(0, str(ROOT / "examples"))
    import make_examples

    from grader.rubric import get_rubric, rubric_paths

    out = run("demo", "--out", str(tmp_path / "demo"))
    assert out.returncode == 0, out.stderr
    for assignment in [p.stem for p in rubric_paths()]:
        rows = {r["student"]: r for r in map(json.loads, open(tmp_path / "demo" / f"{assignment}.jsonl"))}
        assert {"alice", "bob", "carol", "dave"} <= set(rows), assignment
        auto_max = sum(i["max_points"] for i in rows["alice"]["items"] if i["status"] != "manual")
        assert auto_max > 0
        for good in ("alice", "eve"):
            if good in rows:
                assert _score(rows[good]) == pytest.approx(auto_max), (assignment, good, _failed(rows[good]))
        named = {(i["item_id"], c["mistake"]) for i in rows["bob"]["items"] for c in i["checks"] if c["mistake"]}
        expected = {(m.item, m.name) for m in make_examples.bob_mistakes(get_rubric(assignment))}
        assert len(expected) == 2 and expected <= named, (assignment, expected, named)
        assert 0 < _score(rows["bob"]) < auto_max
        assert _score(rows["carol"]) == 0 and rows["carol"]["error"] is None
        assert _score(rows["dave"]) == 0 and "not valid JSON" in rows["dave"]["error"]
        assert (tmp_path / "demo" / assignment / "index.html").exists()


def _score(row):
    return sum(i["points"] for i in row["items"] if i["status"] != "manual")


def _failed(row):
    return [(i["item_id"], i["message"]) for i in row["items"] if i["status"] not in ("passed", "manual")]

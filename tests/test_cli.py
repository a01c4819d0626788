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
    assert rows["zoe"]["score"] == "0" and "not valid JSON" in rows["yan"]["error"]
    assert "no .ipynb or .py file" in rows["xia"]["error"]
    assert len(open(tmp_path / "r.jsonl").read().splitlines()) == 3


def test_unknown_assignment_is_a_clear_error():
    out = run("grade", ".", "-a", "nope")
    assert out.returncode == 2 and "no rubric for assignment 'nope'" in out.stderr


@pytest.mark.slow
def test_demo(tmp_path):
    out = run("demo", "--out", str(tmp_path / "demo"))
    assert out.returncode == 0, out.stderr
    assert list((tmp_path / "demo").glob("*.csv"))

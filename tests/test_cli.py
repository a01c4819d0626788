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


# ----------------------------------------------------------------------------
# output for people and scripts: 80 columns, piped, rounded points


def _class(tmp_path, *names):
    import shutil

    cls = tmp_path / "class"
    cls.mkdir()
    for n in names:
        shutil.copy(ROOT / "examples" / "signal-propagation" / f"{n}.ipynb", cls / f"{n}.ipynb")
    return cls


def _columns(n):
    import os

    return {**os.environ, "COLUMNS": str(n)}


def _readable(text, width):
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    assert "…" not in text and "..." not in text.replace("(`...`)", "")


def test_tables_are_readable_at_80_columns_and_piped(tmp_path):
    """bob's D1 is 0.547619 of 4 points: shown as 0.55, never cut to '0.5…'; the CSV keeps 0.547619."""
    cls = _class(tmp_path, "alice", "bob")
    out = run("grade", str(cls), "-a", "signal-propagation", "--out", str(tmp_path / "r.csv"), env=_columns(80))
    assert out.returncode == 0, out.stderr
    _readable(out.stdout, 80)
    import csv

    bob = next(r for r in csv.DictReader(open(tmp_path / "r.csv")) if r["student"] == "bob")
    exact = float(bob["D1"])
    assert exact != round(exact, 2) and f"D1:{round(exact, 2):g}/4" in out.stdout  # the long format
    assert "still to be marked by a TA" in out.stdout
    wide = run("grade", str(cls), "-a", "signal-propagation", env=_columns(200))
    assert wide.returncode == 0 and "/4 D2:" not in wide.stdout and " D7 " in wide.stdout  # item columns
    _readable(wide.stdout, 200)
    check = run("check", str(cls / "bob.ipynb"), env=_columns(80))
    assert check.returncode == 0
    _readable(check.stdout, 80)
    assert f"{round(exact, 2):g}/4" in check.stdout


def _one_line_error(out, code, *words):
    assert out.returncode == code, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr + out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlgrade: "), out.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_check_a_missing_file(tmp_path):
    for args in ((), ("-a", "signal-propagation")):
        _one_line_error(run("check", str(tmp_path / "nothere.ipynb"), *args), 2, "nothere.ipynb does not exist")


def test_check_a_corrupt_notebook(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{ broken")
    for args in ((), ("-a", "signal-propagation")):
        _one_line_error(run("check", str(bad), *args), 2, "broken.ipynb is not a notebook", "not valid JSON")


def test_a_notebook_of_another_assignment_is_warned_about_in_the_table_and_the_csv(tmp_path):
    import csv
    import shutil

    cls = tmp_path / "class"
    cls.mkdir()
    shutil.copy(ROOT / "skeletons" / "learning-time.ipynb", cls / "zoe.ipynb")
    # 160 columns: the table has 9 item columns (D4-figure, D7-figure), the warning must fit on one line
    out = run("grade", str(cls), "-a", "signal-propagation", "--out", str(tmp_path / "r.csv"), env=_columns(160))
    assert out.returncode == 0, out.stderr
    assert "WRONG ASSIGNMENT? the notebook says learning-time" in out.stdout
    (row,) = csv.DictReader(open(tmp_path / "r.csv"))
    assert row["warnings"].startswith("WRONG ASSIGNMENT? this notebook's metadata says it is learning-time")
    check = run("check", str(cls / "zoe.ipynb"), "-a", "signal-propagation", env=_columns(200))
    assert "WRONG ASSIGNMENT? this notebook's metadata says learning-time" in check.stdout


def test_grade_with_an_unknown_item_fails_before_grading(tmp_path):
    cls = _class(tmp_path, "alice")
    out = run("grade", str(cls), "-a", "signal-propagation", "--item", "D1", "--item", "D99")
    _one_line_error(out, 2, "signal-propagation has no item D99", "items: D0, D1")
    assert not (tmp_path / "signal-propagation.gradebook.sqlite").exists()


def test_out_into_a_missing_folder(tmp_path):
    cls = _class(tmp_path, "alice")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for flag, target in (("--out", blocker / "r.csv"), ("--json", blocker / "r.jsonl"), ("--report", blocker)):
        out = run("grade", str(cls), "-a", "signal-propagation", flag, str(target))
        _one_line_error(out, 2)
        assert not (tmp_path / "signal-propagation.gradebook.sqlite").exists(), flag  # failed before grading
    deep = tmp_path / "new" / "deeper"
    out = run("grade", str(cls), "-a", "signal-propagation", "--out", str(deep / "r.csv"), "--report",
              str(tmp_path / "pages" / "here"))
    assert out.returncode == 0, out.stderr
    assert (deep / "r.csv").exists() and (tmp_path / "pages" / "here" / "index.html").exists()


def test_report_on_a_file_that_is_not_json_lines(tmp_path):
    csv_file = tmp_path / "grades.csv"
    csv_file.write_text("student,total\nalice,3\n")
    _one_line_error(run("report", str(csv_file), "--out", str(tmp_path / "r")), 2,
                    "grades.csv is not a JSON-lines file of results")
    odd = tmp_path / "odd.jsonl"
    odd.write_text('[1, 2]\n')
    _one_line_error(run("report", str(odd), "--out", str(tmp_path / "r")), 2, "is not a JSON-lines file")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    _one_line_error(run("report", str(empty), "--out", str(tmp_path / "r")), 2, "no results to report")
    _one_line_error(run("report", str(tmp_path / "missing.jsonl")), 2, "missing.jsonl cannot be read")
    assert not (tmp_path / "r").exists()


def test_validate_without_bubblewrap(tmp_path):
    """``bwrap`` is not on PATH: one line and exit 3 before any answer key is built, as ``grade`` does."""
    import os
    import shutil

    env = {**os.environ, "PATH": str(Path(sys.executable).parent), "DLGRADE_CACHE": str(tmp_path / "cache")}
    assert shutil.which("bwrap", path=env["PATH"]) is None
    _one_line_error(run("validate", "-a", "learning-time", env=env), 3, "bubblewrap", "--unsafe")
    assert not (tmp_path / "cache").exists()
    cls = _class(tmp_path, "alice")
    _one_line_error(run("grade", str(cls), "-a", "signal-propagation", env=env), 3, "bubblewrap")

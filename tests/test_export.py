"""Exports: each format against its specification's columns/fields, CSV safety, hidden expected values."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.pipeline.keys import key_version
from grader.export import (CANVAS_COLUMNS, MOODLE_COLUMNS, ExportError, csv_safe, csv_unsafe, export, rows,
                           student_message)
from grader.model import SubmissionResult, student_view

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


class StandInGradebook:
    """The two read methods of ``grader.batch.gradebook.Gradebook`` over plain data."""

    def __init__(self, results, marks=None):
        self._results, self._marks = results, dict(marks or {})

    def latest_results(self, assignment=None):
        return sorted((r.to_dict() for r in self._results), key=lambda d: d["student"])

    def manual_marks(self, assignment=None):
        return dict(self._marks)


def notebook(path, code, answer=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code)]
    if answer is not None:
        cell = nbformat.v4.new_markdown_cell(answer)
        cell.metadata["dlgrade"] = {"item": "T5"}
        nb.cells.append(cell)
    path.write_text(nbformat.writes(nb))
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory, toy_rubric, toy_source):
    """A toy class graded for real: 101 right, 102 a known mistake, 103 a wrong hidden item, 104 corrupt."""
    from helpers import replace_function

    from grader.pipeline import grade_file

    d = tmp_path_factory.mktemp("class")
    paths = [
        notebook(d / "101.ipynb", toy_source, "Because it doubles."),
        notebook(d / "102.ipynb", replace_function(toy_source, "double",
                                                   "def double(x):\n    return 3.0 * np.asarray(x)\n")),
        notebook(d / "103.ipynb", replace_function(toy_source, "pair",
                                                   "def pair(a, b):\n    return np.asarray(a) + b, np.asarray(a) * b + 1\n"),
                 "<b>bold</b> & =1+1"),
    ]
    (d / "104.ipynb").write_text("{")
    paths.append(d / "104.ipynb")
    return [grade_file(p, toy_rubric) for p in reversed(paths)]  # not in id order on purpose


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def auto_points(r):
    return sum(i.points for i in r.items if i.status != "manual")


def test_the_graded_class_is_what_the_tests_assume(graded):
    by = {r.student: r for r in graded}
    assert by["101"].score == 5 and by["104"].error
    assert "double__tripled" in [m for i in by["102"].items for m in i.mistakes]
    t2 = next(i for i in by["103"].items if i.item_id == "T2")
    assert t2.visibility == "hidden" and t2.status == "failed" and "expected 3" in t2.message


# ----------------------------------------------------------------------------
# cells


@pytest.mark.parametrize("value", ["=1+1", "+A1", "-2+3", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"x\")", "'=1"])
def test_csv_safe_neutralises_formulas(value):
    assert csv_safe(value) == "'" + value
    assert csv_unsafe(csv_safe(value)) == value


@pytest.mark.parametrize("value", ["-1.5", "+3", "1e-05", "-0.25", "alice", "li wei", "", "12345"])
def test_csv_safe_keeps_numbers_and_plain_text(value):
    assert csv_safe(value) == value


@given(st.text())
def test_csv_safe_never_starts_a_formula_and_round_trips(s):
    cell = csv_safe(s)
    assert csv_unsafe(cell) == s
    if cell.startswith(DANGEROUS):
        float(cell)  # only plain numbers may keep a sign


# ----------------------------------------------------------------------------
# hidden items' expected values


def test_student_message_hides_hidden_items_only(graded):
    by = {r.student: r for r in graded}
    t1 = next(i for i in by["102"].items if i.item_id == "T1")  # public: the student may see the numbers
    assert student_message(t1) == t1.message and "expected 6" in t1.message
    t2 = next(i for i in by["103"].items if i.item_id == "T2")
    assert "expected 3" in t2.message  # the TA's message
    msg = student_message(t2)
    assert "expected" not in msg and "|diff|" not in msg
    # pair([1, 2], 3) returned (a + b, a*b + 1) = ([4, 5], [4, 7]) for ([4, 5], [3, 6]): both products are 1 too
    # large; the first, 4 for 3, is 33 % too large, said as "about 30 %"
    assert msg == "pair: 2 of 4 values are wrong; the furthest off, at [1, 0], 4 is too large by about 30 %", msg


def test_student_view_of_a_result_from_json_and_of_an_older_format(graded):
    by = {r.student: r for r in graded}
    r = by["103"]
    again = student_view(SubmissionResult.from_dict(json.loads(json.dumps(r.to_dict()))))
    assert again == student_view(r) and again.key_version == "" and r.key_version
    old = r.to_dict()
    old["format"] = 2  # before hints: a hidden item says only failed, never its numbers
    for it in old["items"]:
        it.pop("hint"), it.pop("show_expected")
        for c in it["checks"]:
            c.pop("hint")
            for k in c["cases"]:
                k.pop("hint")
    t2 = next(i for i in student_view(SubmissionResult.from_dict(old)).items if i.item_id == "T2")
    assert t2.message == "not the expected result" and all(c.message == "not the expected result" for c in t2.checks)


# ----------------------------------------------------------------------------
# plain CSV


def test_plain_csv(graded, toy_rubric, tmp_path):
    gb = StandInGradebook(graded)
    out = export(gb.latest_results(), toy_rubric, "csv", tmp_path / "deep" / "results.csv")
    table = read_csv(out)
    assert table[0] == ["student", "file", "T1", "T2", "T3", "T4", "total", "max", "manual_pending", "mistakes",
                        "error", "sha256", "graded", "ignored", "warnings"]
    by = {r.student: r for r in graded}
    assert [row[0] for row in table[1:]] == ["101", "102", "103", "104"]
    for row in table[1:]:
        r = by[row[0]]
        pts = {i.item_id: i.points for i in r.items}
        assert [float(x) for x in row[2:6]] == [pts[k] for k in ("T1", "T2", "T3", "T4")]  # exact, not rounded
        assert float(row[6]) == pytest.approx(auto_points(r))
        assert float(row[7]) == sum(i.points for i in toy_rubric.items) == 7
        assert row[8] == "T5" and row[11] == r.sha256
        assert row[12] == (f"{r.student}.ipynb" if not r.error else "") and row[13] == ""
        assert row[14] == " | ".join(r.warnings)
    assert table[2][9] == "T1:double__tripled"
    assert "not valid JSON" in table[4][10] and table[1][10] == ""


def test_plain_csv_includes_manual_marks_once_entered(graded, toy_rubric, tmp_path):
    gb = StandInGradebook(graded, {("101", "T5"): {"mark": 1.5, "comment": "ok", "who": "ta", "marked_at": "t"}})
    table = read_csv(export(gb.latest_results(), toy_rubric, "csv", tmp_path / "r.csv", manual=gb.manual_marks()))
    head = table[0]
    assert head[2:7] == ["T1", "T2", "T3", "T4", "T5"]
    ann = dict(zip(head, table[1]))
    assert ann["T5"] == "1.5" and float(ann["total"]) == 5 + 1.5 and ann["manual_pending"] == ""
    ben = dict(zip(head, table[2]))
    assert ben["T5"] == "" and ben["manual_pending"] == "T5"


def test_strings_from_submissions_are_csv_safe(graded, toy_rubric, tmp_path):
    r = graded[0]
    evil = [dataclasses.replace(r, student="=HYPERLINK(\"http://x\")", path="/class/@SUM(A1).ipynb",
                                error="-2+3 cmd|' /C calc'!A0"),
            dataclasses.replace(r, student="+plain", path="\tx.ipynb")]
    table = read_csv(export(evil, toy_rubric, "csv", tmp_path / "r.csv"))
    cells = [c for row in table[1:] for c in row]
    assert "'=HYPERLINK(\"http://x\")" in cells and "'/class/@SUM(A1).ipynb" not in cells
    for c in cells:
        assert not c.startswith(DANGEROUS) or float(c) is not None, c


def test_a_student_id_twice_is_refused(graded, toy_rubric, tmp_path):
    with pytest.raises(ExportError, match="appears twice"):
        export([graded[0], graded[0]], toy_rubric, "csv", tmp_path / "r.csv")


def test_unknown_format(graded, toy_rubric, tmp_path):
    with pytest.raises(ExportError, match="csv, canvas, gradescope, moodle"):
        export(graded, toy_rubric, "xlsx", tmp_path / "r")


# ----------------------------------------------------------------------------
# Canvas


def test_canvas_import_csv(graded, toy_rubric, tmp_path):
    gb = StandInGradebook(graded, {("103", "T5"): {"mark": 2, "comment": "", "who": "ta", "marked_at": "t"}})
    table = read_csv(export(gb.latest_results(), toy_rubric, "canvas", tmp_path / "canvas.csv",
                            manual=gb.manual_marks(), assignment_id=4242))
    # Canvas's gradebook import: the five student columns, then "Assignment name (assignment id)"
    assert tuple(table[0][:5]) == CANVAS_COLUMNS == ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
    assert table[0][5] == "Toy assignment (4242)" and len(table[0]) == 6
    assert table[1][0] == "Points Possible" and float(table[1][5]) == 7
    by = {r.student: r for r in graded}
    body = table[2:]
    assert [row[1] for row in body] == ["101", "102", "103", "104"]
    for row in body:
        want = auto_points(by[row[1]]) + (2 if row[1] == "103" else 0)
        assert float(row[5]) == pytest.approx(want) and row[2] == row[3] == ""


def test_canvas_ids(graded, toy_rubric, tmp_path):
    named = [dataclasses.replace(r, student=f"s{r.student}") for r in graded]
    with pytest.raises(ExportError, match="not Canvas user ids"):
        export(named, toy_rubric, "canvas", tmp_path / "c.csv")
    table = read_csv(export(named, toy_rubric, "canvas", tmp_path / "c.csv", id_column="SIS Login ID"))
    assert table[0][5] == "Toy assignment"  # no assignment id: Canvas creates the assignment
    assert [row[3] for row in table[2:]] == ["s101", "s102", "s103", "s104"] and all(row[1] == "" for row in table[2:])


# ----------------------------------------------------------------------------
# Moodle


def test_moodle_grading_worksheet(graded, toy_rubric, tmp_path):
    marks = {("103", "T5"): {"mark": 1, "comment": "Half right <but> see p. 2", "who": "ta", "marked_at": "t"}}
    table = read_csv(export(graded, toy_rubric, "moodle", tmp_path / "moodle.csv", manual=marks))
    assert tuple(table[0]) == MOODLE_COLUMNS
    # the columns Moodle's importer (assignfeedback_offline) looks up by name
    for col in ("Identifier", "Grade", "Last modified (grade)", "Feedback comments"):
        assert col in table[0]
    rows_ = [dict(zip(table[0], row)) for row in table[1:]]
    assert [r["Identifier"] for r in rows_] == ["Participant 101", "Participant 102", "Participant 103",
                                                "Participant 104"]
    by = {r.student: r for r in graded}
    for r in rows_:
        sid = r["Identifier"].split()[1]
        assert float(r["Grade"]) == pytest.approx(auto_points(by[sid]) + (1 if sid == "103" else 0))
        assert float(r["Maximum Grade"]) == 7
        assert dt.datetime.fromisoformat(r["Last modified (grade)"]).tzinfo is not None
    fb103 = rows_[2]["Feedback comments"]
    assert "T2 Pairs: 0/1 failed" in fb103 and "expected" not in fb103 and "|diff|" not in fb103
    assert "Half right &lt;but&gt; see p. 2" in fb103 and "<but>" not in fb103
    assert "<br>" in fb103 and "\n" not in fb103
    assert "expected 6" in rows_[1]["Feedback comments"]  # T1 is public: the numbers stay
    assert "Not graded:" in rows_[3]["Feedback comments"]


def test_moodle_needs_participant_numbers(graded, toy_rubric, tmp_path):
    with pytest.raises(ExportError, match="participant numbers"):
        export([dataclasses.replace(graded[0], student="alice")], toy_rubric, "moodle", tmp_path / "m.csv")


# ----------------------------------------------------------------------------
# Gradescope

SPEC_TOP = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
            "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
SPEC_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data"}
VISIBILITY = {"visible", "hidden", "after_due_date", "after_published"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def check_gradescope(doc):
    """The fields and values the Gradescope autograder specification allows."""
    assert set(doc) <= SPEC_TOP and isinstance(doc["tests"], list)
    assert isinstance(doc["score"], (int, float)) and doc.get("output_format", "text") in FORMATS
    assert doc.get("stdout_visibility", "hidden") in VISIBILITY
    for t in doc["tests"]:
        assert set(t) <= SPEC_TEST and {"name", "score", "max_score", "output", "visibility"} <= set(t)
        assert t["visibility"] in VISIBILITY and t.get("status", "passed") in ("passed", "failed")
        assert t.get("output_format", "text") in FORMATS
        assert isinstance(t["score"], (int, float)) and isinstance(t["max_score"], (int, float))


def test_gradescope_results_json(graded, toy_rubric, tmp_path):
    marks = {("101", "T5"): {"mark": 2, "comment": "Well argued.", "who": "ta", "marked_at": "t"}}
    out = export(graded, toy_rubric, "gradescope", tmp_path / "gs", manual=marks)
    files = sorted(out.glob("*/results.json"))
    assert [f.parent.name for f in files] == ["101", "102", "103", "104"]
    by = {r.student: r for r in graded}
    for f in files:
        doc = json.loads(f.read_text())
        check_gradescope(doc)
        r = by[f.parent.name]
        tests = {t["number"]: t for t in doc["tests"]}
        assert doc["score"] == pytest.approx(sum(t["score"] for t in doc["tests"]))
        assert doc["score"] == pytest.approx(auto_points(r) + (2 if r.student == "101" else 0))
        assert tests["T1"]["visibility"] == "visible" and tests["T2"]["visibility"] == "after_published"
        assert ("T5" in tests) == (r.student == "101")
        assert doc["execution_time"] == pytest.approx(r.seconds, abs=1e-3)
    d103 = {t["number"]: t for t in json.loads((out / "103" / "results.json").read_text())["tests"]}
    assert d103["T2"]["status"] == "failed" and "expected" not in d103["T2"]["output"]
    assert "4 is too large by about 30 %" in d103["T2"]["output"]
    d101 = {t["number"]: t for t in json.loads((out / "101" / "results.json").read_text())["tests"]}
    assert d101["T5"] == {**d101["T5"], "score": 2, "max_score": 2, "status": "passed", "output": "Well argued."}
    assert "Not graded:" in json.loads((out / "104" / "results.json").read_text())["output"]


def test_gradescope_folders_never_collide(graded, toy_rubric, tmp_path):
    r = graded[0]
    people = [dataclasses.replace(r, student=s) for s in ("li wei", "li_wei", "Li Wei", "index", "..", "a/b")]
    out = export(people, toy_rubric, "gradescope", tmp_path / "gs")
    dirs = [p.parent for p in out.glob("*/results.json")]
    assert len(dirs) == 6 and all(d.parent == out for d in dirs)


def test_rows_from_dicts_and_results_agree(graded, toy_rubric):
    a = rows(graded, toy_rubric)
    b = rows([r.to_dict() for r in graded], toy_rubric)
    assert [(x.student, x.total, x.max, x.pending) for x in a] == [(x.student, x.total, x.max, x.pending) for x in b]


def test_exports_from_the_real_gradebook(graded, toy_rubric, tmp_path):
    """The same files from the SQLite gradebook as from the stand-in (runs once branch ``batch`` is in)."""
    from grader.batch import gradebook
    from grader.manual import export_manual, import_marks
    from grader.report import write_reports

    with gradebook.Gradebook.open(tmp_path / "class.gradebook.sqlite") as gb:
        gb.acquire_writer()
        run = gb.start_run("toy", key_version(toy_rubric), grader_version="test", layers=[], options={})
        for r in graded:
            gb.record(run, {"student_id": r.student, "path": r.path, "sha256": r.sha256 or "-", "size": 1,
                            "mtime": 0.0}, r.to_dict())
        gb.finish_run(run)
        sheet = export_manual(gb.latest_results("toy"), toy_rubric, tmp_path / "manual",
                              marks=gb.manual_marks("toy"))
        table = read_csv(sheet)
        table[2][3:] = ["1.5", "fine", "ta"]
        with open(sheet, "w", newline="") as f:
            csv.writer(f).writerows(table)
        gb.set_manual_marks(import_marks(sheet, toy_rubric, gb.students()))
        marks = gb.manual_marks("toy")
        assert {k: v["mark"] for k, v in marks.items()} == {("102", "T5"): 1.5}
        for fmt in ("csv", "canvas", "moodle"):
            stand_in = StandInGradebook(graded, marks)
            a = export(gb.latest_results("toy"), toy_rubric, fmt, tmp_path / f"gb.{fmt}", manual=marks, **(
                {"now": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)} if fmt == "moodle" else {}))
            b = export(stand_in.latest_results(), toy_rubric, fmt, tmp_path / f"si.{fmt}",
                       manual=stand_in.manual_marks(), **(
                {"now": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)} if fmt == "moodle" else {}))
            assert a.read_text() == b.read_text(), fmt
        index = write_reports(gb.latest_results("toy"), toy_rubric, tmp_path / "report", manual=marks,
                              with_reference_figures=False)
        assert "1.5" in (tmp_path / "report" / "102.html").read_text() and index.exists()

"""Manual items: review pages, the marks sheet, and its import (checked whole before anything is merged)."""
from __future__ import annotations

import csv
import dataclasses

import pytest
from test_export import graded, read_csv  # noqa: F401 - the graded toy class fixture

from grader.export import export
from grader.manual import COLUMNS, ManualMarksError, export_manual, import_marks


class StandInGradebook:
    """``latest_results``, ``manual_marks`` and an all-or-nothing ``set_manual_marks``, in memory."""

    def __init__(self, results):
        self._results, self.marks = results, {}

    def latest_results(self, assignment=None):
        return sorted((r.to_dict() for r in self._results), key=lambda d: d["student"])

    def manual_marks(self, assignment=None):
        return dict(self.marks)

    def set_manual_marks(self, rows):
        new = dict(self.marks)
        for r in rows:
            if not {"student_id", "item_id", "mark", "comment", "who"} <= set(r):
                raise ValueError(f"incomplete row {r}")
            new[(r["student_id"], r["item_id"])] = {"mark": r["mark"], "comment": r["comment"], "who": r["who"],
                                                    "marked_at": "now"}
        self.marks = new


def write_sheet(path, rows, header=COLUMNS, delimiter=","):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_export_manual_pages_and_sheet(graded, toy_rubric, tmp_path):
    marks = {("102", "T5"): {"mark": 1.0, "comment": "half", "who": "tom", "marked_at": "t"}}
    sheet = export_manual(graded, toy_rubric, tmp_path / "m", marks=marks)
    assert sheet == tmp_path / "m" / "marks.csv"
    table = read_csv(sheet)
    assert tuple(table[0]) == COLUMNS
    assert [r[:3] for r in table[1:]] == [[s, "T5", "2"] for s in ("101", "102", "103", "104")]
    assert table[2][3:] == ["1", "half", "tom"] and table[1][3:] == ["", "", ""]
    page = (tmp_path / "m" / "T5.html").read_text()
    assert "TA only" in page and "Because." in page and "Why?" in page  # model answer and prompt, for TAs
    assert "Because it doubles." in page
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; =1+1" in page and "<b>bold</b>" not in page
    assert "not valid JSON" in page  # 104's file cannot be read: said, not skipped
    assert "half" in page and "by tom" in page
    index = (tmp_path / "m" / "index.html").read_text()
    assert 'href="T5.html"' in index and "1 / 4" in index


def test_marks_round_trip_into_the_exports(graded, toy_rubric, tmp_path):
    gb = StandInGradebook(graded)
    sheet = export_manual(gb.latest_results(), toy_rubric, tmp_path / "m", marks=gb.manual_marks())
    table = read_csv(sheet)
    table[1][3:] = ["2", "Clear and complete.", "ann-ta"]
    table[3][3:] = ["0.5", "", ""]
    write_sheet(sheet, table[1:], header=table[0])
    rows = import_marks(sheet, toy_rubric, [r.student for r in graded], who="lead")
    assert rows == [{"student_id": "101", "item_id": "T5", "mark": 2.0, "comment": "Clear and complete.",
                     "who": "ann-ta"},
                    {"student_id": "103", "item_id": "T5", "mark": 0.5, "comment": "", "who": "lead"}]
    gb.set_manual_marks(rows)
    out = read_csv(export(gb.latest_results(), toy_rubric, "csv", tmp_path / "r.csv", manual=gb.manual_marks()))
    got = {r[0]: dict(zip(out[0], r)) for r in out[1:]}
    assert got["101"]["T5"] == "2" and float(got["101"]["total"]) == 5 + 2
    assert got["103"]["T5"] == "0.5" and got["102"]["T5"] == "" and got["102"]["manual_pending"] == "T5"


GOOD = ["101", "T5", "2", "1.5", "fine", "ta"]


@pytest.mark.parametrize("bad, where, why", [
    (["999", "T5", "2", "1", "", ""], "row 3, column student_id", "unknown student '999'"),
    (["101", "T9", "2", "1", "", ""], "row 3, column item_id", "unknown item 'T9'"),
    (["101", "T1", "2", "1", "", ""], "row 3, column item_id", "T1 is graded automatically"),
    (["102", "T5", "2", "3", "", ""], "row 3, column mark", "out of range: T5 is marked from 0 to 2"),
    (["102", "T5", "2", "-0.5", "", ""], "row 3, column mark", "out of range"),
    (["102", "T5", "2", "abc", "", ""], "row 3, column mark", "'abc' is not a number"),
    (["102", "T5", "2", "1,5", "", ""], "row 3, column mark", "use a decimal point"),
    (["102", "T5", "2", "nan", "", ""], "row 3, column mark", "out of range"),
    (["102", "T5", "2", "inf", "", ""], "row 3, column mark", "out of range"),
    (["102", "T5", "5", "1", "", ""], "row 3, column max", "worth 2 points"),
    (["101", "T5", "2", "1", "", ""], "row 3, column student_id", "marked twice (also in row 2)"),
])
def test_bad_rows_import_nothing(graded, toy_rubric, tmp_path, bad, where, why):
    gb = StandInGradebook(graded)
    sheet = write_sheet(tmp_path / "marks.csv", [GOOD, bad])
    with pytest.raises(ManualMarksError) as e:
        gb.set_manual_marks(import_marks(sheet, toy_rubric, [r.student for r in graded]))
    assert f"marks.csv, {where}: " in str(e.value) and why in str(e.value)
    assert "\n" not in str(e.value) and gb.manual_marks() == {}


def test_missing_column(graded, toy_rubric, tmp_path):
    sheet = write_sheet(tmp_path / "marks.csv", [["101", "T5", "2", "fine"]],
                        header=("student_id", "item_id", "max", "comment"))
    with pytest.raises(ManualMarksError, match=r"marks.csv, row 1: missing column\(s\) mark"):
        import_marks(sheet, toy_rubric, ["101"])


def test_every_problem_is_counted(graded, toy_rubric, tmp_path):
    sheet = write_sheet(tmp_path / "marks.csv", [["999", "T5", "2", "1", "", ""], GOOD, ["101", "T5", "2", "x", "", ""]])
    with pytest.raises(ManualMarksError) as e:
        import_marks(sheet, toy_rubric, ["101"])
    assert len(e.value.errors) == 2 and str(e.value).endswith("(and 1 more problem(s))")
    assert "row 2, column student_id" in e.value.errors[0] and "row 4, column mark" in e.value.errors[1]


def test_empty_marks_are_not_marked_yet(graded, toy_rubric, tmp_path):
    sheet = write_sheet(tmp_path / "marks.csv", [["101", "T5", "2", "", "", ""], ["102", "T5", "2", " ", "", ""]])
    assert import_marks(sheet, toy_rubric, ["101", "102"]) == []


def test_sheet_saved_by_a_spreadsheet(graded, toy_rubric, tmp_path):
    """Excel in many locales: a byte-order mark and semicolons."""
    p = tmp_path / "marks.csv"
    p.write_text("\ufeffstudent_id;item_id;max;mark;comment;who\n101;T5;2;1.5;\"ok; well argued\";ta\n",
                 encoding="utf-8")
    assert import_marks(p, toy_rubric, ["101"]) == [
        {"student_id": "101", "item_id": "T5", "mark": 1.5, "comment": "ok; well argued", "who": "ta"}]


def test_formula_like_student_ids_round_trip(graded, toy_rubric, tmp_path):
    people = [dataclasses.replace(graded[0], student=s) for s in ("=evil()", "'quoted", "-1")]
    sheet = export_manual(people, toy_rubric, tmp_path / "m")
    table = read_csv(sheet)
    assert [r[0] for r in table[1:]] == ["''quoted", "-1", "'=evil()"]
    for r in table[1:]:
        r[3] = "1"
    write_sheet(sheet, table[1:], header=table[0])
    got = import_marks(sheet, toy_rubric, ["=evil()", "'quoted", "-1"])
    assert sorted(r["student_id"] for r in got) == ["'quoted", "-1", "=evil()"]
    # a spreadsheet that dropped the protective quote still names the student
    write_sheet(sheet, [["=evil()", "T5", "2", "1", "", ""]])
    assert import_marks(sheet, toy_rubric, ["=evil()"])[0]["student_id"] == "=evil()"


def test_no_such_file(toy_rubric, tmp_path):
    with pytest.raises(ManualMarksError, match="no such file"):
        import_marks(tmp_path / "nope.csv", toy_rubric, [])

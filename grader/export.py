"""Grade exports: plain CSV, Canvas gradebook import, Moodle grading worksheet, Gradescope ``results.json``.

Every format is written from the same rows: one per student, sorted by
student id, with the automatic points, the manual marks entered so far and
the total. Strings that came from submissions are made CSV-safe
(:func:`csv_safe`). Student-facing text (Gradescope ``output``, Moodle
feedback) is written from :func:`grader.model.student_view`, which keeps the
expected values and bands of hidden items out; the plain CSV and Canvas carry
no messages.

Student ids and the LMSs:

- Canvas: ``--id-from canvas`` reads the number after the name in
  ``lastnamefirstname_12345_67890_hw2.ipynb``, Canvas's user id, which goes
  in the ``ID`` column (Canvas matches rows by ``ID``, then ``SIS User ID``,
  then ``SIS Login ID``). Ids that are SIS ids or logins go in those columns
  instead (``id_column``).
- Moodle: ``--id-from moodle`` reads the participant number in
  ``Lastname Firstname_12345_assignsubmission_file_hw2.ipynb``; the worksheet's
  ``Identifier`` is ``Participant 12345``, the form Moodle's importer reads.
"""
from __future__ import annotations

import csv
import datetime as _dt
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

from grader.model import ItemResult, SubmissionResult, student_view
from grader.names import file_stem
from grader.rubric import Rubric

FORMATS = ("csv", "canvas", "gradescope", "moodle")

CANVAS_ID_COLUMNS = ("ID", "SIS User ID", "SIS Login ID")
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_COLUMNS = ("Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                  "Feedback comments")
GRADESCOPE_VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")


class ExportError(ValueError):
    """Results that cannot be written in the asked format (the message says why)."""


# ----------------------------------------------------------------------------
# cells and messages

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """``value`` as a cell a spreadsheet will not run as a formula (OWASP CSV injection).

    A string starting with ``= + - @``, tab or CR gets a leading ``'``, unless
    it is a plain number (``-1.5`` stays). A string that already starts with
    ``'`` gets one more, so :func:`csv_unsafe` gives every value back.
    """
    s = "" if value is None else str(value)
    if s.startswith("'") or (s.startswith(_FORMULA_START) and not _NUMBER.fullmatch(s)):
        return "'" + s
    return s


def csv_unsafe(cell: str) -> str:
    """The value :func:`csv_safe` was given (a cell a TA did not touch)."""
    if cell.startswith("'") and (cell[1:].startswith(_FORMULA_START) or cell[1:].startswith("'")):
        return cell[1:]
    return cell


def num(x: float) -> str:
    """A number for a CSV cell, exact: up to 6 decimals (the points' precision), no trailing zeros
    (``2``, ``0.548217``). Only terminal tables and HTML pages round for display."""
    s = f"{float(x):.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def student_message(item: ItemResult) -> str:
    """The item's message as a student may read it (:func:`grader.model.student_view`: hidden items in words)."""
    return student_view(SubmissionResult("", "", "", 0, "", "", (item,))).items[0].message


# ----------------------------------------------------------------------------
# rows


@dataclass(frozen=True)
class Row:
    """One student's line in every export."""

    result: SubmissionResult
    points: dict
    """item id -> points (automatic items, and manual items once marked)."""
    total: float
    max: float
    pending: tuple[str, ...]
    """Manual items not marked yet."""
    comments: dict
    """item id -> the TA's comment on a manual item."""

    @property
    def student(self) -> str:
        return self.result.student


def as_results(results) -> list[SubmissionResult]:
    """``results`` (dicts from the gradebook or results) sorted by student id; a repeated id is an error."""
    out = [r if isinstance(r, SubmissionResult) else SubmissionResult.from_dict(r) for r in results]
    out.sort(key=lambda r: r.student)
    for a, b in zip(out, out[1:]):
        if a.student == b.student:
            raise ExportError(f"student id {a.student!r} appears twice ({a.path} and {b.path}); "
                              "every student must have one row")
    return out


def rows(results, rubric: Rubric, manual: dict | None = None) -> list[Row]:
    """The export rows: automatic points plus the manual marks entered (``manual`` as from the gradebook)."""
    manual = manual or {}
    manual_items = [i for i in rubric.items if i.manual]
    out = []
    for r in as_results(results):
        points = {i.item_id: i.points for i in r.items if i.status != "manual"}
        comments, pending, marked = {}, [], 0.0
        for it in manual_items:
            m = manual.get((r.student, it.id))
            if m is None or m.get("mark") is None:
                pending.append(it.id)
                continue
            points[it.id] = float(m["mark"])
            marked += float(m["mark"])
            if m.get("comment"):
                comments[it.id] = m["comment"]
        out.append(Row(r, points, round(r.score + marked, 6), r.max_score + sum(i.points for i in manual_items),
                       tuple(pending), comments))
    return out


def item_columns(rubric: Rubric, table: list[Row]) -> list[str]:
    """Item ids in rubric order: every automatic item, a manual item once somebody has a mark for it."""
    return [i.id for i in rubric.items if not i.manual or any(i.id in r.points for r in table)]


# ----------------------------------------------------------------------------
# formats


def _writer(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "w", newline="", encoding="utf-8")
    return f, csv.writer(f)


CSV_TAIL = ("graded", "ignored", "warnings")
"""The plain CSV's last columns: the files graded (of a folder), the files left out, every warning."""


def write_csv(table: list[Row], rubric: Rubric, out: Path) -> Path:
    """Plain CSV: one row per student, a column per item, total, max, named mistakes, error, sha256, then the
    files graded and left out (a folder of several notebooks) and the warnings (a notebook whose metadata names
    another assignment first)."""
    cols = item_columns(rubric, table)
    f, w = _writer(out)
    with f:
        w.writerow(["student", "file", *cols, "total", "max", "manual_pending", "mistakes", "error", "sha256",
                    *CSV_TAIL])
        for row in table:
            r = row.result
            mistakes = ";".join(f"{i.item_id}:{m}" for i in r.items for m in dict.fromkeys(i.mistakes))
            w.writerow([csv_safe(r.student), csv_safe(r.path),
                        *[num(row.points[c]) if c in row.points else "" for c in cols],
                        num(row.total), num(row.max), " ".join(row.pending), csv_safe(mistakes),
                        csv_safe(r.error or ""), r.sha256, csv_safe(" ; ".join(r.files)),
                        csv_safe(" ; ".join(r.ignored)), csv_safe(" | ".join(r.warnings))])
    return out


def write_canvas(table: list[Row], rubric: Rubric, out: Path, *, assignment_id: int | None = None,
                 id_column: str = "ID", assignment_name: str | None = None) -> Path:
    """Canvas gradebook import CSV (Grades > Import).

    Columns ``Student, ID, SIS User ID, SIS Login ID, Section`` and one
    assignment column ``Name (assignment_id)``; without an id Canvas creates
    a new assignment of that name. The second row is ``Points Possible``, as
    in Canvas's own export. The student id goes in ``id_column``; in the
    ``ID`` column it must be a Canvas user id (a number).
    """
    if id_column not in CANVAS_ID_COLUMNS:
        raise ExportError(f"Canvas id column {id_column!r} is not one of {', '.join(CANVAS_ID_COLUMNS)}")
    if id_column == "ID":
        bad = [r.student for r in table if not r.student.isdigit()]
        if bad:
            raise ExportError(f"{len(bad)} student id(s) are not Canvas user ids (numbers), e.g. {bad[0]!r}: grade "
                              "with the ids in Canvas's file names (--id-from canvas), or put the ids in the "
                              "'SIS User ID' or 'SIS Login ID' column")
    name = assignment_name or rubric.title
    header = f"{name} ({assignment_id})" if assignment_id is not None else name
    f, w = _writer(out)
    with f:
        w.writerow([*CANVAS_COLUMNS, csv_safe(header)])
        w.writerow(["Points Possible", "", "", "", "", num(table[0].max if table else rubric.max_points)])
        for row in table:
            ids = {c: "" for c in CANVAS_ID_COLUMNS}
            ids[id_column] = csv_safe(row.student)
            w.writerow([csv_safe(row.student), ids["ID"], ids["SIS User ID"], ids["SIS Login ID"], "",
                        num(row.total)])
    return out


def feedback_text(row: Row, rubric: Rubric | None = None) -> str:
    """What a student reads about their submission: one line per item, hidden items without expected values."""
    r = student_view(row.result, rubric)
    lines = []
    if r.error:
        lines.append(f"Not graded: {r.error}")
    for it in r.items:
        if it.status == "manual":
            if it.item_id in row.points:
                pts = f"{num(row.points[it.item_id])}/{num(it.max_points)}"
                note = row.comments.get(it.item_id, "marked by a TA")
                lines.append(f"{it.item_id} {it.title}: {pts}: {note}")
            else:
                lines.append(f"{it.item_id} {it.title}: not marked yet")
            continue
        lines.append(f"{it.item_id} {it.title}: {num(it.points)}/{num(it.max_points)} {it.status}: {it.message}")
    return "\n".join(lines)


def write_moodle(table: list[Row], rubric: Rubric, out: Path, *, now: _dt.datetime | None = None) -> Path:
    """Moodle assignment grading worksheet (Offline grading worksheet, Upload grading worksheet).

    ``Identifier`` is ``Participant <id>``; the student id must be Moodle's
    participant number. ``Last modified (grade)`` is the export time in ISO
    8601 with its offset: Moodle skips a row whose grade was changed in
    Moodle after that time. ``Feedback comments`` is HTML in Moodle, so the
    text is escaped and its lines joined with ``<br>``.
    """
    bad = [r.student for r in table if not r.student.isdigit()]
    if bad:
        raise ExportError(f"{len(bad)} student id(s) are not Moodle participant numbers, e.g. {bad[0]!r}: grade "
                          "with the ids in Moodle's file names (--id-from moodle)")
    stamp = (now or _dt.datetime.now(_dt.timezone.utc)).isoformat(timespec="seconds")
    f, w = _writer(out)
    with f:
        w.writerow(MOODLE_COLUMNS)
        for row in table:
            comments = "<br>".join(html.escape(line) for line in feedback_text(row, rubric).split("\n"))
            w.writerow([f"Participant {row.student}", csv_safe(row.student), "", "Submitted for grading",
                        num(row.total), num(row.max), "Yes", "", stamp, csv_safe(comments)])
    return out




def gradescope_result(row: Row, *, hidden_visibility: str = "after_published", rubric: Rubric | None = None) -> dict:
    """One submission's ``results.json`` (Gradescope autograder specification), as students see it."""
    if hidden_visibility not in GRADESCOPE_VISIBILITY:
        raise ExportError(f"Gradescope visibility {hidden_visibility!r} is not one of {', '.join(GRADESCOPE_VISIBILITY)}")
    r = student_view(row.result, rubric)
    tests = []
    for it in r.items:
        vis = "visible" if it.visibility == "public" else hidden_visibility
        if it.status == "manual":
            if it.item_id not in row.points:
                continue
            score, output = row.points[it.item_id], row.comments.get(it.item_id, "marked by a TA")
            status = "passed" if score >= it.max_points - 1e-9 else "failed"
        else:
            score, status = it.points, "passed" if it.status == "passed" else "failed"
            lines = [it.message]
            if len(it.checks) > 1:
                for c in it.checks:
                    lines.append(f"- {c.name}: {'passed' if c.passed else 'failed'}: {c.message}")
            output = "\n".join(lines)
        tests.append({"name": f"{it.item_id} {it.title}", "number": it.item_id, "score": round(score, 6),
                      "max_score": it.max_points, "status": status, "output": output, "output_format": "text",
                      "visibility": vis})
    out = {"score": round(sum(t["score"] for t in tests), 6), "execution_time": round(r.seconds, 3),
           "output_format": "text", "stdout_visibility": "hidden", "tests": tests}
    notes = ([f"Not graded: {r.error}"] if r.error else []) + list(r.warnings[:20])
    if notes:
        out["output"] = "\n".join(notes)
    return out


def write_gradescope(table: list[Row], out: Path, *, hidden_visibility: str = "after_published",
                     rubric: Rubric | None = None) -> Path:
    """``out/<student>/results.json`` for every submission; returns ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for row in table:
        d = out / file_stem(row.student)
        d.mkdir(exist_ok=True)
        doc = gradescope_result(row, hidden_visibility=hidden_visibility, rubric=rubric)
        (d / "results.json").write_text(json.dumps(doc, indent=1))
    return out


def export(results, rubric: Rubric, fmt: str, out: str | Path, *, manual: dict | None = None, **options) -> Path:
    """Write ``results`` (result dicts, newest per student) in ``fmt``; returns what was written.

    ``manual`` maps ``(student_id, item_id)`` to ``{mark, comment, who,
    marked_at}``. ``options``: canvas ``assignment_id``, ``id_column``,
    ``assignment_name``; gradescope ``hidden_visibility``; moodle ``now``.
    For ``gradescope`` ``out`` is a folder.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; one of: {', '.join(FORMATS)}")
    table = rows(results, rubric, manual)
    out = Path(out)
    if fmt == "csv":
        return write_csv(table, rubric, out, **options)
    if fmt == "canvas":
        return write_canvas(table, rubric, out, **options)
    if fmt == "moodle":
        return write_moodle(table, rubric, out, **options)
    return write_gradescope(table, out, rubric=rubric, **options)

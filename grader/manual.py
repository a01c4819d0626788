"""Manual items (proofs, prose): review pages and a marks sheet for TAs, and the sheet read back.

:func:`export_manual` writes, per manual item, a TA-only page with every
student's answer cells beside the model answer, and ``marks.csv`` to fill in.
:func:`import_marks` checks the whole sheet before anything is returned: the
first problem is raised as :class:`ManualMarksError` naming its row and
column, so a sheet is imported whole or not at all.
"""
from __future__ import annotations

import csv
import getpass
import math
import re
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from grader.export import as_results, csv_safe, csv_unsafe, num
from grader.rubric import Rubric
from grader.names import file_stem
from grader.pipeline.load import SubmissionError, read_submission

COLUMNS = ("student_id", "item_id", "max", "mark", "comment", "who")
REQUIRED = ("student_id", "item_id", "mark")
_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


class ManualMarksError(ValueError):
    """A marks sheet that cannot be imported; ``errors`` lists every problem found, first one first."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        super().__init__(errors[0] + more)


def export_manual(results, rubric: Rubric, out_dir: str | Path, *, marks: dict | None = None) -> Path:
    """Write ``out_dir/index.html``, one review page per manual item and ``out_dir/marks.csv``; returns the sheet.

    ``marks`` (``{(student_id, item_id): {mark, comment, who, ...}}``, as the
    gradebook keeps them) are filled into the sheet and shown on the pages,
    so a sheet exported again keeps what was marked.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    marks = marks or {}
    items = [i for i in rubric.items if i.manual]
    results = as_results(results)
    answers = {}
    for r in results:
        try:
            answers[r.student] = ("ok", read_submission(r.path).answers)
        except (SubmissionError, OSError) as exc:
            answers[r.student] = ("error", str(exc))
    env = Environment(loader=PackageLoader("grader", "templates"), autoescape=select_autoescape(["html", "j2"]))
    page = env.get_template("manual_item.html.j2")
    pages = []
    for it in items:
        entries = []
        for r in results:
            state, got = answers[r.student]
            text = got.get(it.id, "") if state == "ok" else ""
            entries.append({"student": r.student, "answer": text, "problem": got if state == "error" else
                            ("" if text.strip() else "no answer cell for this item"),
                            "mark": marks.get((r.student, it.id))})
        name = f"{it.id}.html" if _PLAIN_ID.fullmatch(it.id) and it.id.lower() != "index" else f"{file_stem(it.id)}.html"
        (out / name).write_text(page.render(rubric=rubric, item=it, entries=entries))
        pages.append((it, name, sum(e["mark"] is not None for e in entries)))
    (out / "index.html").write_text(env.get_template("manual_index.html.j2").render(
        rubric=rubric, pages=pages, n=len(results)))
    sheet = out / "marks.csv"
    with open(sheet, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in results:
            for it in items:
                m = marks.get((r.student, it.id)) or {}
                w.writerow([csv_safe(r.student), csv_safe(it.id), num(it.points),
                            "" if m.get("mark") is None else num(m["mark"]),
                            csv_safe(m.get("comment") or ""), csv_safe(m.get("who") or "")])
    return sheet


def import_marks(csv_path: str | Path, rubric: Rubric, known_students, *, who: str | None = None) -> list[dict]:
    """The filled-in rows of a marks sheet, checked, for ``Gradebook.set_manual_marks``.

    Rows with an empty ``mark`` are left out (not marked yet). Every other
    row must name a known student and a manual item of ``rubric``, give a
    number from 0 to the item's points, and appear once. ``who`` is used
    where the sheet's ``who`` column is empty (default: the login name).
    Raises :class:`ManualMarksError` (row numbers count the header as row 1).
    """
    path = Path(csv_path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ManualMarksError([f"{path}: no such file"]) from None
    except UnicodeDecodeError:
        raise ManualMarksError([f"{path}: not UTF-8 text (save the sheet as CSV UTF-8)"]) from None
    if not text.strip():
        raise ManualMarksError([f"{path}: the file is empty"])
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text.splitlines(), dialect)
    header = [h.strip() for h in next(reader)]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ManualMarksError([f"{path.name}, row 1: missing column(s) {', '.join(missing)} "
                                f"(the sheet needs {', '.join(COLUMNS)})"])
    col = {name: header.index(name) for name in COLUMNS if name in header}
    items = {i.id: i for i in rubric.items}
    known = set(known_students)
    default_who = who or _login()
    errors, out, seen = [], [], {}
    for n, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            cells = cells + [""] * (len(header) - len(cells))

        def cell(name, cells=cells):
            return cells[col[name]].strip() if name in col else ""

        def bad(column, why, n=n):
            errors.append(f"{path.name}, row {n}, column {column}: {why}")

        raw_mark = cell("mark")
        if raw_mark == "":
            continue
        student = _student(cell("student_id"), known)
        item_id = csv_unsafe(cell("item_id"))
        if student not in known:
            bad("student_id", f"unknown student {student!r}" + ("" if student else " (empty)"))
            continue
        item = items.get(item_id)
        if item is None:
            manual = ", ".join(i.id for i in rubric.items if i.manual) or "none"
            bad("item_id", f"unknown item {item_id!r} (manual items of {rubric.assignment}: {manual})")
            continue
        if not item.manual:
            bad("item_id", f"{item_id} is graded automatically, not by a TA")
            continue
        try:
            mark = float(raw_mark)
        except ValueError:
            bad("mark", f"{raw_mark!r} is not a number (use a decimal point: 1.5)")
            continue
        if not math.isfinite(mark) or not 0 <= mark <= item.points:
            bad("mark", f"{raw_mark} is out of range: {item_id} is marked from 0 to {item.points:g}")
            continue
        if cell("max") and _number(cell("max")) != item.points:
            bad("max", f"{cell('max')} but {item_id} is worth {item.points:g} points in rubric "
                       f"v{rubric.version}; export the marks sheet again")
            continue
        if (student, item_id) in seen:
            bad("student_id", f"{student} / {item_id} is marked twice (also in row {seen[student, item_id]})")
            continue
        seen[student, item_id] = n
        out.append({"student_id": student, "item_id": item_id, "mark": mark,
                    "comment": csv_unsafe(cell("comment")), "who": csv_unsafe(cell("who")) or default_who})
    if errors:
        raise ManualMarksError(errors)
    return out


def _student(cell: str, known: set) -> str:
    """The student id of a sheet cell (undoing :func:`csv_safe`, or as written if that is the id)."""
    plain = csv_unsafe(cell)
    return plain if plain in known or cell not in known else cell


def _number(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"

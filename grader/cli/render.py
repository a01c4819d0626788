"""Terminal output: result tables and summaries (rich), shared by ``dlgrade`` and the student's ``check.py``.

Readable at 80 columns and when piped: the width is the terminal's (``COLUMNS``
when set, 80 when there is no terminal at all); a point never loses digits to
an ellipsis (the points columns do not wrap), feedback wraps, and a class table
too wide for the screen moves its item columns into one wrapping cell per
student (``D1:4 D2:1.2 ...``). Points are rounded for display (at most 2
decimals, never to full marks or to 0 when they are not); CSV and JSON keep
them exact.

What :func:`print_result` shows is :func:`grader.model.student_view`: it is the
student's table (``dlgrade check``, also with ``--all-items``), so hidden items
say what is wrong in words, without their expected values.
"""
from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from grader.model import round_points, shown_points, student_view

# Everything a submission can influence (names, messages, warnings) is escaped
# before it reaches rich, so `[bold red]` in a file name is text, not markup.

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


NOTE_MIN = 24
"""The class table keeps its item columns only while its note column has this many characters left."""


def _status_style(status: str) -> str:
    return {"passed": "green", "partial": "yellow", "failed": "red", "not_run": "red", "manual": "cyan"}.get(status, "")


def _fits(table: Table, *, wrapped: bool = False) -> bool:
    """Whether ``table`` fits the console (unwrapped, or with its wrapping columns at their narrowest)."""
    m = Measurement.get(console, console.options.update_width(10**5), table)  # unclamped by the console
    return (m.minimum if wrapped else m.maximum) <= console.width


def print_result(res, *, show_checks: bool = False):
    res = student_view(res)
    title = escape(f"{res.student}: {res.assignment} (rubric v{res.rubric_version})")
    if res.error:
        console.print(f"[bold red]{title}: not graded[/]: {escape(res.error)}")
    if res.declared_assignment:
        console.print(f"[bold red]WRONG ASSIGNMENT? this notebook's metadata says {escape(res.declared_assignment)}, "
                      f"but it was graded as {escape(res.assignment)}[/]")
    if res.ignored:
        console.print(f"graded {escape(', '.join(res.files))}; not graded: {escape(', '.join(res.ignored))} "
                      "(see the warnings)")
    table = Table(title=title, show_lines=False)
    table.add_column("item", no_wrap=True)
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("feedback", overflow="fold", ratio=1, min_width=20)
    rows = []
    for it in res.items:
        pts = f"-/{it.max_points:g}" if it.status == "manual" else shown_points(it.points, it.max_points)
        rows.append((escape(it.item_id), pts, f"[{_status_style(it.status)}]{it.status}[/]", escape(it.message)))
        if show_checks and len(it.checks) > 1:
            for c in it.checks:
                rows.append(("", "", "  ok" if c.passed else "  fail", escape(f"  {c.name}: {c.message}")))
    for row in rows:
        table.add_row(*row)
    if _fits(table, wrapped=True):
        console.print(table)
    else:  # too narrow even for a wrapped table: one block per item
        console.print(f"[bold]{title}[/]")
        for item_id, pts, status, message in rows:
            console.print(f"{item_id} {pts} {status}".strip())
            console.print(f"    {message}")
    manual = res.manual_items
    console.print(f"[bold]score {round_points(res.score, res.max_score)} / {res.max_score:g}[/] automatic"
                  + (f"; {sum(i.max_points for i in manual):g} points still to be marked by a TA" if manual else ""))
    console.print(f"[dim]{res.seconds:.1f} s; isolation: {', '.join(res.layers) or 'none'}[/]")
    for w in res.warnings[:20]:
        console.print(f"[yellow]warning[/] {escape(w)}")


def summary_table(results, rubric, manual: dict | None = None):
    """One row per student: automatic score, points per automatic item, a short note.

    When the item columns do not fit the terminal (with :data:`NOTE_MIN`
    characters left for the note), they move into one wrapping cell per student
    (``D1:4/4 D2:1.2/2 ...``). ``manual`` (the gradebook's marks,
    ``{(student, item): {mark, ...}}``) tells how many points are still to be
    marked by a TA.
    """
    auto = [it for it in rubric.items if not it.manual]
    manual_items = [it for it in rubric.items if it.manual]
    title = f"{rubric.assignment}: {len(results)} submissions"
    wide = Table(title=title)
    wide.add_column("student", no_wrap=True)
    wide.add_column("score", justify="right", no_wrap=True)
    for it in auto:
        wide.add_column(f"{escape(it.id)}\n/{it.points:g}", justify="right", no_wrap=True)
    wide.add_column("note", overflow="fold", ratio=1, min_width=NOTE_MIN)
    long = Table(title=title)
    long.add_column("student", overflow="fold")
    long.add_column("score", justify="right", no_wrap=True)
    long.add_column("items", ratio=1)
    long.add_column("note", overflow="fold", ratio=1)
    for r in results:
        pts = {i.item_id: i for i in r.items}
        cells, pairs = [], []
        for it in auto:
            got = pts.get(it.id)
            if got is None:
                cells.append("")
                continue
            style = _status_style(got.status)
            cells.append(f"[{style}]{round_points(got.points, it.points)}[/]")
            pairs.append(f"[{style}]{escape(it.id)}:{shown_points(got.points, it.points)}[/]")
        mistakes = dict.fromkeys(f"{i.item_id}:{m}" for i in r.items for m in i.mistakes)
        note = escape((r.error or "; ".join(mistakes)).split("\n")[0])
        if r.ignored:
            note = f"{note}; " * bool(note) + escape(f"graded {', '.join(r.files)}, not {', '.join(r.ignored)}")
        if r.declared_assignment:
            note = f"[bold red]WRONG ASSIGNMENT? the notebook says {escape(r.declared_assignment)}[/]" + \
                f"; {note}" * bool(note)
        score = shown_points(r.score, r.max_score)
        wide.add_row(escape(r.student), score, *cells, note)
        long.add_row(escape(r.student), score, " ".join(pairs), note)
    console.print(wide if _fits(wide, wrapped=True) else long)
    if manual_items and results:
        marks = manual or {}
        waiting = [r for r in results if any(marks.get((r.student, it.id), {}).get("mark") is None
                                             for it in manual_items)]
        if waiting:
            left = {sum(it.points for it in manual_items if marks.get((r.student, it.id), {}).get("mark") is None)
                    for r in waiting}
            pts = f"{left.pop():g} points" if len(left) == 1 else "some points"
            who = "every student" if len(waiting) == len(results) else f"{len(waiting)} of {len(results)} students"
            console.print(f"{pts} ({', '.join(it.id for it in manual_items)}) still to be marked by a TA for {who} "
                          "(`dlgrade manual export`)")

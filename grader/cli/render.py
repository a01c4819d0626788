"""Terminal output: result tables and summaries (rich), shared by ``dlgrade`` and the student's ``check.py``."""
from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

# Everything a submission can influence (names, messages, warnings) is escaped
# before it reaches rich, so `[bold red]` in a file name is text, not markup.

console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, highlight=False)


def _status_style(status: str) -> str:
    return {"passed": "green", "partial": "yellow", "failed": "red", "not_run": "red", "manual": "cyan"}.get(status, "")


def print_result(res, *, show_checks: bool = False):
    title = escape(f"{res.student}: {res.assignment} (rubric v{res.rubric_version})")
    if res.error:
        console.print(f"[bold red]{title}: not graded[/]: {escape(res.error)}")
    table = Table(title=title, show_lines=False)
    table.add_column("item")
    table.add_column("points", justify="right")
    table.add_column("status")
    table.add_column("feedback", overflow="fold")
    for it in res.items:
        pts = f"-/{it.max_points:g}" if it.status == "manual" else f"{it.points:.3g}/{it.max_points:g}"
        table.add_row(escape(it.item_id), pts, f"[{_status_style(it.status)}]{it.status}[/]", escape(it.message))
        if show_checks and len(it.checks) > 1:
            for c in it.checks:
                table.add_row("", "", "  ok" if c.passed else "  fail", escape(f"  {c.name}: {c.message}"))
    console.print(table)
    manual = res.manual_items
    console.print(f"[bold]score {res.score:.3g} / {res.max_score:g}[/] automatic"
                  + (f"; {sum(i.max_points for i in manual):g} points still to be marked by a TA" if manual else "")
                  + f"  ({res.seconds:.1f} s; isolation: {', '.join(res.layers) or 'none'})")
    for w in res.warnings[:20]:
        console.print(f"[yellow]warning[/] {escape(w)}")


def summary_table(results, rubric):
    """One row per student: automatic score, points per automatic item, a short note."""
    auto = [it for it in rubric.items if not it.manual]
    n_manual = len(rubric.items) - len(auto)
    t = Table(title=f"{rubric.assignment}: {len(results)} submissions"
                    + (f" ({n_manual} manual items left for TAs)" if n_manual else ""))
    t.add_column("student", no_wrap=True)
    t.add_column("score", justify="right", no_wrap=True)
    for it in auto:
        t.add_column(it.id, justify="right", no_wrap=True)
    t.add_column("note", no_wrap=True, overflow="ellipsis", max_width=40)
    for r in results:
        pts = {i.item_id: i for i in r.items}
        cells = ["" if pts.get(it.id) is None else f"[{_status_style(pts[it.id].status)}]{pts[it.id].points:.3g}[/]"
                 for it in auto]
        mistakes = dict.fromkeys(f"{i.item_id}: {m}" for i in r.items for m in i.mistakes)
        note = (r.error or "; ".join(mistakes)).split("\n")[0]
        t.add_row(escape(r.student), f"{r.score:.3g}/{r.max_score:g}", *cells, escape(note))
    console.print(t)

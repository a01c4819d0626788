"""How a check looks: a compact HTML table in Jupyter (``_repr_html_``), plain text elsewhere.

No widgets and no JavaScript, only display reprs, so it renders the same in
Jupyter, JupyterLab, VS Code and Colab. Every string that came from the
student's code (messages, warnings) is escaped. Standard library only.
"""
from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass

NOTE = "Public items only: the hidden items are graded after you submit."
_BADGE = {"passed": "#2e7d32", "partial": "#ef6c00", "failed": "#c62828", "not_run": "#c62828", "manual": "#1565c0"}
MAX_WARNINGS = 8


@dataclass(frozen=True)
class Row:
    item: str
    title: str
    points: str
    status: str
    reason: str
    """The one sentence: what passed, or the first failing check's reason."""
    mistake: str = ""
    """The known mistake the answer matches, as its feedback sentence (empty: none)."""
    mistake_name: str = ""


def rows(result) -> list[Row]:
    """One row per item of a :class:`~grader.model.SubmissionResult`."""
    out = []
    for it in result.items:
        status = str(getattr(it.status, "value", it.status))
        points = f"-/{it.max_points:g}" if status == "manual" else f"{it.points:.3g}/{it.max_points:g}"
        bad = [c for c in it.checks if not c.passed]
        reason, mistake, name = it.message, "", ""
        if bad and status != "passed":
            reason = bad[0].message
            named = next((c for c in bad if c.mistake), None)
            if named is not None:
                mistake, name = named.mistake_feedback or named.mistake, named.mistake
        out.append(Row(it.item_id, it.title, points, status.replace("_", " "), reason, mistake, name))
    return out


def headline(assignment: str, result) -> str:
    ids = ", ".join(i.item_id for i in result.items)
    return f"{assignment} self-check of {ids}: {result.score:.3g} / {result.max_score:g} points"


def footer(result) -> str:
    layers = ", ".join(result.layers) or "none"
    return f"{NOTE} ({result.seconds:.1f} s; isolation: {layers})"


def text(assignment: str, result=None, problem: str | None = None, width: int = 100) -> str:
    """The plain-text table (a terminal, ``print(check("D1"))``)."""
    if problem:
        return f"dlgrade_check: {problem}"
    lines = [headline(assignment, result)]
    table = rows(result)
    w_item = max([4] + [len(r.item) for r in table])
    w_pts = max([6] + [len(r.points) for r in table])
    w_st = max([6] + [len(r.status) for r in table])
    indent = " " * (w_item + w_pts + w_st + 8)
    for r in table:
        head = f"  {r.item:<{w_item}}  {r.points:>{w_pts}}  {r.status:<{w_st}}"
        body = textwrap.wrap(r.reason, max(30, width - len(indent))) or [""]
        lines.append(f"{head}  {body[0]}")
        lines += [indent + b for b in body[1:]]
        if r.mistake:
            lines += [indent + b for b in textwrap.wrap(f"Known mistake: {r.mistake}", max(30, width - len(indent)))]
    for w in result.warnings[:MAX_WARNINGS]:
        lines.append(f"  warning: {w}")
    if len(result.warnings) > MAX_WARNINGS:
        lines.append(f"  ... and {len(result.warnings) - MAX_WARNINGS} more warnings")
    lines.append(footer(result))
    return "\n".join(lines)


def _cell(content: str, style: str = "") -> str:
    return f'<td style="text-align:left;vertical-align:top;padding:2px 8px;{style}">{content}</td>'


def to_html(assignment: str, result=None, problem: str | None = None) -> str:
    """The HTML table (Jupyter's rich display)."""
    e = html.escape
    if problem:
        return (f'<div class="dlgrade-check"><b>dlgrade_check</b>: '
                f'<span style="color:#c62828">{e(problem)}</span></div>')
    parts = [f'<div class="dlgrade-check"><p><b>{e(headline(assignment, result))}</b></p>',
             '<table style="border-collapse:collapse"><thead><tr>'
             + "".join(f'<th style="text-align:left;padding:2px 8px">{h}</th>' for h in ("item", "points", "result", "why",
                                                                       "known mistake"))
             + "</tr></thead><tbody>"]
    for r in rows(result):
        colour = _BADGE.get(r.status.replace(" ", "_"), "#555")
        badge = (f'<span style="background:{colour};color:#fff;border-radius:3px;padding:0 5px;'
                 f'white-space:nowrap">{e(r.status)}</span>')
        mistake = (f'<span title="{e(r.mistake_name)}">{e(r.mistake)}</span>' if r.mistake else "")
        parts.append("<tr>" + _cell(f'<span title="{e(r.title)}">{e(r.item)}</span>', "white-space:nowrap")
                     + _cell(e(r.points), "white-space:nowrap") + _cell(badge) + _cell(e(r.reason))
                     + _cell(mistake) + "</tr>")
    parts.append("</tbody></table>")
    if result.warnings:
        shown = "".join(f"<li>{e(w)}</li>" for w in result.warnings[:MAX_WARNINGS])
        more = len(result.warnings) - MAX_WARNINGS
        parts.append(f'<ul style="margin:2px 0">{shown}' + (f"<li>... and {more} more</li>" if more > 0 else "")
                     + "</ul>")
    parts.append(f'<p style="font-size:smaller;opacity:0.8">{e(footer(result))}</p></div>')
    return "".join(parts)

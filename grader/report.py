"""HTML feedback: one page per student and a class overview (jinja2).

Pages are built from plain :class:`~grader.model.SubmissionResult` data (so a
report can be made later from ``--json`` results), plus what the submission
file itself holds: the answers to manual items and the figures the student
saved in the notebook's outputs. Nothing is executed. Reference figures, when
the assignment's ``reference/figures/<module>.py`` has
``make_reference_figures(out_dir)``, are drawn once per report and shown
beside the student's.

An item with figure checks (cases with ``returns: figures``) shows, in its
row, the figure the student's call drew beside the one the reference drew on
the same call (from the answer keys). Every image on a page is a PNG checked
and rewritten by :func:`grader.judge.png.clean_png`, embedded as a ``data:`` URI;
titles and labels are escaped like all other text.

Model answers and answer keys never appear on a student page: it is rendered
from :func:`grader.model.student_view` (hidden items in words, no expected
values, bands or key version). The class overview is the TA's and keeps
everything.
"""
from __future__ import annotations

import collections
import importlib
import os
import re
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from grader.export import rows
from grader.model import round_points, student_view
from grader.judge.figures import case_figures
from grader.judge.figures import images as figure_images
from grader.names import file_stem, page_name
from grader.pipeline.executed import SUFFIX as EXECUTED_SUFFIX
from grader.pipeline.keys import ReferenceKeys, cache_dir, key_version
from grader.pipeline.load import SubmissionError, read_submission
from grader.judge.png import clean_b64_png
from grader.rubric import Rubric


def _env() -> Environment:
    env = Environment(loader=PackageLoader("grader", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["basename"] = lambda p: os.path.basename(str(p))
    env.filters["pagename"] = page_name
    env.filters["pts"] = round_points  # points for display ({{ x|pts(top) }}); the data stays exact
    return env


def reference_figures(rubric: Rubric, out_dir: Path) -> list[tuple[str, str]]:
    """The assignment's reference figures, copied into ``out_dir/_reference``.

    Drawn once per rubric version into the cache (``make_reference_figures`` of
    ``reference/figures/<module>.py``; the backprop one trains for 5000
    iterations), then copied into each report.
    """
    import shutil

    figs = []
    cache = cache_dir() / "figures" / f"{rubric.assignment}-{key_version(rubric)}"
    for name in [m.replace("reference.", "reference.figures.", 1) for m in rubric.reference_modules]:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        make = getattr(mod, "make_reference_figures", None)
        if make is None:
            continue
        where = cache / name.rsplit(".", 1)[-1]
        if not (where / ".done").exists():
            where.mkdir(parents=True, exist_ok=True)
            made = make(where)
            paths = made.values() if isinstance(made, dict) else made
            (where / ".done").write_text("\n".join(Path(p).name for p in paths))
        target = out_dir / "_reference"
        target.mkdir(parents=True, exist_ok=True)
        for fname in (where / ".done").read_text().split():
            shutil.copyfile(where / fname, target / fname)
            figs.append((Path(fname).stem.replace("_", " "), f"_reference/{fname}"))
    return figs


_BASE64 = re.compile(r"[A-Za-z0-9+/=]+")


def reference_check_figures(rubric: Rubric, items=None) -> dict[tuple, list[dict]]:
    """``(item, check, case) -> [{png, title}]``: what the reference drew on every figure check's calls
    (of the figure items among ``items``, ids; default all).

    Read from the answer keys (computed, or loaded from the cache, like grading does); the PNGs are
    checked and rewritten like a student's.
    """
    wanted = [it for it in rubric.items if any(c.figures for c in it.checks) and (items is None or it.id in items)]
    if not wanted:
        return {}
    key = ReferenceKeys(rubric).expected([it.id for it in wanted])
    out = {}
    for it in wanted:
        for check in it.checks:
            if not check.figures:
                continue
            for i, case in enumerate(check.normalised_cases()):
                outcome = key.get((it.id, check.name, i))
                if outcome is not None and outcome.error is None:
                    out[(it.id, check.name, i)] = figure_images(case_figures(case["returns"], outcome.value))
    return out


def item_figures(item_result, reference: dict) -> list[dict]:
    """The figure pairs of one item: ``{"what", "student": [img], "reference": [img]}``, one per distinct call.

    Checks that judge the same call share its figures (the scorer keeps each image on the first of
    them), so pairs are merged by the reference's images.
    """
    pairs: dict[tuple, dict] = {}
    for c in item_result.checks:
        cases = {f["case"] for f in c.figures} | {k[2] for k in reference if k[:2] == (item_result.item_id, c.name)}
        for i in sorted(cases):
            ref = reference.get((item_result.item_id, c.name, i), [])
            mine = [{"png": png, "title": str(f.get("title", ""))[:120]} for f in c.figures
                    if f.get("case") == i and (png := clean_b64_png(str(f.get("png", "")))) is not None]
            pair = pairs.setdefault(tuple(r["png"] for r in ref) or (c.name, i),
                                    {"what": f"{c.name}, case {i + 1}" if len(c.cases) > 1 else c.name,
                                     "student": [], "reference": ref})
            pair["student"] += [f for f in mine if all(f["png"] != g["png"] for g in pair["student"])]
    return list(pairs.values())


def histogram(totals: list[float], top: float, *, bins: int | None = None) -> list[dict]:
    """Counts of ``totals`` in equal bins over ``[0, top]`` (one per point up to 20 points, else 10)."""
    if top <= 0:
        return []
    n = bins or (int(top) if top <= 20 and float(top).is_integer() else 10)
    width = top / n
    counts = [0] * n
    for t in totals:
        counts[min(n - 1, max(0, int(t / width + 1e-9)))] += 1
    return [{"lo": k * width, "hi": (k + 1) * width, "count": c} for k, c in enumerate(counts)]


def overview_stats(table, rubric: Rubric, *, slowest: int = 5, mistakes: int = 10) -> dict:
    """What the class overview shows, from :func:`grader.export.rows`."""
    results = [row.result for row in table]
    items = []
    for it in rubric.items:
        if it.manual:
            got = [row.points[it.id] for row in table if it.id in row.points]
            counts = collections.Counter()
        else:
            found = [i for r in results for i in r.items if i.item_id == it.id]
            got = [i.points for i in found]
            counts = collections.Counter(m for i in found for m in dict.fromkeys(i.mistakes))
        full = sum(p >= it.points - 1e-9 for p in got)
        items.append({"id": it.id, "title": it.title, "points": it.points, "manual": it.manual, "n": len(got),
                      "full": full, "full_rate": full / len(got) if got else 0.0,
                      "mean": sum(got) / len(got) if got else 0.0, "mistakes": counts.most_common(3)})
    named = collections.Counter((i.item_id, m) for r in results for i in r.items for m in dict.fromkeys(i.mistakes))
    failed = [(r.student, r.error or "no item ran: " + next((i.message for i in r.items if i.status == "not_run"), ""))
              for r in results
              if r.error or (any(i.status != "manual" for i in r.items)
                             and all(i.status in ("not_run", "manual") for i in r.items))]
    top = max((row.max for row in table), default=rubric.max_points)
    bars = histogram([row.total for row in table], top)
    return {"per_item": items, "mistakes": [(item, name, n) for (item, name), n in named.most_common(mistakes)],
            "failed": failed, "slowest": sorted(results, key=lambda r: -r.seconds)[:slowest],
            "histogram": bars, "hist_max": max((b["count"] for b in bars), default=0), "top": top,
            "mean": sum(row.total for row in table) / len(table) if table else 0.0}


def write_reports(results, rubric: Rubric, out_dir: str | Path, *, manual: dict | None = None,
                  with_reference_figures: bool = True) -> Path:
    """Write ``out_dir/index.html`` and one page per student; returns the index path.

    ``results`` are :class:`SubmissionResult` or their dicts (one per
    student); ``manual`` the marks of manual items, ``{(student_id, item_id):
    {mark, comment, ...}}`` as the gradebook gives them.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = rows(results, rubric, manual)
    env = _env()
    ref_figs = reference_figures(rubric, out) if with_reference_figures else []
    # only the items some submission was graded on: a figure item its mode did not run (backprop's B12-curves,
    # `auto: false`, trains a minute) is shown to nobody, so its key is not built for the report
    graded = {it.item_id for row in table for it in row.result.items if it.checks}
    check_figs = reference_check_figures(rubric, graded) if with_reference_figures else {}
    manual_max = sum(i.points for i in rubric.items if i.manual)
    page = env.get_template("student.html.j2")
    for row in table:
        r = row.result
        answers, images = {}, ()
        try:
            sub = read_submission(r.path, prefer=(rubric.assignment,))
            answers = sub.answers
            images = tuple((cell, clean) for cell, png in sub.images if (clean := clean_b64_png(png)) is not None)
        except (SubmissionError, OSError):
            pass
        executed = file_stem(r.student) + EXECUTED_SUFFIX  # written beside the pages by a full-mode batch
        figures = {it.item_id: item_figures(it, check_figs) for it in r.items}
        (out / page_name(r.student)).write_text(page.render(r=student_view(r, rubric), row=row, answers=answers,
                                                            images=images, ref_figures=ref_figs,
                                                            manual_max=manual_max, figures=figures,
                                                            executed=executed if (out / executed).is_file() else None))
    index = out / "index.html"
    index.write_text(env.get_template("overview.html.j2").render(
        rubric=rubric, table=table, stats=overview_stats(table, rubric),
        auto_items=[i for i in rubric.items if not i.manual]))
    return index

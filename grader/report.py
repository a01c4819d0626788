"""HTML feedback: one page per student and a class overview (jinja2).

Pages are built from plain :class:`~grader.model.SubmissionResult` data (so a
report can be made later from ``--json`` results), plus what the submission
file itself holds: the answers to manual items and the figures the student
saved in the notebook's outputs. Nothing is executed. Reference figures, when
the assignment's ``reference/figures/<module>.py`` has
``make_reference_figures(out_dir)``, are drawn once per report and shown
beside the student's.

Model answers and answer keys never appear on a student page.
"""
from __future__ import annotations

import collections
import importlib
import os
import re
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from grader.rubric import Rubric
from grader.model import SubmissionResult
from grader.pipeline.keys import cache_dir, key_version
from grader.pipeline.load import SubmissionError, read_submission


def _env() -> Environment:
    env = Environment(loader=PackageLoader("grader", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["basename"] = lambda p: os.path.basename(str(p))
    env.filters["pagename"] = page_name
    return env


def page_name(student: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", student) + ".html"


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


def write_reports(results: list[SubmissionResult], rubric: Rubric, out_dir: str | Path, *,
                  with_reference_figures: bool = True) -> Path:
    """Write ``out_dir/index.html`` and one page per student; returns the index path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = _env()
    ref_figs = reference_figures(rubric, out) if with_reference_figures else []
    manual_max = sum(i.points for i in rubric.items if i.manual)
    page = env.get_template("student.html.j2")
    for r in results:
        answers, images = {}, ()
        try:
            sub = read_submission(r.path)
            answers, images = sub.answers, sub.images
        except (SubmissionError, OSError):
            pass
        (out / page_name(r.student)).write_text(page.render(r=r, answers=answers, images=images,
                                                            ref_figures=ref_figs, manual_max=manual_max))
    stats = []
    for it in rubric.items:
        if it.manual:
            continue
        got = [i for r in results for i in r.items if i.item_id == it.id]
        counts = collections.Counter(m for i in got for m in dict.fromkeys(i.mistakes))
        stats.append({"id": it.id, "title": it.title, "points": it.points,
                      "full": sum(i.points >= it.points - 1e-9 for i in got),
                      "mean": sum(i.points for i in got) / len(got) if got else 0.0,
                      "mistakes": counts.most_common(3)})
    mean = sum(r.score for r in results) / len(results) if results else 0.0
    index = out / "index.html"
    index.write_text(env.get_template("overview.html.j2").render(
        rubric=rubric, results=results, item_stats=stats, mean=mean,
        max_auto=sum(i.points for i in rubric.items if not i.manual)))
    return index

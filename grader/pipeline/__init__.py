"""Grading one submission, as a short chain of visible stages.

    load -> extract -> plan -> run (sandbox) -> score (judge)

==========  ============================  =========================================
stage       module                        trust
==========  ============================  =========================================
load        :mod:`grader.pipeline.load`   reads files, runs nothing
extract     :mod:`.extract`               AST only, runs nothing
plan        :mod:`.plan`                  trusted: the calls and their inputs
keys        :mod:`.keys`                  trusted: reference and mutant outcomes
run         :func:`grader.sandbox.run_job` **the trust line: student code runs here**
score       :mod:`.score`                 trusted, on the plain data that came back
==========  ============================  =========================================

:func:`grade_submission` is the one chain that ``dlgrade grade``, ``check``,
``validate`` and the student's bundle all call; they differ only in the
:class:`~grader.pipeline.plan.Plan` and the key provider they pass. Any failure
of the submission becomes a scored, explained result; an exception here is a
bug in the grader, not the student's.
"""
from __future__ import annotations

import time
from pathlib import Path

from grader.model import Options, SubmissionResult, clean_result
from grader.pipeline.extract import Extraction, extract
from grader.pipeline.keys import KeyProvider, ReferenceKeys
from grader.pipeline.load import Submission, SubmissionError, read_submission
from grader.pipeline.plan import Plan, make_plan, selected_items
from grader.pipeline.score import failed_item, follow_through, score_items
from grader.rubric import Rubric, get_rubric
from grader.sandbox import run_job

__all__ = ["Options", "Plan", "ReferenceKeys", "failed_submission", "grade_file", "grade_submission", "make_plan",
           "prepare_keys", "selected_items", "unreadable"]


def grade_submission(sub: Submission, plan: Plan, keys: KeyProvider, opts: Options | None = None,
                     extraction: Extraction | None = None) -> SubmissionResult:
    """Grade an already-read submission: extract, run the plan's calls in the sandbox, score."""
    opts = opts or Options()
    t0 = time.perf_counter()
    ex = extraction or extract(sub, plan.roots, aliases=plan.aliases, known=plan.provided_names)
    job = run_job(list(plan.provided) + ex.to_plain(), plan.calls, plan.arrays, aliases=plan.aliases,
                  data_files=list(plan.data_files), limits=plan.limits, require_isolation=not opts.unsafe,
                  timeouts=plan.timeouts, groups=plan.groups, uses=plan.uses)
    ids = [i.id for i in plan.items]
    feedback = keys.feedback(ids) if opts.name_mistakes else {}
    mutant_keys = keys.mutants(ids) if opts.name_mistakes else {}
    results = score_items(plan.items, full=plan.full, outcomes=job.outcomes, index=plan.index,
                          key=keys.expected(ids), mutant_keys=mutant_keys, feedback=feedback,
                          incomplete=incomplete_calls(plan, ex, job.load_warnings))
    results = follow_through(plan.items, results, ex.reads)
    declared = sub.assignment if sub.assignment not in (None, plan.assignment) else None
    return clean_result(SubmissionResult(
        sub.student, str(sub.path), plan.assignment, plan.rubric_version, keys.key_version, sub.sha256,
        tuple(results), tuple(reading_warnings(sub, plan.assignment) + submission_warnings(ex, job)), None,
        job.layers, round(time.perf_counter() - t0, 3), job.stdout_tail[-1000:], sub.files,
        tuple(name for name, _ in sub.ignored), declared))


def reading_warnings(sub: Submission, assignment: str) -> list[str]:
    """A notebook made for another assignment (its metadata says so), and the files of a folder not graded."""
    out = []
    if sub.assignment not in (None, assignment):
        out.append(f"WRONG ASSIGNMENT? this notebook's metadata says it is {sub.assignment}, but it was graded as "
                   f"{assignment}")
    return out + [why for _, why in sub.ignored]


def incomplete_calls(plan: Plan, ex: Extraction, load_warnings: list[dict]) -> dict[str, str]:
    """call id -> why the submission's code for it is incomplete (a failed or missing statement it needs).

    A failing case of such a call is told what was missing, and no known
    mistake is named for it: the evidence for a mistake is not complete.
    """
    failed: dict[int, str] = {}
    for w in load_warnings:
        if w.get("kind") != "provided" and str(w.get("id", "")).isdigit():
            failed[int(w["id"])] = w.get("error", "")
    statements = ex.by_sid()
    why: dict[str, str] = {}
    for name in plan.roots:
        reasons = []
        for sid in ex.needs.get(name, ()):
            if sid in failed and sid in statements:
                st = statements[sid]
                provides = [n for n in st.names if n in ex.reads.get(name, ())]
                what = f"`{name}` needs `{provides[0]}`" if provides and provides[0] != name else f"`{name}` needs it"
                reasons.append(f"{st.label}: `{st.brief()}` failed ({failed[sid]}); {what}")
        for missing in ex.unbound.get(name, ())[:3]:
            reasons.append(f"`{name}` reads `{missing}`, which the notebook never defines")
        if reasons:
            why[name] = "; ".join(reasons[:3])
    out = {}
    for cid, names in plan.uses.items():
        texts = [why[n] for n in names if n in why]
        if texts:
            out[cid] = "; ".join(dict.fromkeys(texts))
    return out


def submission_warnings(ex: Extraction, job) -> list[str]:
    """What extraction skipped plus what failed while loading the submission's own definitions."""
    return list(ex.warnings) + [f"{w['label']}: {w['error']}" for w in job.load_warnings
                                if w.get("kind") != "provided"]


def unreadable(path: Path, plan: Plan, key_version: str, reason: str) -> SubmissionResult:
    """A zero-score result for a submission that could not be read at all."""
    items = tuple(failed_item(i, f"not graded: {reason}") for i in plan.items)
    sid = path.name if path.is_dir() else path.stem
    return clean_result(SubmissionResult(sid, str(path), plan.assignment, plan.rubric_version, key_version, "", items,
                                         (), reason))


def failed_submission(path: str | Path, rubric: Rubric, opts: Options, reason: str) -> SubmissionResult:
    """A zero-score result for ``path`` when grading itself failed (a grader bug: ``reason`` says so)."""
    keys = ReferenceKeys(rubric, full=opts.full)
    return unreadable(Path(path), make_plan(rubric, opts, keys), keys.key_version, reason)


def prepare_keys(rubric: Rubric, opts: Options) -> None:
    """Compute (or load) the plan and every answer key a batch under ``opts`` needs, once, into the cache."""
    keys = ReferenceKeys(rubric, full=opts.full)
    ids = [i.id for i in make_plan(rubric, opts, keys).items]
    keys.expected(ids)
    if opts.name_mistakes:
        keys.mutants(ids)


def grade_file(path: str | Path, assignment: str | Rubric, public_only: bool = False, *,
               opts: Options | None = None) -> SubmissionResult:
    """Read, extract, run and score one submission file (or folder) against the reference."""
    rubric = assignment if isinstance(assignment, Rubric) else get_rubric(assignment)
    opts = opts or Options(public_only=public_only)
    keys = ReferenceKeys(rubric, full=opts.full)
    plan = make_plan(rubric, opts, keys)
    path = Path(path)
    try:
        sub = read_submission(path, prefer=(rubric.assignment,))
    except SubmissionError as exc:
        return unreadable(path, plan, keys.key_version, str(exc))
    except OSError as exc:
        return unreadable(path, plan, keys.key_version, f"could not be read ({exc.strerror or exc})")
    return grade_submission(sub, plan, keys, opts)

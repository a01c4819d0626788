"""Grading one submission, as a short chain of stages.

    load -> extract -> plan -> run (sandbox) -> compare + score

Each stage is a function over plain data; only :func:`grader.sandbox.run_job`
runs student code. Any failure of the submission becomes a scored,
explained result; an exception here is a bug in the grader, not the student's.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from grader import answers, skeleton
from grader.extract import Extraction, extract
from grader.model import Options, SubmissionResult
from grader.rubric import Rubric, get_rubric
from grader.sandbox import Limits, run_job
from grader.score import failed_item, score_items
from grader.submission import Submission, SubmissionError, read_submission


@dataclass
class Plan:
    calls: list[dict] = field(default_factory=list)
    arrays: dict = field(default_factory=dict)
    timeouts: dict[str, float] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    index: dict[tuple, str] = field(default_factory=dict)
    """(item id, check name, case index) -> call id."""


def selected_items(rubric: Rubric, opts: Options):
    for item in rubric.items:
        if opts.public_only and item.visibility != "public":
            continue
        if opts.items and item.id not in opts.items:
            continue
        yield item


def plan_calls(rubric: Rubric, opts: Options) -> Plan:
    """Every call the submission must answer, with its inputs materialised.

    The plan is the same for every submission of a batch (inputs such as the
    MNIST arrays are loaded once), so it is cached per rubric version; callers
    only read it.
    """
    if rubric.path is None:
        return _make_plan(rubric, opts)
    return _plan_cached(str(rubric.path), rubric.fingerprint(), opts)


@lru_cache(maxsize=8)
def _plan_cached(path: str, fingerprint: str, opts: Options) -> Plan:
    from grader.rubric import load_rubric_cached

    return _make_plan(load_rubric_cached(path), opts)


def _make_plan(rubric: Rubric, opts: Options) -> Plan:
    plan = Plan()
    ns = answers.reference_namespace(rubric)
    seen: dict[str, str] = {}
    for item in selected_items(rubric, opts):
        for check in item.checks:
            if check.full and not opts.full:
                continue
            for i in range(len(check.cases)):
                case, arrays = answers.case_inputs(check, i, ns)
                sig = answers.case_signature(case, arrays)
                timeout = check.timeout_s or rubric.limits.timeout_s
                if sig in seen:  # the same call judged by several checks runs once
                    cid = seen[sig]
                    plan.index[(item.id, check.name, i)] = cid
                    plan.timeouts[cid] = max(plan.timeouts[cid], timeout)
                    continue
                cid = f"c{len(plan.calls)}"
                seen[sig] = cid
                renamed = {}
                for k, v in arrays.items():
                    renamed[k] = f"{cid}_{k}"
                    plan.arrays[f"{cid}_{k}"] = v
                plan.calls.append({"id": cid, "steps": _rename(case["steps"], renamed), "returns": case["returns"]})
                plan.index[(item.id, check.name, i)] = cid
                plan.groups[cid] = f"{item.id}/{check.name}"
                plan.timeouts[cid] = timeout
    return plan


def _rename(value, renamed):
    if isinstance(value, list):
        return [_rename(v, renamed) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__nd__"}:
            return {"__nd__": renamed[value["__nd__"]]}
        return {k: _rename(v, renamed) for k, v in value.items()}
    return value


def grade_submission(sub: Submission, rubric: Rubric, opts: Options = Options(),
                     extraction: Extraction | None = None) -> SubmissionResult:
    """Grade an already-read submission against ``rubric``."""
    t0 = time.perf_counter()
    ex = extraction or extract(sub)
    plan = plan_calls(rubric, opts)
    limits = Limits(**rubric.limits.model_dump())
    data_files = [answers.data_dir() / f for f in rubric.data_files]
    job = run_job(skeleton.provided_code(rubric) + ex.to_plain(), plan.calls, plan.arrays, aliases=rubric.aliases, data_files=data_files,
                  limits=limits, require_isolation=not opts.unsafe, timeouts=plan.timeouts, groups=plan.groups)
    chosen = list(selected_items(rubric, opts))
    key = answers.answer_key(rubric, full=opts.full, items=[i.id for i in chosen])
    mistakes = {m.name: m for m in answers.mistakes_of(rubric)} if opts.name_mistakes else {}
    warnings = submission_warnings(ex, job)
    mutant_keys = {n: answers.mutant_key(rubric, m, full=opts.full) for n, m in mistakes.items()
                   if any(m.item == i.id for i in chosen)}
    feedback: dict[str, dict[str, str]] = {}
    for n, m in mistakes.items():
        feedback.setdefault(m.item, {})[n] = m.feedback
    results = score_items(chosen, full=opts.full, outcomes=job.outcomes, index=plan.index, key=key,
                          mutant_keys=mutant_keys, feedback=feedback)
    return SubmissionResult(sub.student, str(sub.path), rubric.assignment, rubric.version, rubric.fingerprint(),
                            sub.sha256, tuple(results), tuple(warnings), None, job.layers,
                            round(time.perf_counter() - t0, 3), job.stdout_tail[-1000:])


def submission_warnings(ex: Extraction, job) -> list[str]:
    """What extraction skipped plus what failed while loading the submission's own definitions."""
    return list(ex.warnings) + [f"{w['label']}: {w['error']}" for w in job.load_warnings
                                if w.get("kind") != "provided"]


def unreadable(path: Path, rubric: Rubric, reason: str, opts: Options = Options()) -> SubmissionResult:
    """A zero-score result for a submission that could not be read at all."""
    items = tuple(failed_item(i, f"not graded: {reason}") for i in selected_items(rubric, opts))
    sid = path.name if path.is_dir() else path.stem
    return SubmissionResult(sid, str(path), rubric.assignment, rubric.version, rubric.fingerprint(), "",
                            items, (), reason)


def grade_file(path: str | Path, assignment: str | Rubric, public_only: bool = False, *,
               opts: Options | None = None) -> SubmissionResult:
    """Read, extract, run and score one submission file (or folder)."""
    rubric = assignment if isinstance(assignment, Rubric) else get_rubric(assignment)
    opts = opts or Options(public_only=public_only)
    path = Path(path)
    try:
        sub = read_submission(path)
    except SubmissionError as exc:
        return unreadable(path, rubric, str(exc), opts)
    except OSError as exc:
        return unreadable(path, rubric, f"could not be read ({exc.strerror or exc})", opts)
    return grade_submission(sub, rubric, opts)

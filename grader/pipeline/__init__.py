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
from dataclasses import replace
from pathlib import Path

from grader.model import ItemResult, ItemStatus, Options, SubmissionResult, clean_result
from grader.pipeline.executed import executed_notebook
from grader.pipeline.extract import Extraction, execution_cells, extract
from grader.pipeline.keys import KeyProvider, ReferenceKeys
from grader.pipeline.load import Submission, SubmissionError, read_submission
from grader.pipeline.plan import Plan, make_plan, selected_items
from grader.pipeline.score import failed_item, follow_through, follow_through_credit, score_items
from grader.rubric import Rubric, get_rubric
from grader.sandbox import preload_for, run_job

__all__ = ["Options", "Plan", "ReferenceKeys", "failed_submission", "grade_file", "grade_submission", "make_plan",
           "prepare_keys", "selected_items", "slice_modules", "unreadable"]


def grade_submission(sub: Submission, plan: Plan, keys: KeyProvider, opts: Options | None = None,
                     extraction: Extraction | None = None) -> SubmissionResult:
    """Grade an already-read submission: extract, run the plan's calls in the sandbox, score.

    ``opts.mode`` decides what runs how (see :class:`~grader.model.Options`): the sliced items' calls run
    against the dependency slice, the full-mode items' calls against the executed notebook (every cell
    in order, in the sandbox); the executed notebook comes back as ``result.notebook``.
    """
    opts = opts or Options()
    t0 = time.perf_counter()
    budget_end = time.monotonic() + plan.limits.budget_s
    ids = [i.id for i in plan.items]
    keyed = keyed_items(plan, opts.mode)
    feedback = keys.feedback(keyed) if opts.name_mistakes else {}
    mutant_keys = keys.mutants(keyed) if opts.name_mistakes else {}
    key = keys.expected(keyed)
    full = full_items(plan, opts.mode)
    ex_all = extraction if extraction is not None and not full else \
        extract(sub, plan.roots, aliases=plan.aliases, known=plan.provided_names)
    scored: dict[str, ItemResult] = {}
    warnings: list[str] = []
    jobs = []

    outcomes: dict[str, dict] = {}  # item id -> the outcomes of the job that graded it (follow-through credit)
    incomplete_all: dict[str, str] = {}

    def score(items, job, ex, incomplete):
        for r in score_items(items, full=plan.full, outcomes=job.outcomes if job else {}, index=plan.index, key=key,
                             mutant_keys=mutant_keys, feedback=feedback, incomplete=incomplete):
            scored[r.item_id] = r
            outcomes[r.item_id] = job.outcomes if job else {}
        incomplete_all.update(incomplete)

    for item in plan.items:
        if item.needs == "full" and item.id not in full:
            scored[item.id] = not_graded_in_mode(item, opts.mode)
    sliced = [i for i in plan.items if i.id not in full and i.id not in scored]
    slice_calls = calls_of(plan, {i.id for i in sliced})
    if sliced:
        job, ex = None, ex_all
        if slice_calls:
            roots = roots_of(plan, slice_calls)
            ex = extraction or (ex_all if set(roots) == set(plan.roots) else
                                extract(sub, roots, aliases=plan.aliases, known=plan.provided_names))
            job = run_job(list(plan.provided) + ex.to_plain(), slice_calls, plan.arrays, aliases=plan.aliases,
                          data_files=list(plan.data_files), limits=plan.limits, require_isolation=not opts.unsafe,
                          timeouts=plan.timeouts, groups=plan.groups, uses=plan.uses,
                          modules=slice_modules(plan, ex, roots))
            failed = slice_failures(ex, job, roots) if opts.mode == "auto" else []
            if failed:
                full = {i.id for i in plan.items if not i.manual and (i.needs != "full" or i.auto)}
                sliced = [i for i in sliced if i.manual]
                warnings.append(f"{failed[0]} while running the slice, so every item was graded against the "
                                "executed notebook (--mode auto)")
                job = None
        if job is not None:
            jobs.append(job)
            warnings += submission_warnings(ex, job)
        score(sliced, job, ex, incomplete_calls(plan, ex, job.load_warnings) if job else {})
    notebook = None
    if full:
        full_calls = calls_of(plan, full)
        if full_calls or opts.mode == "full":
            cells = execution_cells(sub)
            limits = replace(plan.limits, budget_s=max(1.0, budget_end - time.monotonic()))
            t1 = time.perf_counter()
            job = run_job(list(plan.provided), full_calls, plan.arrays, aliases=plan.aliases,
                          data_files=list(plan.data_files), limits=limits, require_isolation=not opts.unsafe,
                          timeouts=plan.timeouts, groups=plan.groups, uses=plan.uses, cells=cells)
            jobs.append(job)
            cell_lw = cell_warnings(ex_all, cells, job.cells)
            warnings += full_warnings(ex_all, cells, job, sorted(full, key=ids.index))
            score([i for i in plan.items if i.id in full], job, ex_all,
                  {**incomplete_calls(plan, ex_all, cell_lw + job.load_warnings),
                   **incomplete_figures(plan, cells, job)})
            notebook = executed_notebook(sub, cells, job.cells, stopped=job.stopped,
                                         seconds=round(time.perf_counter() - t1, 3))
        else:
            score([i for i in plan.items if i.id in full], None, ex_all, {})
    results = follow_through_credit(plan.items, [scored[i] for i in ids], plan, outcomes, key, keys, incomplete_all)
    results = follow_through(plan.items, results, ex_all.reads)
    layers = jobs[-1].layers if jobs else ()
    declared = sub.assignment if sub.assignment not in (None, plan.assignment) else None
    return clean_result(SubmissionResult(
        sub.student, str(sub.path), plan.assignment, plan.rubric_version, keys.key_version, sub.sha256,
        tuple(results), tuple(dict.fromkeys(reading_warnings(sub, plan.assignment) + warnings)), None, layers,
        round(time.perf_counter() - t0, 3), (jobs[-1].stdout_tail[-1000:] if jobs else ""), sub.files,
        tuple(name for name, _ in sub.ignored), declared, notebook=notebook))


def full_items(plan: Plan, mode: str) -> set[str]:
    """The items graded against the executed notebook under ``mode`` (before ``auto`` falls back)."""
    if mode == "full":
        return {i.id for i in plan.items if not i.manual}
    if mode == "auto":
        return {i.id for i in plan.items if i.needs == "full" and i.auto}
    return set()


def keyed_items(plan: Plan, mode: str) -> list[str]:
    """The items whose answer keys grading under ``mode`` needs: all but the ``needs: full`` items the mode
    does not run (slice mode's, and ``auto: false`` ones in ``auto``), whose keys may be slow to build (B12's
    reference figure trains the sheet's two 5000-iteration runs)."""
    full = full_items(plan, mode)
    return [i.id for i in plan.items if not (i.needs == "full" and i.id not in full)]


def not_graded_in_mode(item, mode: str):
    """A ``needs: full`` item this mode does not run: said so, never a failure that costs points.

    A figure item with points becomes pending (status ``manual``: left out of the score and its maximum
    until it is graded, as the TA's own items are); any other (a zero-point advisory figure item, an item
    reading a computed value) is ``not_run``.
    """
    figures = any(c.notebook_figures for c in item.checks)
    what = "the figures the executed notebook draws" if figures else "the executed notebook (`needs: full`)"
    if mode == "slice":
        how = "--mode auto (the default) or --mode full" if item.auto else "--mode full"
        reason = f"not graded in slice mode: this item is judged on {what}; grade with {how}"
    else:
        reason = (f"not graded in --mode {mode}: this item is judged on {what}, which takes the whole notebook's "
                  "run (too slow for every batch); grade with --mode full")
    if figures and item.points > 0:
        return replace(failed_item(item, f"pending: {reason}"), status=ItemStatus.MANUAL)
    return failed_item(item, reason)


def incomplete_figures(plan: Plan, cells: list[dict], job) -> dict[str, str]:
    """call id -> why the notebook's figures may be incomplete: a cell raised, timed out or did not run.

    Calls that judge the figures the notebook drew (``notebook_figures`` steps) fail with that reason and
    name no known mistake: a figure the failing cell would have drawn is missing, not wrong.
    """
    bad = [(c, r) for c, r in zip(cells, job.cells) if r.get("status") != "ok"]
    if not bad and not job.stopped and len(job.cells) >= len(cells):
        return {}
    if bad:
        c, r = bad[0]
        why = f"{c['label']} {'did not run' if r.get('status') == 'not_run' else 'failed'} " \
              f"({_cell_error(r.get('error') or {}, ('Timeout', 'WorkerDied', 'NotRun'))})"
    else:
        why = job.stopped["message"] if job.stopped else "the notebook did not run to its end"
    more = f" and {len(bad) - 1} more cell(s)" if len(bad) > 1 else ""
    text = f"{why}{more}, so the notebook's figures may be missing some it would draw"
    return {c["id"]: text for c in plan.calls if any("notebook_figures" in st for st in c["steps"])}


def calls_of(plan: Plan, items: set[str]) -> list[dict]:
    """The plan's calls that the cases of ``items`` use, in plan order."""
    wanted = {cid for (item, _, _), cid in plan.index.items() if item in items}
    wanted |= {cid for (item, *_), cid in plan.upstream.items() if item in items}  # follow-through's upstream calls
    return [c for c in plan.calls if c["id"] in wanted]


def roots_of(plan: Plan, calls: list[dict]) -> tuple[str, ...]:
    """The submission's names ``calls`` call or read: where slicing starts for them."""
    return tuple(dict.fromkeys(n for c in calls for n in plan.uses.get(c["id"], ())))


def slice_modules(plan: Plan, ex: Extraction, roots) -> tuple[str, ...]:
    """The modules a slice job's code imports when it runs ``roots`` (the zygote's preload hint).

    The provided code's imports, those of every top-level statement and class (they run when the slice
    loads), and those inside the functions the roots depend on; a function no root reaches (a plotting
    helper, say) is defined, but the zygote does not import its modules ahead of the job.
    """
    reached = _reached(ex, roots)
    hot = [s for s in ex.statements if s.kind != "def" or s.sid in reached]
    return preload_for(list(plan.provided) + [{"source": s.source} for s in hot])


def _reached(ex: Extraction, roots) -> set[int]:
    """The ``sid`` of every kept statement the graded functions ``roots`` depend on."""
    return {sid for r in roots for sid in ex.needs.get(r, ())}


def slice_failures(ex: Extraction, job, roots) -> list[str]:
    """Why the slice is not to be trusted: kept statements a graded function needs that failed to run."""
    needed = _reached(ex, roots)
    statements = ex.by_sid()
    return [f"{statements[sid].label}: `{statements[sid].brief()}` failed ({error})"
            for sid, error in failed_statements(job.load_warnings).items() if sid in needed and sid in statements]


def failed_statements(load_warnings: list[dict]) -> dict[int, str]:
    """sid -> error of the submission's statements that failed to load (provided code left out)."""
    return {int(w["id"]): w.get("error", "") for w in load_warnings
            if w.get("kind") != "provided" and str(w.get("id", "")).isdigit()}


def _cell_error(err: dict, bare=("Timeout",)) -> str:
    """A cell report's error in one line: the message alone for the grader's own stops (``bare`` types)."""
    return err.get("message", "") if err.get("type") in bare else f"{err.get('type', '')}: {err.get('message', '')}"


def cell_warnings(ex: Extraction, cells: list[dict], reports: list[dict]) -> list[dict]:
    """Full mode: the statements that raised or did not run, as load warnings (``id``: the statement's sid)."""
    out = []
    for cell, r in zip(cells, reports):
        sids = ex.layout.get(cell["label"], ())
        text = _cell_error(r.get("error") or {}, ("Timeout", "WorkerDied", "NotRun"))
        k = r.get("failed")
        if r["status"] in ("error", "timeout") and k is not None and k < len(sids):
            out.append({"label": cell["label"], "kind": "cell", "id": str(sids[k]), "error": text})
            out += [{"label": cell["label"], "kind": "cell", "id": str(sid),
                     "error": "did not run: an earlier statement of the cell raised"} for sid in sids[k + 1:]]
        elif r["status"] in ("crashed", "timeout", "not_run"):
            out += [{"label": cell["label"], "kind": "cell", "id": str(sid), "error": f"did not run ({text})"}
                    for sid in sids]
    return out


def full_warnings(ex: Extraction, cells: list[dict], job, items: list[str], limit: int = 20) -> list[str]:
    """What a TA should know about a full-mode run: which items it graded, failing cells, where it stopped."""
    ran = sum(1 for r in job.cells if r["status"] != "not_run")
    out = [f"full mode: {', '.join(items)} graded against the executed notebook ({ran} of {len(cells)} cells ran)"]
    at = job.stopped["at"] if job.stopped else None
    bad = [(c, r) for n, (c, r) in enumerate(zip(cells, job.cells)) if r["status"] in ("error", "timeout") and n != at]
    for c, r in bad[:limit]:
        out.append(f"{c['label']}: {_cell_error(r.get('error') or {})} (full mode: the next cells still ran)")
    if len(bad) > limit:
        out.append(f"... and {len(bad) - limit} more cells that raised")
    if job.stopped:
        out.append(job.stopped["message"])
    out += [f"{w['label']}: {w['error']}" for w in job.load_warnings if w.get("kind") != "provided"]
    return list(ex.warnings) + out


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
    failed = failed_statements(load_warnings)
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
    ids = keyed_items(make_plan(rubric, opts, keys), opts.mode)
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

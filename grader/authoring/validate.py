"""``dlgrade validate``: the rubric is sound, the reference scores full marks,
the skeleton scores zero without a crash, every known mutant is caught and named.

Each submission here goes through the real pipeline (extraction, sandbox,
comparison), exactly as a student's would.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat
import numpy as np

from grader.authoring import mutants as mutant_src
from grader.authoring import skeleton
from grader.judge import COMPARATORS, as_numeric
from grader.model import ItemStatus, Options
from grader.pipeline import ReferenceKeys, grade_submission, make_plan
from grader.pipeline.load import read_submission
from grader.pipeline.score import compare_case
from grader.rubric import BandExpected, Rubric
from grader.rubric.load import rubric_dir


@dataclass(frozen=True)
class Finding:
    assignment: str
    what: str
    ok: bool
    detail: str


def figure_drivers(rubric: Rubric, items=None) -> list[str]:
    """The reference's drawing functions of the figure items (``notebook_figures`` steps), in rubric order."""
    out = []
    for item in rubric.items:
        if items is not None and item.id not in items:
            continue
        for check in item.checks:
            for case in check.cases:
                for st in case.steps or []:
                    name = st.get("notebook_figures")
                    if name and name not in out:
                        out.append(name)
    return out


def full_only(rubric: Rubric) -> tuple[str, ...]:
    """The items that run only with ``--mode full`` (``needs: full`` and ``auto: false``): validate grades
    the reference and their mutants so, as a TA's ``--mode full`` run would."""
    return tuple(i.id for i in rubric.items if i.needs == "full" and not i.auto)


def with_figures(source: str, rubric: Rubric, items=None) -> str:
    """The reference (or a mutant) source as a notebook that draws what the figure items ask: the module,
    then a cell displaying each drawing function's figure, as a student's plotting cells would."""
    names = figure_drivers(rubric, items)
    if not names:
        return source
    calls = "\n".join(f"display({n}())" for n in names)
    return f"{source.rstrip()}\n\n\n# %% the notebook's figures (dlgrade validate: what the figure items ask)\n{calls}\n"


def _grade_source(source: str, name: str, rubric: Rubric, opts: Options, suffix=".py"):
    with tempfile.TemporaryDirectory(prefix="dlgrade-validate-") as d:
        path = Path(d) / f"{name}{suffix}"
        path.write_text(source)
        keys = ReferenceKeys(rubric, full=opts.full)
        return grade_submission(read_submission(path), make_plan(rubric, opts, keys), keys, opts)


def trivial_answers(rubric: Rubric, *, full: bool = False) -> list[Finding]:
    """Items that give full marks to a trivial answer: all zeros, or all ones, shaped like the reference's.

    Judged in the trusted process on the answer keys (nothing runs in the sandbox):
    an item every one of whose checks accepts the constant (while the reference's
    value is not that constant) would reward a placeholder. A check that judges a
    property (``expects: nothing``) or a non-numeric value counts as rejecting it.
    """
    keys = ReferenceKeys(rubric, full=full)
    out = []
    for item in rubric.items:
        if item.manual:
            continue
        key = keys.expected([item.id])
        checks = [c for c in item.checks if full or not c.full]
        for const in (0.0, 1.0):
            accepted = bool(checks)
            for check in checks:
                refs = [key[(item.id, check.name, i)] for i in range(len(check.cases))]
                numeric = COMPARATORS[check.compare.kind].expects != "nothing" and \
                    all(r.error is None and as_numeric(r.value) is not None for r in refs)
                if not numeric or all(np.all(as_numeric(r.value) == const) for r in refs):
                    accepted = False  # cannot be answered by a constant, or the constant is right
                    break
                cands = [np.full(np.shape(as_numeric(r.value)), const) for r in refs]
                if not all(compare_case(check, c, r.value).passed for c, r in zip(cands, refs)):
                    accepted = False
                    break
            if accepted:
                out.append(Finding(rubric.assignment, f"trivial answer {item.id} (all {const:g}s)", False,
                                   f"an answer of all {const:g}s passes every check of {item.id}; add a case "
                                   "or tighten a band so a placeholder cannot score"))
    if not out:
        out.append(Finding(rubric.assignment, "no trivial answer scores", True,
                           "all-zero and all-one answers fail at least one check of every item"))
    return out


def alternatives(rubric: Rubric) -> list[tuple[Path, tuple[str, ...]]]:
    """The alternative-method references of ``rubric``: ``alternatives/<assignment>/*.ipynb`` beside the rubric.

    Correct notebooks written by another valid method and in another style
    (lambdas, ``np.vectorize``, top-level helpers, in-place updates, ...), each
    declaring in its metadata (``dlgrade.alternative.items``) the items it
    answers. Validation requires full marks for each on those items, so a
    tolerance or check that only the reference's own method passes fails CI.
    """
    out = []
    root = rubric.path.parent if rubric.path is not None else rubric_dir()
    for path in sorted((root / "alternatives" / rubric.assignment).glob("*.ipynb")):
        try:
            meta = nbformat.read(str(path), as_version=4).metadata.get("dlgrade", {})
            items = tuple(str(i) for i in meta["alternative"]["items"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            items = ()
        out.append((path, items))
    return out


def follow_through_helpers(rubric: Rubric, *, full: bool = False) -> list[Finding]:
    """Every ``follow_through`` helper, fed with the reference's own upstream values, gives the answer key.

    Judged in the trusted process with each check's own comparator: a helper that disagrees with the
    function it stands in for would credit a wrong answer (or refuse a right one) whenever a student's
    upstream item fails.
    """
    keys = ReferenceKeys(rubric, full=full)
    out = []
    for item in rubric.items:
        for check in item.checks:
            if check.follow_through is None or (check.full and not full):
                continue
            key = keys.expected([item.id])
            bad = []
            for i in range(len(check.cases)):
                try:
                    ups = {n: keys.upstream_reference(check, i, n) for n in check.follow_through.given}
                    errs = [f"{n}: {o.error}" for n, o in ups.items() if o.error is not None]
                    want = None if errs else keys.follow_through(check, i, {n: o.value for n, o in ups.items()})
                except Exception as exc:  # noqa: BLE001 - a rubric error, reported as a finding
                    errs, want = [f"{type(exc).__name__}: {exc}"], None
                if want is not None and want.error is not None:
                    errs = [want.error]
                if errs:
                    bad.append(f"case {i}: {errs[0]}")
                elif not (c := compare_case(check, want.value, key[(item.id, check.name, i)].value)).passed:
                    bad.append(f"case {i}: {c.message}")
            out.append(Finding(rubric.assignment, f"follow-through {item.id}/{check.name}", not bad,
                               f"{check.follow_through.reference} with the reference's own "
                               f"{', '.join(check.follow_through.given)} gives the key on all {len(check.cases)} "
                               "cases" if not bad else "; ".join(bad[:3])))
    return out


def validate(rubric: Rubric, *, full: bool = False, unsafe: bool = False, mutants: bool = True,
             progress=None) -> list[Finding]:
    """Run every validation of ``rubric``; ``progress(str)`` is told what runs."""
    a = rubric.assignment
    say = progress or (lambda s: None)
    out: list[Finding] = []
    # 1. bands calibrated
    missing = [f"{i.id}/{c.name}" + (" (stale: the check changed since calibration)" if c.expected.stale else "")
               for i in rubric.items for c in i.checks
               if isinstance(c.expected, BandExpected) and c.expected.band is None and (full or not c.full)]
    out.append(Finding(a, "bands calibrated", not missing,
                       "all calibrated" if not missing else f"uncalibrated: {', '.join(missing)}; "
                       f"run `dlgrade calibrate {a}`"))
    # 2. skeleton in sync
    say("skeleton")
    committed = skeleton.skeleton_path(rubric)
    fresh = skeleton.render(rubric)
    in_sync = committed.exists() and committed.read_text() == fresh
    out.append(Finding(a, "skeleton up to date", in_sync,
                       str(committed) if in_sync else f"{committed} differs from the generator; "
                       f"run `dlgrade skeleton {a}`"))
    say("trivial answers")
    out += trivial_answers(rubric, full=full)
    say("follow-through helpers")
    out += follow_through_helpers(rubric, full=full)
    opts = Options(full=full, unsafe=unsafe)
    # 3. reference scores full marks
    say("reference")
    ref_src = mutant_src.reference_source(rubric)
    res = _grade_source(with_figures(ref_src, rubric), "reference", rubric, opts)
    items, seconds = list(res.items), res.seconds
    slow = full_only(rubric)
    if slow:  # `auto: false` items run only with --mode full: grade them so
        say("reference (--mode full items)")
        extra = _grade_source(with_figures(ref_src, rubric, slow), "reference", rubric,
                              replace(opts, mode="full", items=slow))
        by_id = {i.item_id: i for i in extra.items}
        items, seconds = [by_id.get(i.item_id, i) for i in items], seconds + extra.seconds
    bad = [f"{i.item_id}: {i.message}" for i in items if i.status not in (ItemStatus.PASSED, ItemStatus.MANUAL)]
    score = sum(i.points for i in items)
    top = sum(i.max_points for i in items if i.status != ItemStatus.MANUAL)
    out.append(Finding(a, "reference scores 100%", not bad,
                       f"{score:g}/{top:g} in {seconds:.1f} s" + ("" if not bad else "; " + " | ".join(bad))))
    # 4. skeleton scores zero, without crashing
    say("skeleton grading")
    res = _grade_source(fresh, "skeleton", rubric, opts, suffix=".ipynb")
    scored = [f"{i.item_id} ({i.points:g})" for i in res.items if i.points > 0]
    out.append(Finding(a, "skeleton scores 0", not scored and res.error is None,
                       f"{res.score:g}/{res.max_score:g} in {res.seconds:.1f} s" +
                       ("" if not scored else f"; items scoring: {', '.join(scored)}")))
    # 5. every alternative-method reference scores full marks on its items
    known = {i.id for i in rubric.items}
    for path, items in alternatives(rubric):
        say(f"alternative {path.stem}")
        if not items or not set(items) <= known:
            out.append(Finding(a, f"alternative {path.stem}", False,
                               f"{path.name}: metadata dlgrade.alternative.items must list items of {a}"))
            continue
        keys = ReferenceKeys(rubric, full=full)
        alt_opts = Options(full=full, unsafe=unsafe, items=items)
        res = grade_submission(read_submission(path), make_plan(rubric, alt_opts, keys), keys, alt_opts)
        bad = [f"{i.item_id} {i.points:g}/{i.max_points:g}: {i.message}" for i in res.items
               if i.status not in (ItemStatus.PASSED, ItemStatus.MANUAL, ItemStatus.NOT_RUN)]
        out.append(Finding(a, f"alternative {path.stem}", not bad and res.error is None,
                           f"{res.score:g}/{res.max_score:g} on {', '.join(items)}" +
                           ("" if not bad else "; " + " | ".join(bad)) + (f"; {res.error}" if res.error else "")))
    # 6. every mutant caught and named
    if mutants:
        for m in mutant_src.mistakes_of(rubric):
            say(f"mutant {m.name}")
            try:
                src = mutant_src.mutated_source(rubric, m)
            except ValueError as exc:
                out.append(Finding(a, f"mutant {m.name}", False, str(exc)))
                continue
            item = rubric.item(m.item)
            res = _grade_source(with_figures(src, rubric, (m.item,)), m.name, rubric,
                                Options(full=full, unsafe=unsafe, items=(m.item,),
                                        mode="full" if m.item in slow else "auto"))
            ir = next((i for i in res.items if i.item_id == m.item), None)
            if ir is None or not ir.checks:
                ok, detail = False, f"item {m.item} has no check that runs (full-only checks need --full)"
            elif ir.status == ItemStatus.PASSED:
                ok, detail = False, f"NOT caught: {m.item} passes; add a case that tells it apart"
            elif m.name not in ir.mistakes:
                ok, detail = False, f"caught ({ir.points:g}/{item.points:g}) but not named: {ir.message}"
            else:
                ok, detail = True, f"caught and named ({ir.points:g}/{item.points:g} points on {m.item})"
            out.append(Finding(a, f"mutant {m.name}", ok, detail))
    return out

"""Scoring: call outcomes + answer key -> check, item and submission results.

Frozen dataclasses that cross process boundaries as plain dicts
(:meth:`SubmissionResult.to_dict` / :meth:`SubmissionResult.from_dict`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from grader.judge import COMPARATORS, Comparison, apply_transform, as_numeric, compare
from grader.judge.figures import case_figures, images
from grader.model import CaseResult, CaseStatus, CheckResult, ItemResult, ItemStatus
from grader.rubric import Check, Item
from grader.values import select



@dataclass
class CaseData:
    """What the scorer needs for one case: the student's outcome and the key's."""

    status: str
    value: object = None
    error: dict | None = None
    seconds: float = 0.0
    expected: object = None
    expected_error: str | None = None
    mutants: dict = field(default_factory=dict)
    """mistake name -> Outcome of that mutant on this case."""
    incomplete: str | None = None
    """Why the submission's code for this call is incomplete (a statement it needs failed or is missing)."""


def prepare(check: Check, value):
    """Apply the check's ``select`` and ``transform`` (same for student and reference)."""
    if check.select is not None:
        value = select(value, check.select)
    if check.transform is not None:
        value = apply_transform(check.transform.kind, value, **check.transform.params)
    return value


def compare_case(check: Check, got, expected) -> Comparison:
    label = check.label or check.function or check.name
    try:
        got_p = prepare(check, got)
    except Exception as exc:  # noqa: BLE001 - a malformed student value
        return Comparison.plain(False, 0.0, f"{label}: the returned value has the wrong structure "
                                            f"({type(exc).__name__}: {exc})")
    expects = COMPARATORS[check.compare.kind].expects
    if expects == "band":
        band = check.expected.band
        if band is None:
            why = "changed since it was calibrated" if check.expected.stale else "is not calibrated yet"
            return Comparison.plain(False, 0.0, f"{label}: this check {why} (run `dlgrade calibrate`)")
        if expected is not None:  # the reference's value gives the shape a correct answer has
            try:
                want = np.shape(as_numeric(prepare(check, expected)))
            except Exception:  # noqa: BLE001 - a reference value the transform rejects: no shape to hold to
                want = None
            have = np.shape(as_numeric(got_p)) if as_numeric(got_p) is not None else None
            if want is not None and have is not None and have != want:
                return Comparison.plain(False, 0.0, f"{label}: wrong shape: got {have}, expected {want}", ("shape", have))
        return compare("band", got_p, band, label=label)
    if expects == "nothing":
        return compare(check.compare.kind, got_p, None, label=label, **check.compare.params)
    exp = check.expected.value if hasattr(check.expected, "value") else prepare(check, expected)
    return compare(check.compare.kind, got_p, exp, label=label, **check.compare.params)


def _describe_failure(label: str, case: CaseData) -> str:
    err = case.error or {}
    kind = err.get("type", "")
    msg = err.get("message", "")
    if case.status == "missing":
        return msg
    if case.status == "timeout":
        return f"{label}: {msg}"
    if case.status == "crashed":
        return f"{label}: {msg}"
    if case.status == "skipped":
        return f"{label}: {msg}"
    if kind == "NotImplementedError":
        return f"{label}: not implemented yet (raises NotImplementedError)"
    return f"{label} raised {kind}: {msg}{err.get('where', '')}"


def score_check(check: Check, cases: list[CaseData], mistakes: dict[str, str]) -> CheckResult:
    """Compare every case, find the known mistake the answer matches, if any."""
    label = check.label or check.function or check.name
    results, comparisons = [], []
    for i, case in enumerate(cases):
        if case.expected_error is not None and check.expected == "reference":
            comp = Comparison(False, 0.0, f"{label}: the reference itself failed ({case.expected_error}); tell the TA",
                              hint=f"{label}: could not be graded (the reference failed); tell the TA")
        elif case.status != "ok":  # the submission's own failure: nothing of the key in it
            comp = Comparison.plain(False, 0.0, _describe_failure(label, case))
        else:
            comp = compare_case(check, case.value, case.expected)
        if case.incomplete and not comp.passed:  # the reason is about the student's own code: both forms
            comp = Comparison(False, comp.fraction, f"{comp.message.rstrip('.')}. Incomplete code: {case.incomplete}",
                              comp.evidence, f"{comp.hint.rstrip('.')}. Incomplete code: {case.incomplete}"
                              if comp.hint else f"Incomplete code: {case.incomplete}")
        comparisons.append(comp)
        results.append(CaseResult(i, CaseStatus(case.status), comp.passed, comp.message, case.seconds, comp.hint))
    n_pass = sum(r.passed for r in results)
    fraction = n_pass / len(results)
    passed = n_pass == len(results)
    failed = [r for r in results if not r.passed]
    complete = not any(c.incomplete for c in cases)  # a mistake is named only on complete evidence
    mistake = None if passed or not complete else _match_mistake(check, cases, comparisons, mistakes)
    msg, hint = (_check_sentence(label, results, failed, attr) for attr in ("message", "hint"))
    return CheckResult(check.name, passed, fraction, check.weight, msg, mistake,
                       mistakes.get(mistake) if mistake else None, tuple(results), hint,
                       student_figures(check, cases, comparisons))


def _check_sentence(label: str, results: list[CaseResult], failed: list[CaseResult], attr: str) -> str:
    """A check's sentence from its cases' ``message`` (or, the same way, their ``hint``)."""
    if not failed:
        return getattr(results[0], attr) if len(results) == 1 else f"{label}: all {len(results)} cases pass"
    first = getattr(failed[0], attr)
    if not first:
        return ""
    return first if len(results) == 1 else f"{first} ({len(failed)} of {len(results)} cases fail)"


MAX_FIGURES_SHOWN = 3
"""Images of the student's figures kept per check (for the report)."""


def student_figures(check: Check, cases: list[CaseData], comparisons=None) -> tuple[dict, ...]:
    """The student's figures of a check whose cases return figures: validated PNGs, for the report.

    A comparison whose evidence is ``("figure", k)`` (the notebook's figure ``k`` shows what was asked)
    puts that figure first: a notebook draws many figures, the report shows the one judged."""
    if not check.figures:
        return ()
    out = []
    for i, (case, norm) in enumerate(zip(cases, check.normalised_cases())):
        if case.status != "ok" or len(out) >= MAX_FIGURES_SHOWN:
            continue
        figs = case_figures(norm["returns"], case.value)
        ev = comparisons[i].evidence if comparisons is not None and i < len(comparisons) else ()
        if len(ev) == 2 and ev[0] == "figure" and isinstance(ev[1], int) and 0 <= ev[1] < len(figs):
            figs = [figs[ev[1]]] + [f for k, f in enumerate(figs) if k != ev[1]]
        for img in images(figs, MAX_FIGURES_SHOWN - len(out)):
            out.append({"case": i, **img})
    return tuple(out)


def _match_mistake(check: Check, cases: list[CaseData], comparisons, mistakes) -> str | None:
    if not mistakes or not any(c.status == "ok" for c in cases):
        return None
    expects = COMPARATORS[check.compare.kind].expects
    if expects == "band" and check.expected.band is None:
        return None  # nothing to tell a mutant from a correct answer by
    for name in mistakes:
        outs = [c.mutants.get(name) for c in cases]
        if any(o is None for o in outs):
            continue
        distinguishable, matches = False, True
        for case, out, comp in zip(cases, outs, comparisons):
            if out.error is not None:
                # the mutant raises here: the student must fail in this case too
                matches &= not comp.passed and case.status == "error"
                distinguishable = True
                continue
            mut_vs_ref = compare_case(check, out.value, case.expected) if case.expected_error is None else None
            if mut_vs_ref is not None and not mut_vs_ref.passed:
                distinguishable = True
            if case.status != "ok":
                matches = False
                break
            if expects == "band":  # the same value as the mutant's
                same = compare("allclose", prepare(check, case.value), prepare(check, out.value),
                               rtol=1e-6, atol=1e-9).passed
            elif expects == "nothing":  # failing the same property in the same way
                same = mut_vs_ref is not None and comp.passed == mut_vs_ref.passed and \
                    bool(comp.evidence) and comp.evidence == mut_vs_ref.evidence
            else:
                try:
                    same = compare_case(check, case.value, out.value).passed
                except Exception:  # noqa: BLE001
                    same = False
                if not same and COMPARATORS[check.compare.kind].figures and mut_vs_ref is not None \
                        and not comp.passed and not mut_vs_ref.passed:
                    # a mutant that draws nothing of what is asked is matched by a notebook that draws none of it
                    absent = ("no_figure", "no_curve")
                    same = comp.evidence[:1] in [(a,) for a in absent] and \
                        mut_vs_ref.evidence[:1] in [(a,) for a in absent]
            matches &= same
            if not matches:
                break
        if matches and distinguishable:
            return name
    return None


def _dedupe_figures(check_results: list[CheckResult]) -> list[CheckResult]:
    """Each distinct image once per item: checks judging the same call keep it on the first of them."""
    seen, out = set(), []
    for c in check_results:
        keep = tuple(f for f in c.figures if f["png"] not in seen)
        seen.update(f["png"] for f in c.figures)
        out.append(c if len(keep) == len(c.figures) else replace(c, figures=keep))
    return out


def score_item(item: Item, check_results: list[CheckResult]) -> ItemResult:
    check_results = _dedupe_figures(check_results)
    if not check_results:  # every check is a `full` one and this run is not: nothing was judged
        msg = "not run: all of this item's checks are long (`full`) ones; grade with --full"
        return ItemResult(item.id, item.title, 0.0, item.points, ItemStatus.NOT_RUN, msg, item.visibility,
                          hint=msg, show_expected=item.show_expected)
    total_w = sum(c.weight for c in check_results) or 1.0
    frac = sum(c.weight * c.fraction for c in check_results) / total_w
    points = round(item.points * frac, 6)
    if all(c.passed for c in check_results):
        status = ItemStatus.PASSED
    else:
        status = ItemStatus.PARTIAL if points > 0 else ItemStatus.FAILED
    msg, hint = (_item_sentence(check_results, attr) for attr in ("message", "hint"))
    return ItemResult(item.id, item.title, points, item.points, status, msg, item.visibility, tuple(check_results),
                      hint=hint, show_expected=item.show_expected)


def _item_sentence(check_results: list[CheckResult], attr: str) -> str:
    """An item's sentence from its checks' ``message`` (or, the same way, their ``hint``)."""
    bad = [c for c in check_results if not c.passed]
    if not bad:
        return "; ".join(s for s in (getattr(c, attr) for c in check_results[:2]) if s or attr == "message")
    text = getattr(bad[0], attr)
    if bad[0].mistake_feedback:
        if attr == "hint" and text and not text.endswith((".", ")")):
            text += "."
        text = (text + " " if text else "") + f"Known mistake: {bad[0].mistake_feedback}"
    return text


def manual_item(item: Item) -> ItemResult:
    msg = "marked by a TA (`dlgrade manual export`)"
    return ItemResult(item.id, item.title, 0.0, item.points, ItemStatus.MANUAL, msg, item.visibility,
                      hint=msg, show_expected=item.show_expected)


def failed_item(item: Item, reason: str) -> ItemResult:
    if item.manual:
        return manual_item(item)
    return ItemResult(item.id, item.title, 0.0, item.points, ItemStatus.NOT_RUN, reason, item.visibility,
                      hint=reason, show_expected=item.show_expected)


def score_items(items, *, full: bool, outcomes: dict, index: dict, key: dict, mutant_keys: dict,
                feedback: dict, incomplete: dict | None = None) -> list[ItemResult]:
    """Score ``items`` from the sandbox's ``outcomes`` (by call id, found through ``index``).

    ``key`` maps (item, check, case) to the expected :class:`~grader.pipeline.keys.Outcome`,
    ``mutant_keys`` maps a mistake name to such a mapping for that mutant, and
    ``feedback`` maps an item id to ``{mistake name: sentence}``; ``incomplete``
    maps a call id to why the submission's code for it is incomplete.
    """
    incomplete = incomplete or {}
    results = []
    for item in items:
        if item.manual:
            results.append(manual_item(item))
            continue
        item_feedback = feedback.get(item.id, {})
        checks = []
        for check in item.checks:
            if check.full and not full:
                continue
            cases = []
            for i in range(len(check.cases)):
                k = (item.id, check.name, i)
                out = outcomes[index[k]]
                ref = key[k]
                cases.append(CaseData(out.status, out.value, out.error, out.seconds, ref.value, ref.error,
                                      {n: mk[k] for n, mk in mutant_keys.items() if n in item_feedback and k in mk},
                                      incomplete.get(index[k])))
            checks.append(score_check(check, cases, item_feedback))
        results.append(score_item(item, checks))
    return results


_UNSETTLED = (ItemStatus.FAILED, ItemStatus.PARTIAL, ItemStatus.NOT_RUN)


def follow_through_credit(items, results: list[ItemResult], plan, outcomes: dict, key: dict, keys,
                          incomplete: dict | None = None) -> list[ItemResult]:
    """Follow-through credit ("error carried forward"): re-judge checks that fail through an upstream item.

    A check with ``follow_through`` that failed, of an item whose upstream item (the one grading a ``given``
    function) failed, is partial, or is not graded in this run, is judged again case by case: the student's
    value against the reference helper fed with the student's own upstream values (``given``), which the
    sandbox returned from ordinary calls of the plan (``plan.upstream``). ``keys.follow_through`` computes
    that in the trusted process (the reference is imported only here, and only then); a key provider
    without it (the student's bundle: no reference) gives no credit. A case that matches, with the check's
    own comparator, earns ``follow_through.credit`` of the case (default 1: the full case). An upstream value
    that is missing, not numeric, not finite, of another shape than the reference's, or one the helper
    cannot take earns nothing; the note of :func:`follow_through` stays. ``outcomes`` maps an item id to its
    job's outcomes (call id -> outcome); ``incomplete`` maps a call id to why its code is incomplete (no
    credit then, as no mistake is named then).
    """
    evaluate = getattr(keys, "follow_through", None)
    if evaluate is None or not plan.upstream:
        return results
    incomplete = incomplete or {}
    status = {r.item_id: r.status for r in results}
    out = []
    for item, res in zip(items, results):
        if res.status not in (ItemStatus.FAILED, ItemStatus.PARTIAL):
            out.append(res)
            continue
        checks = list(res.checks)
        at = {c.name: n for n, c in enumerate(checks)}
        changed = False
        for check in item.checks:
            ft = check.follow_through
            if ft is None or check.name not in at or checks[at[check.name]].passed:
                continue
            ups = [plan.upstream_of.get(g.call, (None, g.call)) for g in ft.given.values()]
            if not any(u is None or u not in status or status[u] in _UNSETTLED for u, _ in ups):
                continue
            failed_up = any(status.get(u) in (ItemStatus.FAILED, ItemStatus.PARTIAL) for u, _ in ups)
            new = _rejudge(item, check, checks[at[check.name]], plan, outcomes.get(item.id, {}), key, keys, ups,
                           incomplete, failed_up)
            if new is not checks[at[check.name]]:
                checks[at[check.name]] = new
                changed = True
        out.append(score_item(item, checks) if changed else res)
    return out


def _upstream_value(value, reference):
    """The student's upstream value as the helper takes it, or None (not numeric, not finite, wrong shape)."""
    if reference.error is not None:
        return None
    got, want = as_numeric(value), as_numeric(reference.value)
    if got is None or want is None or got.shape != want.shape or got.dtype.kind not in "biuf":
        return None
    got = got.astype(np.float64)
    if not np.all(np.isfinite(got)):
        return None
    return float(got) if got.ndim == 0 else got


def _then(text: str, sentence: str) -> str:
    """``text``, then ``sentence`` (as a new sentence)."""
    text = text.rstrip()
    return f"{text}{'' if text.endswith('.') else '.'} {sentence}" if text else sentence


def _rejudge(item, check: Check, cres: CheckResult, plan, outcomes: dict, key: dict, keys, ups, incomplete,
             failed_up: bool):
    """``cres`` judged again with the student's upstream values (see :func:`follow_through_credit`)."""
    ft = check.follow_through
    label = check.label or check.function or check.name
    src = " and ".join(dict.fromkeys(f"{lab} from {uid}" if uid else lab for uid, lab in ups))
    cases, credited, unjudged = list(cres.cases), 0, 0
    plain = list(cres.cases)  # the same, without the per-case "(judged with ...)": the check's own sentence
    for i, case in enumerate(cases):
        if case.passed:
            continue
        k = (item.id, check.name, i)
        got = outcomes.get(plan.index.get(k))
        if got is None or got.status != "ok" or key[k].error is not None or plan.index[k] in incomplete:
            unjudged += 1
            continue
        given = {}
        for name in ft.given:
            up = outcomes.get(plan.upstream.get((*k, name)))
            v = _upstream_value(up.value, keys.upstream_reference(check, i, name)) \
                if up is not None and up.status == "ok" else None
            if v is None:
                break
            given[name] = v
        if len(given) != len(ft.given):
            unjudged += 1
            continue
        try:
            want = keys.follow_through(check, i, given)
        except Exception:  # noqa: BLE001 - a value the helper cannot take: no credit, the note stays
            want = None
        if want is None or want.error is not None:
            unjudged += 1
            continue
        comp = compare_case(check, got.value, want.value)
        if comp.passed:
            credited += 1
            why = f" (judged with your own {src})"
            plain[i] = replace(case, passed=True, message=comp.message, hint=comp.hint or "")
            cases[i] = replace(plain[i], message=comp.message + why, hint=(comp.hint or "") + why)
    if not credited:
        if unjudged or not failed_up:  # nothing to add (an upstream item not graded here may be right)
            return cres
        also = f"{label} is not right with your own {src} either."
        return replace(cres, message=_then(cres.message, also), hint=_then(cres.hint, also))
    n = len(cases)
    n_pass = sum(c.passed for c in cres.cases)
    fraction = (n_pass + ft.credit * credited) / n
    passed = n_pass + credited == n and ft.credit == 1
    failed = [c for c in plain if not c.passed]
    how = f"judged with your own {src} (follow-through credit)"
    if not failed:
        msg, hint = (f"{label}: {how}: " + _check_sentence(label, plain, [], a).removeprefix(f"{label}: ")
                     for a in ("message", "hint"))
    else:
        msg, hint = (f"{_check_sentence(label, plain, failed, a)}; {credited} of {n} cases pass when {how}"
                     for a in ("message", "hint"))
    return replace(cres, passed=passed, fraction=fraction, message=msg, hint=hint, cases=tuple(cases),
                   mistake=None, mistake_feedback=None, follow_through=", ".join(dict.fromkeys(u for u, _ in ups if u)))


def follow_through(items, results: list[ItemResult], reads: dict[str, frozenset[str]]) -> list[ItemResult]:
    """Tell a failing item when it fails through a function another item already failed.

    ``reads`` maps a submission function to every global name its code reads
    (from extraction). When item X's functions use a function that item U
    grades and U did not pass, X's feedback says so ("D5 uses your `q_star`,
    which failed D1: fix D1 first") and names no known mistake for X: the
    student's X may be right, fed with a wrong upstream value.
    """
    graded_by: dict[str, str] = {}
    for item in items:
        for check in item.checks:
            if check.function:
                graded_by.setdefault(check.function, item.id)
    status = {r.item_id: r.status for r in results}
    out = []
    for item, res in zip(items, results):
        if res.status not in (ItemStatus.FAILED, ItemStatus.PARTIAL) or not item.checks:
            out.append(res)
            continue
        own = {f for c in item.checks for f in c.functions()}
        upstream = []
        for f in sorted(own):
            for name in sorted(reads.get(f, ())):
                u = graded_by.get(name)
                if name not in own and u and u != item.id and status.get(u) in (ItemStatus.FAILED, ItemStatus.PARTIAL):
                    upstream.append((name, u))
        if not upstream:
            out.append(res)
            continue
        upstream = list(dict.fromkeys(upstream))[:3]
        names = ", ".join(f"`{n}`" for n, _ in upstream)
        which = ", ".join(dict.fromkeys(u for _, u in upstream))
        note = f"{item.id} uses your {names}, which failed {which}: fix {which} first."
        checks = tuple(replace(c, mistake=None, mistake_feedback=None) for c in res.checks)
        msg, hint = (_item_sentence(list(checks), attr) for attr in ("message", "hint"))
        out.append(replace(res, message=f"{note} {msg}", hint=f"{note} {hint}".rstrip(), checks=checks))
    return out

"""The student release bundle: self-check without the reference or hidden answers.

``dlgrade release ASSIGNMENT --out DIR`` writes::

    DIR/<assignment>.ipynb        the skeleton
    DIR/selfcheck.json, .npz      public items only: their calls, frozen expected
                                  values, the outputs of their known mutants and
                                  the feedback sentences; nothing of hidden items
    DIR/<data files>              what the assignment's notebooks load
    DIR/dlgrade_selfcheck/grader  a copy of this grader package (no reference code)
    DIR/check.py                  ``python check.py my_notebook.ipynb``

A student runs ``python check.py NOTEBOOK`` (needs numpy, nbformat, pydantic,
pyyaml and rich; torch for the torch assignments). The same files work with
``dlgrade check NOTEBOOK --bundle DIR``. Nothing in the bundle imports
``reference``; ``tests/test_release.py`` proves that no solution code and no
hidden item is in it.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

from grader.rubric import Check, Item, Rubric
from grader.sandbox import Limits, run_job
from grader.score import SubmissionResult, score_items
from grader.submission import SubmissionError, read_submission

BUNDLE_JSON = "selfcheck.json"
BUNDLE_NPZ = "selfcheck.npz"
FORMAT = 1

LAUNCHER = '''"""Self-check of {assignment}: python check.py YOUR_NOTEBOOK.ipynb"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "dlgrade_selfcheck"))

from grader.release import main  # noqa: E402

sys.exit(main([*sys.argv[1:], "--bundle", str(HERE)]))
'''


def build(rubric: Rubric, out_dir: str | Path) -> Path:
    """Write the release bundle of ``rubric`` into ``out_dir`` (trusted side: needs the reference)."""
    from grader import answers, skeleton
    from grader.pipeline import Options, plan_calls, selected_items

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    opts = Options(public_only=True)
    items = list(selected_items(rubric, opts))
    plan = plan_calls(rubric, opts)
    key = answers.answer_key(rubric, items=[i.id for i in items])
    mistakes = [m for m in answers.mistakes_of(rubric) if any(m.item == i.id for i in items)]
    mutant_keys = {m.name: answers.mutant_key(rubric, m) for m in mistakes}
    arrays = dict(plan.arrays)

    def frozen(outcome):
        if outcome.error is not None:
            return {"error": outcome.error}
        return {"value": answers._to_cache(outcome.value, arrays)}

    frozen_items = []
    for item in items:
        entry = item.model_dump(mode="json", exclude={"model_answer"})
        for check, cdump in zip(item.checks, entry["checks"]):
            cdump["expected_values"] = [frozen(key[(item.id, check.name, i)]) for i in range(len(check.cases))]
            cdump["mutants"] = {n: [frozen(mk[(item.id, check.name, i)]) for i in range(len(check.cases))]
                                for n, mk in mutant_keys.items()
                                if all((item.id, check.name, i) in mk for i in range(len(check.cases)))}
            cdump["calls"] = [plan.index[(item.id, check.name, i)] for i in range(len(check.cases))]
        frozen_items.append(entry)
    data = {"format": FORMAT, "assignment": rubric.assignment, "title": rubric.title, "version": rubric.version,
            "key_version": rubric.fingerprint(), "aliases": rubric.aliases,
            "limits": rubric.limits.model_dump(), "data_files": rubric.data_files,
            "provided": skeleton.provided_code(rubric), "calls": plan.calls,
            "mistakes": {m.name: {"item": m.item, "feedback": m.feedback} for m in mistakes},
            "items": frozen_items, "made": time.strftime("%Y-%m-%d")}
    (out / BUNDLE_JSON).write_text(json.dumps(data, indent=1, allow_nan=True))
    np.savez_compressed(out / BUNDLE_NPZ, **arrays)
    shutil.copyfile(skeleton.skeleton_path(rubric), out / f"{rubric.assignment}.ipynb")
    for f in rubric.data_files:
        shutil.copyfile(answers.data_dir() / f, out / f)
    pkg = out / "dlgrade_selfcheck" / "grader"
    if pkg.exists():
        shutil.rmtree(pkg)
    src = Path(__file__).resolve().parent
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (out / "check.py").write_text(LAUNCHER.format(assignment=rubric.assignment))
    return out


def check(notebook: str | Path, bundle_dir: str | Path) -> SubmissionResult:
    """Grade ``notebook`` on the bundle's public items, without any reference code."""
    from grader.extract import extract
    from grader.pipeline import submission_warnings
    from grader.values import from_plain

    bundle = Path(bundle_dir)
    data = json.loads((bundle / BUNDLE_JSON).read_text())
    if data.get("format") != FORMAT:
        raise ValueError(f"{bundle} was made by another version of dlgrade (format {data.get('format')})")
    with np.load(bundle / BUNDLE_NPZ, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    items = [Item.model_validate({k: v for k, v in it.items() if k != "checks"} |
                                 {"checks": [_check(c) for c in it["checks"]],
                                  "model_answer": "(with the TA)" if it.get("manual") else ""})
             for it in data["items"]]
    key, mutant_keys, index = {}, {}, {}
    from grader.answers import Outcome

    def thaw(f):
        return Outcome(error=f["error"]) if "error" in f else Outcome(from_plain(f["value"], arrays))

    for it in data["items"]:
        for c in it["checks"]:
            for i, (cid, exp) in enumerate(zip(c["calls"], c["expected_values"])):
                k = (it["id"], c["name"], i)
                index[k] = cid
                key[k] = thaw(exp)
                for n, outs in c["mutants"].items():
                    mutant_keys.setdefault(n, {})[k] = thaw(outs[i])
    feedback: dict[str, dict[str, str]] = {}
    for n, m in data["mistakes"].items():
        feedback.setdefault(m["item"], {})[n] = m["feedback"]
    t0 = time.perf_counter()
    path = Path(notebook)
    try:
        sub = read_submission(path)
    except (SubmissionError, OSError) as exc:
        from grader.score import failed_item

        return SubmissionResult(path.stem, str(path), data["assignment"], data["version"], data["key_version"], "",
                                tuple(failed_item(i, f"not graded: {exc}") for i in items), (), str(exc))
    ex = extract(sub)
    job = run_job(data["provided"] + ex.to_plain(), data["calls"], arrays, aliases=data["aliases"],
                  data_files=[bundle / f for f in data["data_files"]], limits=Limits(**data["limits"]),
                  require_isolation=False)
    results = score_items(items, full=False, outcomes=job.outcomes, index=index, key=key,
                          mutant_keys=mutant_keys, feedback=feedback)
    warnings = submission_warnings(ex, job)
    return SubmissionResult(sub.student, str(sub.path), data["assignment"], data["version"], data["key_version"],
                            sub.sha256, tuple(results), tuple(warnings), None, job.layers,
                            round(time.perf_counter() - t0, 3), job.stdout_tail[-1000:])


def _check(dump: dict) -> Check:
    return Check.model_validate({k: v for k, v in dump.items() if k not in ("expected_values", "mutants", "calls")})


def main(argv=None) -> int:
    """``python check.py NOTEBOOK --bundle DIR`` (the launcher in a release bundle)."""
    import argparse

    ap = argparse.ArgumentParser(prog="check.py", description="Self-check a notebook on the public items.")
    ap.add_argument("notebook")
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res = check(args.notebook, args.bundle)
    if args.json:
        print(json.dumps(res.to_dict(), default=str))
        return 0
    from grader.cli import console, print_result

    print_result(res)
    console.print("Public items only: the hidden items are graded after you submit.")
    return 0

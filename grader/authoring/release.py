"""The student release bundle: self-check without the reference or hidden answers.

``dlgrade release ASSIGNMENT --out DIR`` writes::

    DIR/<assignment>.ipynb        the skeleton
    DIR/selfcheck.json, .npz      public items only: their calls, frozen expected
                                  values, the outputs of their known mutants and
                                  the feedback sentences; nothing of hidden items
    DIR/<data files>              what the assignment's notebooks load
    DIR/dlgrade_selfcheck/grader  the grader without its authoring package
    DIR/check.py                  ``python check.py my_notebook.ipynb``

What the bundle runs is :mod:`grader.selfcheck`. Nothing in the bundle imports
``reference``; ``tests/test_release.py`` proves that no solution code and no
hidden item is in it.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

from grader.authoring import skeleton
from grader.model import Options
from grader.pipeline import ReferenceKeys, make_plan
from grader.pipeline.keys import freeze
from grader.rubric import Rubric
from grader.selfcheck import BUNDLE_JSON, BUNDLE_NPZ, FORMAT

LAUNCHER = '''"""Self-check of {assignment}: python check.py YOUR_NOTEBOOK.ipynb"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "dlgrade_selfcheck"))

from grader.selfcheck import main  # noqa: E402

sys.exit(main([*sys.argv[1:], "--bundle", str(HERE)]))
'''

# What of the grader package a bundle ships: an allowlist (what grader.selfcheck imports), so nothing
# added later, such as authoring/ (which reads the reference) or the course an installed wheel carries
# in grader/course (rubrics with hidden items, worked examples), can slip in.
BUNDLE_PARTS = ("__init__.py", "model.py", "values.py", "selfcheck.py", "cli", "judge", "pipeline", "rubric",
                "sandbox")
_BUNDLE_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


def build(rubric: Rubric, out_dir: str | Path) -> Path:
    """Write the release bundle of ``rubric`` into ``out_dir`` (trusted side: needs the reference)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    opts = Options(public_only=True)
    keys = ReferenceKeys(rubric)
    plan = make_plan(rubric, opts, keys)
    ids = [i.id for i in plan.items]
    key, mutant_keys, feedback = keys.expected(ids), keys.mutants(ids), keys.feedback(ids)
    arrays = dict(plan.arrays)
    frozen_items = []
    for item in plan.items:
        entry = item.model_dump(mode="json", exclude={"model_answer"})
        for check, cdump in zip(item.checks, entry["checks"]):
            n = range(len(check.cases))
            cdump["expected_values"] = [freeze(key[(item.id, check.name, i)], arrays) for i in n]
            cdump["mutants"] = {name: [freeze(mk[(item.id, check.name, i)], arrays) for i in n]
                                for name, mk in mutant_keys.items() if all((item.id, check.name, i) in mk for i in n)}
            cdump["calls"] = [plan.index[(item.id, check.name, i)] for i in n]
        frozen_items.append(entry)
    mistakes = {name: {"item": item_id, "feedback": text}
                for item_id, by_name in feedback.items() for name, text in by_name.items()}
    data = {"format": FORMAT, "assignment": rubric.assignment, "title": rubric.title, "version": rubric.version,
            "key_version": keys.key_version, "aliases": plan.aliases,
            "limits": rubric.limits.model_dump(), "data_files": rubric.data_files,
            "provided": list(plan.provided), "calls": plan.calls, "timeouts": plan.timeouts, "groups": plan.groups,
            "uses": plan.uses,
            "mistakes": mistakes, "items": frozen_items, "made": time.strftime("%Y-%m-%d")}
    (out / BUNDLE_JSON).write_text(json.dumps(data, indent=1, allow_nan=True))
    np.savez_compressed(out / BUNDLE_NPZ, **arrays)
    shutil.copyfile(skeleton.skeleton_path(rubric), out / f"{rubric.assignment}.ipynb")
    for f in keys.data_files():
        shutil.copyfile(f, out / f.name)
    pkg = out / "dlgrade_selfcheck" / "grader"
    if pkg.exists():
        shutil.rmtree(pkg)
    src = Path(__file__).resolve().parents[1]
    pkg.mkdir(parents=True)
    for part in BUNDLE_PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, pkg / part, ignore=_BUNDLE_IGNORE)
        else:
            shutil.copyfile(src / part, pkg / part)
    (out / "check.py").write_text(LAUNCHER.format(assignment=rubric.assignment))
    return out

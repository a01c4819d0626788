"""What a student's release bundle runs: the public items, graded without any reference code.

The bundle (made by ``dlgrade release``, see :mod:`grader.authoring.release`)
holds the public items' calls, their frozen expected values and the outputs of
their known mutants. This module rebuilds a :class:`~grader.pipeline.Plan` and
a :class:`~grader.pipeline.keys.FrozenKeys` from it and runs the same
:func:`~grader.pipeline.grade_submission` as the TA's grader.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from grader.cli.render import console, print_result
from grader.model import Limits, Options, SubmissionResult
from grader.pipeline import Plan, grade_submission, unreadable
from grader.pipeline.keys import FrozenKeys, thaw
from grader.pipeline.load import SubmissionError, read_submission
from grader.rubric import Check, Item

BUNDLE_JSON = "selfcheck.json"
BUNDLE_NPZ = "selfcheck.npz"
FORMAT = 2


class BundleError(ValueError):
    """A release bundle that is missing, damaged or made by another version of dlgrade."""


def load_bundle(bundle_dir: str | Path) -> tuple[Plan, FrozenKeys]:
    """The plan and the frozen keys of a release bundle."""
    bundle = Path(bundle_dir)
    try:
        data = json.loads((bundle / BUNDLE_JSON).read_text())
        with np.load(bundle / BUNDLE_NPZ, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise BundleError(f"{bundle} is not a complete dlgrade release bundle ({exc})") from None
    if data.get("format") != FORMAT:
        raise BundleError(f"{bundle} was made by another version of dlgrade (format {data.get('format')}, "
                          f"this one reads {FORMAT}); ask your TA for the current bundle")
    items, index, expected, mutants = [], {}, {}, {}
    for it in data["items"]:
        checks = [Check.model_validate({k: v for k, v in c.items() if k not in ("expected_values", "mutants", "calls")})
                  for c in it["checks"]]
        items.append(Item.model_validate({k: v for k, v in it.items() if k != "checks"} |
                                         {"checks": checks, "model_answer": "(with the TA)" if it.get("manual") else ""}))
        for c in it["checks"]:
            for i, (cid, exp) in enumerate(zip(c["calls"], c["expected_values"])):
                k = (it["id"], c["name"], i)
                index[k] = cid
                expected[k] = thaw(exp, arrays)
                for name, outs in c["mutants"].items():
                    mutants.setdefault(name, {})[k] = thaw(outs[i], arrays)
    feedback: dict[str, dict[str, str]] = {}
    for name, m in data["mistakes"].items():
        feedback.setdefault(m["item"], {})[name] = m["feedback"]
    plan = Plan(data["assignment"], data["version"], tuple(items), False, data["calls"], arrays,
                data.get("timeouts", {}), data.get("groups", {}), index, data["aliases"], Limits(**data["limits"]),
                tuple(bundle / f for f in data["data_files"]), tuple(data["provided"]),
                {k: tuple(v) for k, v in data.get("uses", {}).items()})
    return plan, FrozenKeys(data["key_version"], expected, mutants, feedback)


def check(notebook: str | Path, bundle_dir: str | Path) -> SubmissionResult:
    """Grade ``notebook`` on the bundle's public items (the student's own code: whatever isolation there is)."""
    plan, keys = load_bundle(bundle_dir)
    path = Path(notebook)
    try:
        sub = read_submission(path)
    except (SubmissionError, OSError) as exc:
        return unreadable(path, plan, keys.key_version, str(exc))
    return grade_submission(sub, plan, keys, Options(public_only=True, unsafe=True))


def main(argv=None) -> int:
    """``python check.py NOTEBOOK --bundle DIR`` (the launcher in a release bundle)."""
    ap = argparse.ArgumentParser(prog="check.py", description="Self-check a notebook on the public items.")
    ap.add_argument("notebook")
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        res = check(args.notebook, args.bundle)
    except BundleError as exc:
        console.print(f"check.py: {exc}")
        return 2
    if args.json:
        print(json.dumps(res.to_dict(), default=str))
        return 0
    print_result(res)
    console.print("Public items only: the hidden items are graded after you submit.")
    return 0

"""What a student's release bundle runs: the public items, graded without any reference code.

The bundle (made by ``dlgrade release``, see :mod:`grader.authoring.release`)
holds the public items' calls, their frozen expected values and the outputs of
their known mutants. This module rebuilds a :class:`~grader.pipeline.Plan` and
a :class:`~grader.pipeline.keys.FrozenKeys` from it and runs the same
:func:`~grader.pipeline.grade_submission` as the TA's grader: on a notebook file
(:func:`check`, the ``dlgrade-check`` command) or on the cells a live kernel ran
(:func:`check_cells`, the in-notebook ``check("D1")`` of :mod:`grader.student`).
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np

from grader.cli.render import console, print_result
from grader.model import Limits, Options, SubmissionResult
from grader.pipeline import Plan, grade_submission, unreadable
from grader.pipeline.extract import extract
from grader.pipeline.keys import FrozenKeys, thaw
from grader.pipeline.load import Cell, Submission, SubmissionError, read_submission
from grader.rubric import Check, Item

BUNDLE_JSON = "selfcheck.json"
BUNDLE_NPZ = "selfcheck.npz"
FORMAT = 2
PACKAGE_DATA = Path("dlgrade_check") / "_bundle"
"""Where the data lived in a release folder before each assignment had a data package of its own (still read)."""
DATA_PREFIX = "dlgrade_check_"
"""The data package of an assignment: ``dlgrade_check_signal_propagation`` (:func:`data_package`)."""
ENTRY_POINTS = "dlgrade_check.assignments"
"""The entry-point group through which an installed data package names its assignment."""
OPTIONS = Options(public_only=True, unsafe=True)
"""The student's own code on their own machine: whatever isolation the machine offers."""


class BundleError(ValueError):
    """A release bundle that is missing, damaged or made by another version of dlgrade."""


def data_package(assignment: str) -> str:
    """The import name of ``assignment``'s data package: ``signal-propagation`` -> ``dlgrade_check_signal_propagation``."""
    return DATA_PREFIX + "_".join(re.findall(r"[a-z0-9]+", assignment.lower()))


def data_dirs(bundle_dir: str | Path) -> list[Path]:
    """Where ``selfcheck.json`` may be below a folder: itself, the data package of a release folder, the old layout."""
    bundle = Path(bundle_dir)
    return [bundle, *sorted(d / "_bundle" for d in bundle.glob(f"{DATA_PREFIX}*") if d.is_dir()), bundle / PACKAGE_DATA]


def bundle_data_dir(bundle_dir: str | Path) -> Path:
    """The folder holding ``selfcheck.json``: ``bundle_dir`` itself, or the data package inside a release folder."""
    bundle = Path(bundle_dir)
    for d in data_dirs(bundle):
        if (d / BUNDLE_JSON).is_file():
            return d
    raise BundleError(f"{bundle} is not a dlgrade release bundle (no {BUNDLE_JSON} in it or in "
                      f"{DATA_PREFIX}*/_bundle/)")


def load_bundle(bundle_dir: str | Path) -> tuple[Plan, FrozenKeys]:
    """The plan and the frozen keys of a release bundle."""
    bundle = bundle_data_dir(bundle_dir)
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


def only(plan: Plan, items) -> Plan:
    """``plan`` restricted to ``items`` (ids): their calls only, so ``check("D1")`` runs D1 alone."""
    keep = set(items)
    index = {k: cid for k, cid in plan.index.items() if k[0] in keep}
    cids = set(index.values())
    return dataclasses.replace(
        plan, items=tuple(i for i in plan.items if i.id in keep), calls=[c for c in plan.calls if c["id"] in cids],
        index=index, timeouts={c: t for c, t in plan.timeouts.items() if c in cids},
        groups={c: g for c, g in plan.groups.items() if c in cids}, uses={c: u for c, u in plan.uses.items() if c in cids})


def check(notebook: str | Path, bundle_dir: str | Path, items=()) -> SubmissionResult:
    """Grade ``notebook`` on the bundle's public items (all, or ``items``)."""
    plan, keys = load_bundle(bundle_dir)
    return check_loaded(notebook, plan, keys, items)


def check_loaded(notebook: str | Path, plan: Plan, keys: FrozenKeys, items=()) -> SubmissionResult:
    """:func:`check` with the bundle already loaded."""
    plan = only(plan, items) if items else plan
    path = Path(notebook)
    try:
        sub = read_submission(path)
    except (SubmissionError, OSError) as exc:
        return unreadable(path, plan, keys.key_version, str(exc))
    return grade_submission(sub, plan, keys, OPTIONS)


def check_cells(cells: list[tuple[int, str]], plan: Plan, keys: FrozenKeys, items=()) -> SubmissionResult:
    """Grade the inputs a live kernel ran, ``(execution count, source)`` in order, on ``items`` (default: all).

    The cells are extracted like a notebook's (definitions only, magics
    dropped) with the kernel's semantics: a later run of a definition wins
    and a cell that did not parse defined nothing. Labels are ``cell N`` for
    ``In [N]``.
    """
    plan = only(plan, items) if items else plan
    code = tuple(Cell(max(n, 1) - 1, "code", src) for n, src in cells)
    digest = hashlib.sha256("\0".join(src for _, src in cells).encode()).hexdigest()
    sub = Submission(Path("the live kernel"), "your notebook", "notebook", code, digest)
    ex = extract(sub, plan.roots, aliases=plan.aliases, known=plan.provided_names, history=True)
    return grade_submission(sub, plan, keys, OPTIONS, extraction=ex)


def main(argv=None, *, prog: str = "check.py") -> int:
    """``NOTEBOOK [ITEM ...] --bundle DIR``: the command line of ``dlgrade-check``, ``check.py`` and ``dlgrade check --bundle``.

    Exit 0 when the check ran, 2 when it could not (no such notebook, an
    unreadable one, a damaged bundle, an unknown item): one line says why.
    """
    ap = argparse.ArgumentParser(prog=prog, description="Self-check a notebook on the public items.")
    ap.add_argument("notebook", help="your notebook (.ipynb), a .py module or a folder of notebooks")
    ap.add_argument("items", nargs="*", metavar="ITEM", help="only these items (default: every public item)")
    ap.add_argument("--bundle", required=True, help="the release bundle (folder)")
    ap.add_argument("-a", "--assignment", help="which installed assignment (dlgrade-check, when several are installed "
                                                "and the notebook does not say)")
    ap.add_argument("--json", action="store_true", help="the full result as JSON")
    args = ap.parse_args(argv)
    path = Path(args.notebook)
    if not path.exists():
        say(prog, f"{path} does not exist")
        return 2
    try:
        plan, keys = load_bundle(args.bundle)
        public = [i.id for i in plan.items]
        unknown = [i for i in args.items if i not in public]
        if unknown:
            say(prog, f"no public item {', '.join(unknown)} in {plan.assignment}; the self-check runs "
                      f"{', '.join(public)} (the other items are graded after you submit)")
            return 2
        res = check_loaded(path, plan, keys, args.items)
    except BundleError as exc:
        say(prog, f"{exc}")
        return 2
    if args.json:
        print(json.dumps(res.to_dict(), default=str))
        return 2 if res.error else 0
    if res.error:
        say(prog, f"{res.error}")
        return 2
    print_result(res)
    console.print("Public items only: the hidden items are graded after you submit.")
    return 0


def say(prog: str, message: str) -> None:
    """One plain line on stderr (no markup, no wrapping): why the check could not run."""
    print(f"{prog}: {' '.join(message.split())}", file=sys.stderr)

"""The student release bundle: self-check without the reference or hidden answers.

``dlgrade release ASSIGNMENT --out DIR`` writes::

    DIR/README.md                 how to install and use the self-check
    DIR/<assignment>.ipynb        the skeleton (its first cell sets up ``check``)
    DIR/<data files>              what the assignment's notebooks load
    DIR/dlgrade_check-V+cD-py3-none-any.whl
                                  the shared checker ``dlgrade-check`` (code only, the
                                  same for every assignment of one dlgrade version)
    DIR/dlgrade_check_<assignment>-V-py3-none-any.whl
                                  this assignment's public checks, ``dlgrade-check-<assignment>``
                                  (data only; requires ``dlgrade-check==V``):
                                  ``pip install dlgrade_check*.whl`` installs both
    DIR/dlgrade_check/            the checker, unpacked (``check.py`` and
                                  ``dlgrade check --bundle DIR`` use it)
      __init__.py ...             ``Checker``, ``dlgrade-check`` (from grader/student/)
      _grader/                    the grader's allowlisted parts (:data:`BUNDLE_PARTS`)
    DIR/dlgrade_check_<assignment>/  the assignment's data package, unpacked
      __init__.py                 a docstring (no code)
      _bundle/selfcheck.json,npz  public items only: their calls, frozen expected
                                  values, the outputs of their known mutants and
                                  the feedback sentences; nothing of hidden items
      _bundle/<data files>
    DIR/check.py                  ``python check.py NOTEBOOK``: an alias of ``dlgrade-check``

Several assignments install side by side: each data wheel is a distribution
of its own and names its assignment through the ``dlgrade_check.assignments``
entry point, which ``Checker("signal-propagation")`` looks up; the code wheel
is shared (a bundle of a later release replaces it, and the data's format is
checked when it is read). The code package's imports are rewritten at build
time (``grader.student`` becomes ``dlgrade_check``, ``grader`` becomes
``dlgrade_check._grader``), so installing it never touches or shadows a TA's
``grader``. The wheels are built by setuptools through ``pip wheel``
(offline: the build needs setuptools, found here or on the package index pip
is set up with) and declare what the student side really imports
(:func:`requirements`). Nothing in the bundle imports ``reference``;
``tests/test_release.py`` proves that no solution code and no hidden item is in
it or in the wheels.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from grader.authoring import skeleton
from grader.model import Options
from grader.pipeline import ReferenceKeys, make_plan
from grader.pipeline.keys import freeze
from grader.rubric import Rubric
from grader.selfcheck import BUNDLE_JSON, BUNDLE_NPZ, DATA_PREFIX, ENTRY_POINTS, FORMAT, data_package

LAUNCHER = '''"""Self-check of {assignment}: python check.py YOUR_NOTEBOOK.ipynb [ITEM ...] (the same as dlgrade-check)."""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from dlgrade_check.cli import main  # noqa: E402

sys.exit(main([*sys.argv[1:], "--bundle", str(HERE)]))
'''

README = """# Self-check: {title}

This folder is the self-check of **{assignment}**: it runs the *public* items
({public}) on your own notebook and tells you, per item, what passes, what does
not and why (with the name of a known mistake when your answer matches one).
The hidden items are graded after you submit.

## Set up (once per assignment)

In this folder:

```bash
pip install dlgrade_check*.whl
```

That installs both wheels of this folder, and is the whole set-up (Python 3.10+
on Linux, macOS, Windows, Google Colab or WSL): `{code_wheel}` is the checker
(the same for every assignment of the course) with what it needs ({requires}),
and `{data_wheel}` the public checks of {assignment}. In Colab, upload both
wheels and run `!pip install dlgrade_check*.whl` in a cell. A missing package
is reported as one line naming it; `pip install` that package. The
self-checks of other assignments install beside this one (each has a wheel of
its own); a later bundle's checker wheel replaces the shared checker.

## In the notebook

The first code cell of `{assignment}.ipynb` sets up the checker:

```python
from dlgrade_check import Checker
check = Checker("{assignment}")
```

After each exercise a cell runs that item's public checks on the functions your
kernel has defined (run the exercise's cells first):

```python
check("{first}")
```

`check.all()` runs every public item. The result is a small table: passed or
failed, the reason in one sentence, and the known mistake if it matches one.

## In a terminal

```bash
dlgrade-check {assignment}.ipynb          # every public item
dlgrade-check {assignment}.ipynb {first}        # one item
dlgrade-check answers.ipynb -a {assignment}     # when several assignments are installed and the notebook does not say
python -m dlgrade_check {assignment}.ipynb
python check.py {assignment}.ipynb        # the same from this folder, without the wheels (the packages above needed)
```

Exit code 0 when the check ran, 2 when it could not (the line printed says why).

## Time limits and isolation

Each call of your functions has the time limit stated in the notebook under its
exercise, and all calls of a notebook together may take {budget:g} s; the
self-check uses the same limits as the grading. Your code runs in a separate
process: on Linux in the grader's sandbox (bubblewrap where it is installed,
else memory, CPU and file-size limits); on macOS with CPU, memory and
file-size limits as far as macOS enforces them; on Windows with the time
limits only. The last line of each result says which (`isolation: ...`).
"""

CODE_README = """# dlgrade-check

The students' self-check of the course's assignments: `Checker("ASSIGNMENT")`
and `check("ID")` in a notebook, `dlgrade-check NOTEBOOK` in a terminal. This
wheel is the code; each assignment's release bundle adds that assignment's
public checks as a wheel of its own (`pip install dlgrade_check*.whl` in the
bundle's folder installs both).
"""

# What of the grader package a bundle ships: an allowlist (what grader.selfcheck imports), so nothing
# added later, such as authoring/ (which reads the reference) or the course an installed wheel carries
# in grader/course (rubrics with hidden items, worked examples), can slip in.
BUNDLE_PARTS = ("__init__.py", "locations.py", "model.py", "values.py", "selfcheck.py", "cli", "judge", "pipeline", "rubric",
                "sandbox")
_BUNDLE_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")
PACKAGE = "dlgrade_check"
DIST = "dlgrade-check"
"""The shared code distribution; each assignment's data is ``dlgrade-check-<assignment>`` (:func:`data_dist`)."""
STUDENT_SOURCE = Path(__file__).resolve().parents[1] / "student"
"""``grader/student``: the package that becomes ``dlgrade_check``."""
RENAMES = (("grader.student", PACKAGE), ("grader", f"{PACKAGE}._grader"))
# pip requirement of every module the student side imports (bounds as in dlgrade's pyproject.toml);
# the assignment's provided code adds its own (torch for the torch assignments)
BASE_REQUIREMENTS = ("numpy>=1.24", "scipy>=1.10", "nbformat>=5.9", "pydantic>=2.5", "pyyaml>=6", "rich>=13")
KNOWN_REQUIREMENTS = {"numpy": "numpy>=1.24", "scipy": "scipy>=1.10", "torch": "torch>=2.1",
                      "matplotlib": "matplotlib>=3.7"}


class ReleaseError(RuntimeError):
    """The bundle could not be written (the wheel did not build): one line saying why."""


def build(rubric: Rubric, out_dir: str | Path, *, wheel: bool = True) -> Path:
    """Write the release bundle of ``rubric`` into ``out_dir`` (trusted side: needs the reference).

    ``wheel=False`` skips building the wheel (the unpacked package is still written).
    """
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
    requires = requirements(plan.provided)
    version = student_version(rubric, keys.key_version)
    data = {"format": FORMAT, "assignment": rubric.assignment, "title": rubric.title, "version": rubric.version,
            "key_version": keys.key_version, "aliases": plan.aliases,
            "limits": rubric.limits.model_dump(), "data_files": rubric.data_files,
            "provided": list(plan.provided), "calls": plan.calls, "timeouts": plan.timeouts, "groups": plan.groups,
            "uses": plan.uses, "requires": [_dist(r) for r in requires if r not in BASE_REQUIREMENTS],
            "package_version": version,
            "mistakes": mistakes, "items": frozen_items, "made": time.strftime("%Y-%m-%d")}
    data_pkg = data_package(rubric.assignment)
    _remove_old(out)
    pkg = write_package(out / PACKAGE)
    code_ver = code_version(pkg)
    data["code_version"] = code_ver
    data_dir = out / data_pkg
    bundle = data_dir / "_bundle"
    bundle.mkdir(parents=True)
    (data_dir / "__init__.py").write_text(f'"""The public self-check data of {rubric.assignment} for dlgrade_check '
                                          '(no code: see _bundle/)."""\n')
    (bundle / BUNDLE_JSON).write_text(json.dumps(data, indent=1, allow_nan=True))
    np.savez_compressed(bundle / BUNDLE_NPZ, **arrays)
    shutil.copyfile(skeleton.skeleton_path(rubric), out / f"{rubric.assignment}.ipynb")
    for f in keys.data_files():
        shutil.copyfile(f, out / f.name)
        shutil.copyfile(f, bundle / f.name)
    (out / "check.py").write_text(LAUNCHER.format(assignment=rubric.assignment))
    code_wheel = f"{PACKAGE}-{code_ver}-py3-none-any.whl"
    data_wheel = f"{data_pkg}-{version}-py3-none-any.whl"
    public = [i.id for i in plan.items if not i.manual]
    (out / "README.md").write_text(README.format(
        title=rubric.title, assignment=rubric.assignment, public=", ".join(public) or "none", code_wheel=code_wheel,
        data_wheel=data_wheel, first=public[0] if public else "ID", budget=rubric.limits.budget_s,
        requires=", ".join(_dist(r) for r in requires)))
    if wheel:
        built = build_wheel(out, PYPROJECT_CODE.format(name=DIST, package=PACKAGE, version=code_ver,
                                                       dependencies=json.dumps(list(BASE_REQUIREMENTS))),
                            {PACKAGE: pkg}, CODE_README)
        data_requires = [f"{DIST}=={public_version()}", *[r for r in requires if r not in BASE_REQUIREMENTS]]
        built_data = build_wheel(out, PYPROJECT_DATA.format(
            name=data_dist(rubric.assignment), package=data_pkg, version=version, assignment=rubric.assignment,
            group=ENTRY_POINTS, dependencies=json.dumps(data_requires)), {data_pkg: data_dir},
            (out / "README.md").read_text())
        for got, want in ((built, code_wheel), (built_data, data_wheel)):
            if got.name != want:
                raise ReleaseError(f"the wheel was named {got.name}, expected {want}")
    return out


def data_dist(assignment: str) -> str:
    """``signal-propagation`` -> ``dlgrade-check-signal-propagation``: the distribution of its public checks."""
    return data_package(assignment).replace("_", "-")


def public_version() -> str:
    """dlgrade's version (what the data wheels require of ``dlgrade-check``, any build of it)."""
    try:
        return importlib.metadata.version("dlgrade")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


def code_version(pkg: Path) -> str:
    """``0.1.0+c1a2b3c4d``: dlgrade's version and (PEP 440 local) a digest of the checker's files and
    requirements, so a changed checker is a new version pip installs, and the same one is not reinstalled."""
    h = hashlib.sha256(json.dumps(list(BASE_REQUIREMENTS)).encode())
    for f in sorted(p for p in pkg.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(f.relative_to(pkg).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return f"{public_version()}+c{h.hexdigest()[:9]}"


def requirements(provided) -> list[str]:
    """pip requirements of the student package: the student side's own, plus what the provided code imports.

    The provided code (the skeleton's imports and helpers) runs before the
    student's definitions in every check, so a package it imports (torch for
    the torch assignments) is a real dependency of the checker.
    """
    found = []
    for st in provided:
        try:
            tree = ast.parse(st["source"])
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.append(node.module.split(".")[0])
    extra = [KNOWN_REQUIREMENTS.get(m, m) for m in dict.fromkeys(found)
             if m not in sys.stdlib_module_names and m != "__future__"]
    return list(dict.fromkeys([*BASE_REQUIREMENTS, *extra]))


def _dist(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]


def student_version(rubric: Rubric, key_version: str) -> str:
    """``0.1.0+signal.propagation.v1.k554b1394`` (the data wheel's): dlgrade's version, then (PEP 440 local) the
    assignment, its rubric version and the key version, so a corrected release is a new version that pip installs."""
    base = public_version()
    local = ".".join(re.findall(r"[a-z0-9]+", rubric.assignment.lower()))
    return f"{base}+{local}.v{rubric.version}.k{key_version[:8]}"


def _remove_old(out: Path):
    """What an earlier release wrote into ``out`` (also the layout before the wheel)."""
    for old in [out / PACKAGE, out / "dlgrade_selfcheck", *out.glob(f"{DATA_PREFIX}*")]:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
    for old in [out / BUNDLE_JSON, out / BUNDLE_NPZ, *out.glob(f"{PACKAGE}*.whl")]:
        if old.is_file():
            old.unlink()


def rewrite_imports(source: str, renames=RENAMES) -> str:
    """``source`` with every import of ``grader...`` (and every use of the bare name ``grader``) renamed.

    Found by AST, edited at the exact columns, so strings and comments are left
    alone: ``from grader.model import X`` -> ``from dlgrade_check._grader.model import X``,
    ``from grader.student import deps`` -> ``from dlgrade_check import deps``.
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []  # (line, byte column, dotted name found there)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            edits += [(a.lineno, a.col_offset, a.name) for a in node.names if _renamed(a.name, renames)]
        elif isinstance(node, ast.ImportFrom) and not node.level and _renamed(node.module or "", renames):
            raw = lines[node.lineno - 1].encode()
            m = re.compile(rb"from\s+(" + re.escape(node.module.encode()) + rb")\b").search(raw, node.col_offset)
            if m is None:
                raise ReleaseError(f"cannot rewrite `from {node.module} import` on line {node.lineno}")
            edits.append((node.lineno, m.start(1), node.module))
        elif isinstance(node, ast.Name) and node.id == "grader":
            edits.append((node.lineno, node.col_offset, "grader"))
    for lineno, col, name in sorted(edits, reverse=True):
        raw = lines[lineno - 1].encode()
        new = _renamed(name, renames)
        lines[lineno - 1] = (raw[:col] + new.encode() + raw[col + len(name.encode()):]).decode()
    return "".join(lines)


def _renamed(name: str, renames) -> str | None:
    for old, new in renames:
        if name == old or name.startswith(old + "."):
            return new + name[len(old):]
    return None


def _copy_rewritten(src: Path, dst: Path):
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix == ".py":
        dst.write_text(rewrite_imports(src.read_text()))
    else:
        shutil.copyfile(src, dst)


def write_package(pkg: Path) -> Path:
    """The student package ``dlgrade_check`` in ``pkg``: grader/student plus the allowlisted grader, renamed."""
    src = Path(__file__).resolve().parents[1]
    for f in sorted(STUDENT_SOURCE.glob("*.py")):
        _copy_rewritten(f, pkg / f.name)
    for part in BUNDLE_PARTS:
        files = [src / part] if (src / part).is_file() else \
            [f for f in sorted((src / part).rglob("*")) if f.is_file() and "__pycache__" not in f.parts
             and f.suffix != ".pyc"]
        for f in files:
            _copy_rewritten(f, pkg / "_grader" / f.relative_to(src))
    for f in pkg.rglob("*.py"):  # the guard: nothing may still reach the TA's grader, nor import the reference
        tree = ast.parse(f.read_text())
        top = set(map(id, tree.body))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            roots = {n.split(".")[0] for n in names}
            # a function-level `import reference` (ReferenceKeys, the TA's side) never runs in the bundle
            if "grader" in roots or ("reference" in roots and id(node) in top):
                raise ReleaseError(f"{f.relative_to(pkg)} still imports {names[0]}")
    return pkg


PYPROJECT_CODE = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "The students' self-check of dlgrade assignments: check(\\"ID\\") in the notebook, dlgrade-check in a terminal"
readme = "README.md"
requires-python = ">=3.10"
dependencies = {dependencies}

[project.scripts]
dlgrade-check = "{package}.cli:main"

[tool.setuptools]
include-package-data = false

[tool.setuptools.packages.find]
include = ["{package}", "{package}.*"]
"""

PYPROJECT_DATA = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "Public self-check data of {assignment} for dlgrade-check (no code)"
readme = "README.md"
requires-python = ">=3.10"
dependencies = {dependencies}

[project.entry-points."{group}"]
"{assignment}" = "{package}"

[tool.setuptools]
include-package-data = false
packages = ["{package}"]

[tool.setuptools.package-data]
"{package}" = ["_bundle/*"]
"""


def build_wheel(out: Path, pyproject: str, packages: dict[str, Path], readme: str) -> Path:
    """Build one wheel of ``packages`` (import name -> folder) with ``pyproject`` into ``out`` with setuptools
    (``pip wheel``, no download when setuptools is installed here; else pip fetches it from its configured index)."""
    with tempfile.TemporaryDirectory(prefix="dlgrade-wheel-") as tmp:
        project = Path(tmp) / "project"
        for name, src in packages.items():
            shutil.copytree(src, project / name, ignore=_BUNDLE_IGNORE)
        (project / "pyproject.toml").write_text(pyproject)
        (project / "README.md").write_text(readme)
        dist = Path(tmp) / "dist"
        cmd = [sys.executable, "-m", "pip", "wheel", str(project), "--no-deps", "-q", "-w", str(dist)]
        if _has_setuptools():
            cmd.insert(4, "--no-build-isolation")
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ReleaseError(f"the wheel could not be built ({type(exc).__name__}: {exc})") from None
        wheels = sorted(dist.glob("*.whl"))
        if run.returncode != 0 or len(wheels) != 1:
            last = [ln for ln in (run.stderr or run.stdout).strip().splitlines() if ln.strip()][-1:] or ["no output"]
            raise ReleaseError(f"the wheel could not be built (pip wheel exited {run.returncode}: {last[0][:300]}); "
                               "it needs pip and setuptools>=61 (pip install setuptools)")
        target = out / wheels[0].name
        shutil.move(str(wheels[0]), target)
    return target


def _has_setuptools() -> bool:
    if importlib.util.find_spec("setuptools") is None:
        return False
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return major >= 61

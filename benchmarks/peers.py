#!/usr/bin/env python3
"""dlgrade against its peers (nbgrader, otter-grader, nbconvert), side by side in one run.

One content, the functions ``q_map``/``q_star`` (item D1) and ``chi1`` (item D3)
of signal-propagation, graded by each tool on N identical copies of the
correct example ``examples/signal-propagation/alice.ipynb`` (its definition
cells; the top-level plotting cell is left out) in each tool's format:

- ``nbgrader autograde``: course ``benchmarks/peers/nbgrader`` (source notebook
  with ``### BEGIN SOLUTION`` cells and autograder test cells); one call for
  all N submissions, divided by N;
- ``otter run``: the tests ``benchmarks/peers/otter/tests`` in an autograder
  zip (``otter generate``); one call per submission (``otter grade`` of
  otter-grader 7 has no local mode: it needs Docker);
- ``jupyter nbconvert --execute``: the nbgrader submissions (definitions plus
  test cells), one call for all N; a clean run means every assert held;
- ``python -c "import numpy"`` with dlgrade's interpreter, one per submission;
- ``dlgrade check NOTEBOOK`` per notebook, and ``dlgrade grade DIR --item D1
  --item D3`` (with ``--workers 1`` and ``--workers 2`` when the installed
  dlgrade has ``--workers``).

The test cells and otter tests hold the rubric's cases and tolerances, with
expected values computed by the rubric's reference module; they are
regenerated on every run and must equal the committed files (``--write-course``
rewrites them). Each tool's score is read from its own output (nbgrader's
gradebook export, otter's results JSON, dlgrade's JSON, nbconvert's executed
notebooks); a timing counts only with full marks in every round. An untimed
warm-up of every tool on one submission (dlgrade's answer-key cache, .pyc
files), then ``--repeat`` rounds, each running every tool in turn; the median
is reported, with the load average at the start of each tool's run. Ratios
are a tool's seconds per submission over dlgrade ``grade``'s (its best worker
count).

    python benchmarks/peers.py --peers-venv /work/peers-venv [--dlgrade .venv/bin/dlgrade]
        [-n 20] [--repeat 3] [--out benchmarks/results/peers.json]
    python benchmarks/peers.py --write-course

The peers' environment: ``python3 -m venv PATH && PATH/bin/pip install -r
benchmarks/requirements-peers.txt``. This script needs the project's
dependencies (it reads the rubric and runs the reference); the tools it times
run as separate processes.
"""
from __future__ import annotations

import argparse
import ast
import copy
import csv
import datetime
import importlib
import inspect
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ASSIGNMENT = "signal-propagation"
ITEMS = ("D1", "D3")
COURSE = ROOT / "benchmarks" / "peers"
SOLUTION = ROOT / "examples" / ASSIGNMENT / "alice.ipynb"   # the correct example: the source of the course
NB_NAME = "signal_propagation"          # nbgrader assignment and notebook id
MARK = "### BEGIN SOLUTION", "### END SOLUTION"
DEF_NODES = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


class Skip(Exception):
    """A tool that cannot be run here (missing executable)."""


# ----------------------------------------------------------------------------
# the content: alice's definition cells, the rubric's checks


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _code_cell(source: str, metadata: dict | None = None) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": metadata or {}, "outputs": [],
            "source": source}


def content_notebook(example: Path) -> dict:
    """The example notebook without outputs and without cells that do more than define names."""
    nb = json.loads(example.read_text())
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            tree = ast.parse(_src(cell))
            if not all(isinstance(n, DEF_NODES) for n in tree.body):
                continue  # top-level exploration (plots, loops): not part of the graded content
            cell = _code_cell(_src(cell), {})
        else:
            cell = {"cell_type": cell["cell_type"], "metadata": {}, "source": _src(cell)}
        cells.append(cell)
    meta = {k: v for k, v in nb["metadata"].items() if k in ("kernelspec", "language_info", "dlgrade")}
    return _with_ids({"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5})


def _with_ids(nb: dict) -> dict:
    """Cell ids ``cell-0``, ``cell-1``, ... (nbformat 4.5 wants one on every cell)."""
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i}"
    return nb


def _defined(source: str) -> list[str]:
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]


def checks(rubric, ref) -> list[dict]:
    """Every check of ITEMS as cases with expected values from the reference, and its points."""
    out = []
    for item in rubric.items:
        if item.id not in ITEMS:
            continue
        total = sum(c.weight for c in item.checks)
        for i, chk in enumerate(item.checks, 1):
            if chk.compare.kind != "allclose" or chk.transform or chk.select or chk.expected != "reference":
                raise SystemExit(f"peers.py: check {item.id}/{chk.name!r} is not a plain allclose check; "
                                 "the peers' test generator handles only those")
            params = chk.compare.params
            fn = getattr(ref, chk.function)
            cases = []
            for case in chk.cases:
                if case.kwargs or case.steps or not all(isinstance(a, (int, float)) for a in case.args):
                    raise SystemExit(f"peers.py: check {item.id}/{chk.name!r} has a non-scalar case")
                cases.append((tuple(float(a) for a in case.args), float(fn(*case.args))))
            out.append({"item": item.id, "n": i, "name": chk.name, "function": chk.function,
                        "rtol": float(params.get("rtol", 1e-9)), "atol": float(params.get("atol", 1e-12)),
                        "points": round(item.points * chk.weight / total, 6), "cases": cases})
    return out


def _case_loop(chk: dict, indent: str) -> str:
    fn = chk["function"]
    rows = "".join(f"{indent}    ({args!r}, {exp!r}),\n" for args, exp in chk["cases"])
    return (f"{indent}for args, expected in [\n{rows}{indent}]:\n"
            f"{indent}    got = {fn}(*args)\n"
            f"{indent}    assert np.shape(got) == np.shape(expected), f\"{fn}{{args}}: shape {{np.shape(got)}}\"\n"
            f"{indent}    assert np.allclose(got, expected, rtol={chk['rtol']!r}, atol={chk['atol']!r}), \\\n"
            f"{indent}        f\"{fn}{{args}} = {{got!r}}, expected {{expected!r}}\"\n")


def _header(chk: dict, rubric) -> str:
    return (f"# {chk['item']}, check {chk['n']} \"{chk['name']}\": allclose rtol={chk['rtol']!r} "
            f"atol={chk['atol']!r}, {chk['points']:g} points\n"
            f"# (rubrics/{rubric.assignment}.yaml v{rubric.version}; expected values from {rubric.reference})\n")


def nbgrader_source(content: dict, chks: list[dict], exercises: set[str], rubric) -> dict:
    """Instructor notebook: exercise bodies between solution markers, test cells after each item."""
    nb = copy.deepcopy(content)
    nb["metadata"].pop("dlgrade", None)
    cells = []
    placed = set()
    for cell in nb["cells"]:
        names = _defined(_src(cell)) if cell["cell_type"] == "code" else []
        if set(names) & exercises:
            meta = {"nbgrader": {"grade": False, "grade_id": f"sol_{names[0]}", "locked": False,
                                 "schema_version": 3, "solution": True, "task": False}}
            cell = _code_cell(_with_markers(_src(cell), exercises), meta)
        cells.append(cell)
        seen = {n for c in cells if c["cell_type"] == "code" for n in _defined(_src(c))}
        for chk in chks:
            key = (chk["item"], chk["n"])
            item_fns = {c["function"] for c in chks if c["item"] == chk["item"]}
            if key not in placed and item_fns <= seen:
                placed.add(key)
                meta = {"nbgrader": {"grade": True, "grade_id": f"test_{chk['item']}_{chk['n']}", "locked": True,
                                     "points": chk["points"], "schema_version": 3, "solution": False,
                                     "task": False}}
                cells.append(_code_cell(_header(chk, rubric) + "import numpy as np\n\n" + _case_loop(chk, ""), meta))
    if len(placed) != len(chks):
        raise SystemExit("peers.py: the example notebook does not define every function the checks call")
    nb["cells"] = cells
    return _with_ids(nb)


def _with_markers(source: str, exercises: set[str]) -> str:
    """Each exercise function's body (after its docstring) between nbgrader's solution markers."""
    lines = source.split("\n")
    fns = [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name in exercises]
    for fn in reversed(fns):
        body = fn.body[1:] if isinstance(fn.body[0], ast.Expr) and isinstance(fn.body[0].value, ast.Constant) \
            else fn.body
        pad = " " * body[0].col_offset
        lines.insert(body[-1].end_lineno, pad + MARK[1])
        lines.insert(body[0].lineno - 1, pad + MARK[0])
    return "\n".join(lines)


def otter_tests(chks: list[dict], rubric) -> dict[str, str]:
    """One otter exception-format test file per item, one test case per check."""
    files = {}
    for item in ITEMS:
        parts = [f'"""{item} of {rubric.assignment}: the rubric\'s checks as otter test cases."""\n'
                 "from otter.test_files import test_case\n\nOK_FORMAT = False\n\n"
                 f"name = {item!r}\n"]
        for chk in (c for c in chks if c["item"] == item):
            parts.append(f"\n\n{_header(chk, rubric)}@test_case(name={chk['name']!r}, points={chk['points']!r})\n"
                         f"def test_{chk['n']}({chk['function']}):\n    import numpy as np\n\n"
                         + _case_loop(chk, "    "))
        files[f"{item}.py"] = "".join(parts)
    return files


NBGRADER_CONFIG = '''"""nbgrader configuration of the peers benchmark (run from this directory)."""
c = get_config()  # noqa: F821 (provided by nbgrader)
c.CourseDirectory.course_id = "dlgrade-peers"
c.ExecutePreprocessor.timeout = 300
'''


def course_files(example: Path = SOLUTION) -> dict[str, str]:
    """Relative path -> text of every committed course file (the instructor's side, from ``example``)."""
    from grader.rubric import get_rubric

    rubric = get_rubric(ASSIGNMENT)
    ref = importlib.import_module(rubric.reference if isinstance(rubric.reference, str) else rubric.reference[0])
    exercises = {n for n, f in vars(ref).items() if inspect.isfunction(f) and f.__module__ == ref.__name__
                 and MARK[0] in inspect.getsource(f)}
    content = content_notebook(example)
    chks = checks(rubric, ref)
    files = {"nbgrader/nbgrader_config.py": NBGRADER_CONFIG,
             f"nbgrader/source/{NB_NAME}/{NB_NAME}.ipynb":
                 json.dumps(nbgrader_source(content, chks, exercises, rubric), indent=1) + "\n"}
    files.update({f"otter/tests/{k}": v for k, v in otter_tests(chks, rubric).items()})
    return files


def check_course(files: dict[str, str]) -> list[str]:
    """Committed course files that differ from the freshly generated ones."""
    return [p for p, text in files.items() if not (COURSE / p).is_file() or (COURSE / p).read_text() != text]


# ----------------------------------------------------------------------------
# running the tools


def run(cmd, *, cwd=None, env=None, timeout=1800) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - t0, p


def _must(p: subprocess.CompletedProcess, what: str):
    if p.returncode != 0:
        tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-3:]
        raise RuntimeError(f"{what} exited {p.returncode}: {' | '.join(tail)}")


def _full(score: float, max_score: float, expect: float) -> bool:
    return abs(max_score - expect) < 1e-3 and score >= max_score - 1e-6


class Bench:
    """The work directory, the submissions in each format and one timed run per tool."""

    def __init__(self, args, files: dict[str, str], content: dict, work: Path):
        self.n, self.work, self.files = args.n, work, files
        self.venv = Path(args.peers_venv) if args.peers_venv else None
        self.dlgrade = Path(args.dlgrade)
        self.max_points = None
        self.peer_env = dict(os.environ)
        if self.venv:
            self.peer_env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
            self.peer_env["VIRTUAL_ENV"] = str(self.venv)
        self.dl_env = dict(os.environ, DLGRADE_CACHE=str(work / "dlgrade-cache"))
        self.students = [f"student{i:02d}" for i in range(1, self.n + 1)]
        self.active = self.students   # the submissions the next timed run grades (the first alone to warm up)
        self.content = content

    # -- set-up (untimed) ----------------------------------------------------

    def peer_bin(self, name: str) -> Path:
        exe = self.venv / "bin" / name if self.venv else None
        if exe is None or not exe.exists():
            raise Skip(f"{name} not found in the peers venv {self.venv or '(none: pass --peers-venv PATH)'}; "
                       f"install it with `python3 -m venv PATH && PATH/bin/pip install -r "
                       "benchmarks/requirements-peers.txt`")
        return exe

    def dl_bin(self) -> Path:
        if not self.dlgrade.exists():
            raise Skip(f"dlgrade not found at {self.dlgrade}; pass --dlgrade PATH_TO_DLGRADE_EXE")
        return self.dlgrade

    def setup_dlgrade(self):
        d = self.work / "dlgrade"
        d.mkdir()
        for s in self.students:
            (d / f"{s}.ipynb").write_text(json.dumps(self.content, indent=1))
        (self.work / "dlgrade-one").mkdir()
        shutil.copy(d / f"{self.students[0]}.ipynb", self.work / "dlgrade-one")
        help_ = run([self.dl_bin(), "grade", "--help"], env=self.dl_env)[1]
        _must(help_, "dlgrade grade --help")
        self.has_workers = "--workers" in help_.stdout
        # a dlgrade with a gradebook grades only what is new: every timed run gets a gradebook of its own
        self.fresh_db = ["--regrade"] if "--regrade" in help_.stdout else []
        self.has_db = "--db" in help_.stdout
        self.runs = 0
        # the answer key of D1 and D3 (untimed, like a batch after its first submission)
        db = ["--db", self.work / "gradebook-warm.sqlite"] if self.has_db else []
        _must(run([self.dl_bin(), "grade", self.work / "dlgrade-one", "-a", ASSIGNMENT, "--item", "D1", "--item",
                   "D3", "--out", self.work / "warm.csv", *db], env=self.dl_env)[1], "dlgrade grade (warm-up)")
        return d

    def setup_nbgrader(self):
        nbg = self.peer_bin("nbgrader")
        course = self.work / "nbgrader"
        for rel, text in self.files.items():
            if rel.startswith("nbgrader/"):
                (self.work / rel).parent.mkdir(parents=True, exist_ok=True)
                (self.work / rel).write_text(text)
        _must(run([nbg, "generate_assignment", NB_NAME, "--force"], cwd=course, env=self.peer_env)[1],
              "nbgrader generate_assignment")
        release = json.loads((course / "release" / NB_NAME / f"{NB_NAME}.ipynb").read_text())
        student_code = {_defined(_src(c))[0]: _src(c) for c in self.content["cells"]
                        if c["cell_type"] == "code" and _defined(_src(c))}
        for cell in release["cells"]:  # the student's answers go into the released solution cells
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("solution"):
                cell["source"] = student_code[meta["grade_id"].removeprefix("sol_")]
        for s in self.students:
            dst = course / "submitted" / s / NB_NAME
            dst.mkdir(parents=True)
            (dst / f"{NB_NAME}.ipynb").write_text(json.dumps(release, indent=1))
        return course

    def setup_otter(self):
        otter = self.peer_bin("otter")
        d = self.work / "otter"
        (d / "tests").mkdir(parents=True)
        for rel, text in self.files.items():
            if rel.startswith("otter/tests/"):
                (self.work / rel).write_text(text)
        _must(run([otter, "generate", "-t", "tests", "-o", "autograder.zip", "--no-config", "--no-requirements",
                   "--no-environment"], cwd=d, env=self.peer_env)[1], "otter generate")
        nb = copy.deepcopy(self.content)
        nb["metadata"].pop("dlgrade", None)
        (d / "subs").mkdir()
        for s in self.students:
            (d / "subs" / f"{s}.ipynb").write_text(json.dumps(nb, indent=1))
        return d

    # -- one timed run per tool: (seconds per submission, score text, full marks?) --

    def nbgrader(self, course: Path):
        nbg = self.peer_bin("nbgrader")
        only = ["--student", self.active[0]] if len(self.active) == 1 else []
        t, p = run([nbg, "autograde", NB_NAME, "--force", *only], cwd=course, env=self.peer_env)
        _must(p, "nbgrader autograde")
        out = course / "grades.csv"
        out.unlink(missing_ok=True)
        _must(run([nbg, "export", "--to", out], cwd=course, env=self.peer_env)[1], "nbgrader export")
        rows = [r for r in csv.DictReader(out.open()) if r["student_id"] in self.active]
        scores = {r["student_id"]: (float(r["score"]), float(r["max_score"]), True) for r in rows}
        return (t / len(self.active), *self._scores(scores))

    def otter(self, d: Path):
        otter = self.peer_bin("otter")
        total, scores = 0.0, {}
        for s in self.active:
            res = d / "results" / s
            shutil.rmtree(res, ignore_errors=True)
            res.mkdir(parents=True)
            t, p = run([otter, "run", "-a", d / "autograder.zip", "-o", res, "--no-logo", d / "subs" / f"{s}.ipynb"],
                       env=self.peer_env)
            _must(p, "otter run")
            total += t
            tests = [x for x in json.loads((res / "results.json").read_text())["tests"] if "score" in x]
            ok = sorted(x["name"] for x in tests) == sorted(ITEMS)  # one test file per item
            scores[s] = (sum(float(x["score"]) for x in tests), sum(float(x["max_score"]) for x in tests), ok)
        return (total / len(self.active), *self._scores(scores))

    def setup_nbconvert(self, course: Path):
        self.peer_bin("jupyter")
        d = self.work / "nbconvert"
        d.mkdir()
        for s in self.active:  # nbgrader's submissions (definitions and test cells), one name each
            shutil.copy(course / "submitted" / s / NB_NAME / f"{NB_NAME}.ipynb", d / f"{s}.ipynb")
        return d

    def nbconvert(self, d: Path):
        jup = self.peer_bin("jupyter")
        out = self.work / "nbconvert-out"
        shutil.rmtree(out, ignore_errors=True)
        t, p = run([jup, "nbconvert", "--to", "notebook", "--execute", "--output-dir", out,
                    "--ExecutePreprocessor.timeout=300", *[d / f"{s}.ipynb" for s in self.active]],
                   env=self.peer_env)
        clean = 0
        for s in self.active:
            f = out / f"{s}.ipynb"
            if f.exists() and not any(o.get("output_type") == "error" for c in json.loads(f.read_text())["cells"]
                                      for o in c.get("outputs", [])):
                clean += 1
        n = len(self.active)
        ok = p.returncode == 0 and clean == n
        return t / n, (f"every test cell passed in all {n}" if ok
                       else f"NOT full marks: {clean}/{n} notebooks ran clean (exit {p.returncode})"), ok

    def bare_python(self, py: str):
        total = 0.0
        for _ in self.active:
            t, p = run([py, "-c", "import numpy"])
            _must(p, "python -c 'import numpy'")
            total += t
        return total / len(self.active), "n/a (no grading)", True

    def dl_check(self, d: Path):
        exe = self.dl_bin()
        total, scores = 0.0, {}
        for s in self.active:
            t, p = run([exe, "check", d / f"{s}.ipynb", "-a", ASSIGNMENT, "--json"], env=self.dl_env)
            _must(p, "dlgrade check")
            total += t
            res = json.loads(p.stdout)
            items = [i for i in res["items"] if i["status"] != "manual"]
            wanted = [i for i in items if i["item_id"] in ITEMS]
            whole = not res.get("error") and len(wanted) == len(ITEMS) \
                and all(i["points"] >= i["max_points"] for i in items)  # full marks on every item it ran
            scores[s] = (sum(i["points"] for i in wanted), sum(i["max_points"] for i in wanted), whole)
        return (total / len(self.active), *self._scores(scores))

    def dl_grade(self, d: Path, workers: int | None, tag: str):
        out = self.work / f"grade-{tag}"
        d = d if len(self.active) == self.n else self.work / "dlgrade-one"
        cmd = [self.dl_bin(), "grade", d, "-a", ASSIGNMENT, *[a for i in ITEMS for a in ("--item", i)],
               "--out", out.with_suffix(".csv"), "--json", out.with_suffix(".jsonl")]
        if workers:
            cmd += ["--workers", workers]
        if self.has_db:
            self.runs += 1
            cmd += ["--db", self.work / f"gradebook-{self.runs}.sqlite", *self.fresh_db]
        t, p = run(cmd, env=self.dl_env)
        _must(p, "dlgrade grade")
        scores, self.layers = {}, set()
        for line in out.with_suffix(".jsonl").read_text().splitlines():
            r = json.loads(line)
            self.layers.add(", ".join(r.get("layers") or []))
            items = [i for i in r["items"] if i["item_id"] in ITEMS]
            bad = r.get("error") or len(items) != len(ITEMS)
            scores[r["student"]] = (sum(i["points"] for i in items), sum(i["max_points"] for i in items), not bad)
        return (t / len(self.active), *self._scores(scores))

    def _scores(self, scores: dict[str, tuple[float, float, bool]]):
        """(score text, full marks?) from student -> (points, max points, every item graded?)."""
        expect, n = self.max_points, len(self.active)
        full = [s for s, (got, mx, whole) in scores.items() if whole and _full(got, mx, expect)]
        if len(scores) == n and len(full) == n:
            return f"{expect:g}/{expect:g} for all {n}", True
        text = f"NOT full marks: {len(full)}/{n} submissions at {expect:g}/{expect:g}"
        if scores:
            s, (got, mx, whole) = min(scores.items(), key=lambda kv: kv[1][0])
            text += f" (e.g. {s}: {got:g}/{mx:g}{'' if whole else ', not every item graded'})"
        return text, False

    def dl_python(self) -> str:
        """The interpreter of the dlgrade executable (its shebang line)."""
        first = self.dl_bin().read_text(errors="replace").split("\n", 1)[0]
        return first[2:].strip() if first.startswith("#!") else sys.executable


# ----------------------------------------------------------------------------
# machine and versions


def _out(cmd, **kw) -> str:
    try:
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120, **kw)
        return (p.stdout + p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unavailable ({e})"


def machine() -> dict:
    model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                  if ln.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"nproc": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)), "cpu": model,
            "platform": platform.platform(), "env": {k: os.environ[k] for k in sorted(os.environ)
                                                     if k.startswith(("OPENBLAS", "OMP_", "MKL_"))}}


def versions(bench: Bench) -> dict:
    v = {}
    pkgs = "import importlib.metadata as m, json, sys; print(json.dumps({p: m.version(p) for p in sys.argv[1:]}))"
    if bench.venv and (bench.venv / "bin" / "python").exists():
        py = bench.venv / "bin" / "python"
        v["peers_python"] = _out([py, "-c", "import sys; print(sys.version.split()[0])"])
        try:
            v["peers"] = json.loads(_out([py, "-c", pkgs, "nbgrader", "otter-grader", "nbconvert", "nbclient",
                                          "ipykernel", "jupyter_client", "numpy", "scipy"]))
        except ValueError as e:
            v["peers"] = f"unavailable ({e})"
    if bench.dlgrade.exists():
        py = bench.dl_python()
        v["dlgrade_python"] = _out([py, "-c", "import sys; print(sys.version.split()[0])"])
        try:
            v["dlgrade"] = json.loads(_out([py, "-c", pkgs, "dlgrade", "numpy", "scipy"]))
        except ValueError as e:
            v["dlgrade"] = f"unavailable ({e})"
        probe = ("import os, runpy, sys; runpy.run_path(sys.argv[1], run_name='peers_probe'); "
                 "import grader; print(os.path.dirname(grader.__file__))")  # the grader the executable imports
        src = Path(_out([py, "-c", probe, bench.dlgrade.resolve()], cwd=tempfile.gettempdir()).splitlines()[-1])
        if not (src / "__init__.py").is_file():  # the probe failed: say so, do not guess a commit
            v["dlgrade_source"] = f"unknown (the probe said: {src})"
            return v | {"bwrap": _out(["bwrap", "--version"]) if shutil.which("bwrap") else "not installed"}
        v["dlgrade_source"] = str(src.parent)
        v["dlgrade_commit"] = _out(["git", "-C", src.parent, "rev-parse", "--short", "HEAD"])
        dirty = _out(["git", "-C", src.parent, "status", "--porcelain", "--untracked-files=no", "--",
                      "grader", "reference", "rubrics"])  # changes to what is measured, not to benchmarks/
        v["dlgrade_uncommitted_changes"] = bool(dirty) and not dirty.startswith(("unavailable", "fatal"))
    v["bwrap"] = _out(["bwrap", "--version"]) if shutil.which("bwrap") else "not installed"
    return v


# ----------------------------------------------------------------------------


def wait_for_load(limit: float, patience_s: float = 1800):
    """Sleep until the 1-minute load average is below ``limit`` (a shared machine), at most ``patience_s``."""
    t0 = time.monotonic()
    while os.getloadavg()[0] >= limit and time.monotonic() - t0 < patience_s:
        time.sleep(15)
    if os.getloadavg()[0] >= limit:
        print(f"load average still {os.getloadavg()[0]:.1f} after {patience_s / 60:g} min; measuring anyway")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers-venv", help="venv with benchmarks/requirements-peers.txt installed")
    ap.add_argument("--dlgrade", default=".venv/bin/dlgrade", help="the dlgrade executable (default: %(default)s)")
    ap.add_argument("-n", type=int, default=20, help="submissions (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=1, help="timed rounds after the warm-up (default: %(default)s)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "peers.json"), help="JSON results")
    ap.add_argument("--example", default=str(SOLUTION),
                    help="the notebook copied N times (default: %(default)s; a wrong one checks the scoring)")
    ap.add_argument("--wait-load", type=float, metavar="L",
                    help="first wait (up to 30 min) until the 1-minute load average is below L")
    ap.add_argument("--write-course", action="store_true",
                    help="rewrite benchmarks/peers/ from the rubric and the reference, then stop")
    args = ap.parse_args(argv)
    if args.n < 1 or args.repeat < 1:
        ap.error("-n and --repeat must be at least 1")

    files = course_files()
    if args.write_course:
        for rel, text in files.items():
            (COURSE / rel).parent.mkdir(parents=True, exist_ok=True)
            (COURSE / rel).write_text(text)
        print(f"wrote {len(files)} files under {COURSE.relative_to(ROOT)}/")
        return 0
    stale = check_course(files)
    if stale:
        raise SystemExit(f"peers.py: {', '.join(stale)} out of date with the rubric or the reference; "
                         "run `python benchmarks/peers.py --write-course`")
    content = content_notebook(Path(args.example))
    if not Path(args.dlgrade).is_absolute() and not Path(args.dlgrade).exists():
        args.dlgrade = str(ROOT / args.dlgrade)  # the default, relative to the checkout
    args.dlgrade = str(Path(args.dlgrade).absolute())  # some tools run in other folders

    if args.wait_load:
        wait_for_load(args.wait_load)
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="dlgrade-peers-"))
    try:
        report = bench_all(args, files, content, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.update({"date": started, "load_before": [round(x, 2) for x in load_before],
                   "load_after": [round(x, 2) for x in os.getloadavg()]})
    report["machine"] = machine()
    print_table(report)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(f"-> {args.out}")
    return 0


def bench_all(args, files, content, work) -> dict:
    b = Bench(args, files, content, work)
    from grader.rubric import get_rubric

    rubric = get_rubric(ASSIGNMENT)
    b.max_points = sum(i.points for i in rubric.items if i.id in ITEMS)
    public = ", ".join(i.id for i in rubric.items if i.visibility == "public" and not i.manual)
    rows: dict[str, dict] = {}
    tasks = []   # (row name, how, callable)

    def add(name, how, setup, fn):
        try:
            state = setup() if setup else None
        except Skip as e:
            rows[name] = {"how": how, "skipped": str(e)}
            print(f"skip {name}: {e}")
            return
        except RuntimeError as e:
            rows[name] = {"how": how, "skipped": f"set-up failed: {e}"}
            print(f"skip {name}: set-up failed: {e}")
            return
        rows[name] = {"how": how, "times": []}
        tasks.append((name, (lambda: fn(state)) if setup else fn))

    course = {}

    def nbg_setup():
        course["nbgrader"] = b.setup_nbgrader()
        return course["nbgrader"]

    def nbc_setup():
        if "nbgrader" not in course:
            raise Skip("nbconvert runs the nbgrader submissions, and nbgrader was skipped")
        return b.setup_nbconvert(course["nbgrader"])

    try:
        dl_dir, dl_skip = b.setup_dlgrade(), ""
    except (Skip, RuntimeError) as e:
        dl_dir, dl_skip = None, str(e) if isinstance(e, Skip) else f"set-up failed: {e}"
        print(f"skip dlgrade: {dl_skip}")
    add("nbgrader autograde", f"one call for {b.n} submissions, / {b.n}", nbg_setup, b.nbgrader)
    add("otter run", "one call per submission", b.setup_otter, b.otter)
    add("nbconvert --execute", f"one call for {b.n} notebooks (with nbgrader's test cells), / {b.n}",
        nbc_setup, b.nbconvert)
    try:
        py, whose = b.dl_python(), "dlgrade's interpreter"
    except Skip:
        py, whose = sys.executable, "this script's interpreter: no dlgrade"
    add('python -c "import numpy"', f"one per submission ({whose}, {py})", lambda: py, b.bare_python)
    grade_rows = []
    if dl_dir:
        add("dlgrade check", f"one call per notebook (runs the public items {public}; D1+D3 scored)",
            lambda: dl_dir, b.dl_check)
        variants = [(None, "dlgrade grade")]
        if b.has_workers:
            variants += [(1, "dlgrade grade --workers 1"), (2, "dlgrade grade --workers 2")]
        else:
            for w in (1, 2):
                rows[f"dlgrade grade --workers {w}"] = {"how": "", "skipped": "n/a: no --workers yet"}
        for w, name in variants:
            add(name, f"one call for {b.n} submissions, --item D1 --item D3, / {b.n}", lambda: dl_dir,
                lambda d, w=w, name=name: b.dl_grade(d, w, name.replace(" ", "_")))
            grade_rows.append(name)
    else:
        for name in ("dlgrade check", "dlgrade grade"):
            rows[name] = {"how": "", "skipped": dl_skip}

    for rnd in range(args.repeat + 1):   # round 0 is the warm-up, on the first submission alone
        b.active = b.students if rnd else b.students[:1]
        for name, fn in tasks:
            row = rows[name]
            if "skipped" in row:
                continue
            load = os.getloadavg()[0]
            try:
                per_sub, score, full = fn()
            except (Skip, RuntimeError, subprocess.TimeoutExpired, OSError, ValueError, KeyError) as e:
                row.update({"skipped": f"failed: {e}", "times": [], "full_marks": False})
                print(f"{name}: failed: {e}")
                continue
            if row.get("full_marks", True):  # full marks in every round, else the first round's shortfall
                row["score"], row["full_marks"] = score, full
            if rnd:
                row["times"].append(per_sub)
                row.setdefault("load_1min_at_start", []).append(round(load, 2))
            print(f"{'warm-up' if rnd == 0 else f'round {rnd}'}  {name:<30} {per_sub:7.3f} s/submission  {score}")
    for row in rows.values():
        if row.get("times"):
            row["s_per_submission"] = statistics.median(row["times"])
    best = [rows[n] for n in grade_rows if rows[n].get("full_marks") and "s_per_submission" in rows[n]]
    base_row = min(best, key=lambda r: r["s_per_submission"]) if best else None
    base = base_row["s_per_submission"] if base_row else None
    for row in rows.values():
        if base and row.get("full_marks") and "s_per_submission" in row:
            row["ratio_to_dlgrade_grade"] = row["s_per_submission"] / base
    return {"n_submissions": b.n, "repeat": args.repeat, "items": list(ITEMS), "max_points": b.max_points,
            "assignment": ASSIGNMENT, "example": str(Path(args.example).resolve().relative_to(ROOT))
            if Path(args.example).resolve().is_relative_to(ROOT) else args.example,
            "dlgrade_grade_baseline": next((n for n in grade_rows if rows[n] is base_row), None),
            "dlgrade_isolation": sorted(getattr(b, "layers", set())),
            "command": " ".join([sys.executable, *sys.argv]), "cwd": os.getcwd(),
            "rows": rows, "versions": versions(b)}


def print_table(r: dict):
    print(f"\n{r['assignment']} {'+'.join(r['items'])}, {r['n_submissions']} copies of {r['example']}, "
          f"median of {r['repeat']} round(s); {r['date']}")
    print(f"{'tool':<30}{'s/submission':>13}{'x dlgrade grade':>17}  score / note")
    for name, row in r["rows"].items():
        if "s_per_submission" not in row:
            print(f"{name:<30}{'-':>13}{'-':>17}  {row.get('skipped', 'no timing')}")
            continue
        ratio = f"{row['ratio_to_dlgrade_grade']:.1f}x" if "ratio_to_dlgrade_grade" in row else "not used"
        print(f"{name:<30}{row['s_per_submission']:>13.3f}{ratio:>17}  {row['score']}  [{row['how']}]")
    m = r["machine"]
    print(f"machine: {m['nproc']} cpus ({m['cpu']}), load {r['load_before']} -> {r['load_after']}; "
          f"dlgrade isolation: {'; '.join(r['dlgrade_isolation']) or '?'}")
    print("x dlgrade grade = the tool's seconds per submission / dlgrade grade's (best worker count)")


if __name__ == "__main__":
    sys.exit(main())

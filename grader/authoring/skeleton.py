"""Generate the student skeleton notebook of an assignment from its reference module.

The reference is the one source of truth: signatures and docstrings are kept,
``### BEGIN SOLUTION`` ... ``### END SOLUTION`` regions become ``# YOUR CODE
HERE`` / ``raise NotImplementedError()``, private ``_helpers`` and imports of
the ``reference`` package are left out. The rubric supplies the order, the
headings, the descriptions and the answer cells of manual items. Output is
deterministic (fixed cell ids), so CI can compare it with the committed file.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import nbformat

from grader.authoring.mutants import reference_source
from grader.rubric import Rubric, skeleton_dir

# The first code cell: the self-check of the student's bundle (the dlgrade_check wheel). Grading skips it
# (a `try` that is not only imports) and the check cells (calls); where dlgrade_check is not installed,
# as in the grader's sandbox, `check(...)` only says so.
CHECKER_CELL = """\
# Self-check of the public items: `pip install dlgrade_check*.whl` from the release bundle, then run this cell.
try:
    from dlgrade_check import Checker
    check = Checker("{assignment}")
except ImportError:
    def check(*items):
        print("the self-check is not installed: pip install dlgrade_check*.whl (from the release bundle)")
    check.all = check
"""
BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")


def strip_solutions(source: str) -> str:
    """Replace every solution region by a stub at the region's indentation."""
    out, inside = [], False
    for line in source.splitlines():
        m = BEGIN.match(line)
        if m and not inside:
            inside = True
            out += [f"{m.group(1)}# YOUR CODE HERE", f"{m.group(1)}raise NotImplementedError()"]
        elif inside and END.match(line):
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("a '### BEGIN SOLUTION' has no matching '### END SOLUTION'")
    return "\n".join(out).rstrip() + "\n"


def _segments(module_source: str, private: bool = False):
    """Top-level (kind, name, source) of the reference module, in order (``_private`` ones if asked)."""
    tree = ast.parse(module_source)
    lines = module_source.splitlines(keepends=True)
    for node in tree.body:
        start = node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno
        # keep comment lines directly above a definition
        while start > 1 and lines[start - 2].lstrip().startswith("#") and not lines[start - 2].startswith("# ---"):
            start -= 1
        end = node.end_lineno
        while end < len(lines) and (END.match(lines[end]) or lines[end].startswith((" ", "\t")) and
                                    lines[end].strip().startswith("#")):
            end += 1  # trailing '### END SOLUTION' (a comment, so not part of the node)
        text = "".join(lines[start - 1: end])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mod = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            if mod == "__future__" or (mod or "").split(".")[0] == "reference":
                continue
            yield "import", None, text
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            if private or not node.name.startswith("_"):
                yield "def", node.name, text
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if names and (private or not any(n.startswith("_") for n in names)) and names != ["__all__"]:
                yield "const", names[0], text


def keep_solutions(source: str) -> str:
    """Drop only the solution markers (a worked notebook, for examples and benchmarks)."""
    return "\n".join(ln for ln in source.splitlines() if not (BEGIN.match(ln) or END.match(ln))).rstrip() + "\n"


def build_notebook(rubric: Rubric, *, source: str | None = None, solutions: bool = False) -> nbformat.NotebookNode:
    """The skeleton notebook for ``rubric`` (not written).

    ``source`` replaces the reference module's source (e.g. a mutated one) and
    ``solutions`` keeps the solution code: both only for examples and tests.
    """
    source = source or reference_source(rubric)
    strip = keep_solutions if solutions else strip_solutions
    imports, consts, defs = [], [], {}
    computed = read_names(rubric)
    for kind, name, text in _segments(source, private=solutions):
        if kind == "import":
            imports.append(text.strip())
        elif kind == "const" and name in computed and not solutions:
            consts.append(f"{name} = None  # YOUR CODE HERE: the grader reads the value your notebook computes")
        elif kind == "const":
            consts.append(text.strip())
        else:
            defs[name] = strip(text).strip()
    placed: dict[str, str] = {}
    for item in rubric.items:
        for check in item.checks:
            for fn in check.functions():
                if fn in defs and fn not in placed:
                    placed[fn] = item.id
    cells: list = []

    def md(text):
        cells.append(nbformat.v4.new_markdown_cell(text.strip()))

    def code(text, **meta):
        cells.append(nbformat.v4.new_code_cell(text.strip(), metadata=meta))

    public = [i.id for i in rubric.items if i.visibility == "public" and not i.manual]
    md(f"# {rubric.title}\n\n{rubric.intro}\n\n"
       "Check your work before you submit: install the self-check once from the release bundle your course "
       "gave you (`pip install dlgrade_check*.whl`), run the cell below, then the `check(...)` cell after "
       "each public exercise; `check.all()` runs every public item, and "
       f"`dlgrade-check {rubric.assignment}.ipynb` does the same in a terminal. "
       "The grader runs your functions and the top-level code they need (imports, helpers, constants, "
       "lambdas, in-place updates); top-level code whose result no graded function reads (training runs, "
       "plots, prints) is not run. Every call of your functions has a "
       f"time limit when graded (stated per exercise), and all calls together {rubric.limits.budget_s:g} s.")
    code(CHECKER_CELL.format(assignment=rubric.assignment), dlgrade={"checker": True})
    md("## Setup")
    imports = list(dict.fromkeys(imports))  # several reference modules import the same things
    code("\n".join(imports) + ("\n\n" + "\n\n".join(consts) if consts else ""))
    given = [n for n in defs if n not in placed]
    if given:
        md("## Provided code and helpers\n\nRun these cells; the exercises below may use them.")
        for n in given:
            code(defs[n])
    limits = time_limits(rubric)
    for item in rubric.items:
        vis = f'checked by `check("{item.id}")` below' if item.id in public else "graded after submission"
        plural = "s" if item.points != 1 else ""
        head = f"## {item.id}: {item.title}\n\n*{item.points:g} point{plural}, {'marked by a TA' if item.manual else vis}.*"
        mine = [n for n, where in placed.items() if where == item.id]
        timing = _timing_line(mine, limits)
        md(head + (f"\n\n{item.description.strip()}" if item.description else "") + (f"\n\n{timing}" if timing else ""))
        if item.manual:
            md(f"**Question.** {item.prompt}" if item.prompt else "**Your answer below.**")
            cells.append(nbformat.v4.new_markdown_cell("YOUR ANSWER HERE", metadata={"dlgrade": {"item": item.id}}))
            continue
        for n in mine:
            code(defs[n], dlgrade={"item": item.id, "function": n})
        if item.id in public:
            code(f'check("{item.id}")', dlgrade={"check": item.id})
    if public:
        md("## Before you submit\n\n`check.all()` runs every public item once more "
           f"({', '.join(public)}); the hidden items are graded after you submit.")
        code("check.all()", dlgrade={"check": "all"})
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"},
                   "dlgrade": {"assignment": rubric.assignment, "rubric_version": rubric.version}}
    for i, cell in enumerate(nb.cells):
        cell.id = f"{rubric.assignment[:40]}-{i:03d}"
    return nb


def time_limits(rubric: Rubric) -> dict[str, tuple[float | None, float | None]]:
    """function -> (seconds per call in the quick checks, in the long ``full`` ones), from the rubric's limits."""
    out: dict[str, list] = {}
    for item in rubric.items:
        for check in item.checks:
            t = check.timeout_s or rubric.limits.timeout_s
            for fn in check.functions():
                slot = out.setdefault(fn, [None, None])
                k = 1 if check.full else 0
                slot[k] = max(slot[k] or 0.0, t)
    return {fn: (q, f) for fn, (q, f) in out.items()}


def _timing_line(functions: list[str], limits: dict) -> str:
    """``*Time limit when graded: `q_map`, `q_star`: 20 s per call.*`` (functions with equal limits together)."""
    groups: dict[tuple, list[str]] = {}
    for fn in functions:
        if fn in limits:
            groups.setdefault(limits[fn], []).append(fn)
    parts = []
    for (quick, full), fns in groups.items():
        names = ", ".join(f"`{f}`" for f in fns)
        if quick and full and full != quick:
            when = f"{quick:g} s per call ({full:g} s in the long checks graded after you submit)"
        elif quick:
            when = f"{quick:g} s per call"
        else:
            when = f"{full:g} s per call (long checks graded after you submit)"
        parts.append(f"{names}: {when}")
    return f"*Time limit when graded: {'; '.join(parts)}.*" if parts else ""


def provided_code(rubric: Rubric) -> list[dict]:
    """What the skeleton gives students (imports, constants, definitions with no solution region).

    The grader runs these *before* a submission's own definitions, so a student
    who deleted or broke a provided helper cell is graded with the course's copy,
    while a student's own version of a helper still takes precedence. None of it
    is secret: it is exactly what the skeleton ships.
    """
    return [dict(d) for d in _provided(reference_source(rubric), frozenset(read_names(rubric)))]


def read_names(rubric: Rubric) -> set[str]:
    """Top-level values of the notebook the rubric reads (``{read: name}`` steps): the student computes them,
    so the reference's own values are never provided code nor given in the skeleton."""
    return {n for item in rubric.items for check in item.checks for n in check.reads()}


@lru_cache(maxsize=32)
def _provided(source: str, computed: frozenset = frozenset()) -> tuple:
    out = []
    for kind, name, text in _segments(source):
        if kind == "def" and not any(BEGIN.match(ln) for ln in text.splitlines()):
            out.append({"label": f"provided code ({name})", "source": text, "kind": "provided"})
        elif kind == "const" and name in computed:
            continue
        elif kind in ("import", "const"):
            out.append({"label": "provided code (setup)", "source": text, "kind": "provided"})
    return tuple(out)


def render(rubric: Rubric) -> str:
    return nbformat.writes(build_notebook(rubric)) + "\n"


def skeleton_path(rubric: Rubric) -> Path:
    return skeleton_dir() / f"{rubric.assignment}.ipynb"


def write(rubric: Rubric, path: Path | None = None) -> Path:
    path = path or skeleton_path(rubric)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(rubric))
    return path

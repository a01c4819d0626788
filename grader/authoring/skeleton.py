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

    md(f"# {rubric.title}\n\n{rubric.intro}\n\n"
       f"Check your work before you submit: in the folder your course gave you (the release bundle), "
       f"`python check.py {rubric.assignment}.ipynb` runs the public items. "
       "Only functions, classes, imports and simple constants are graded; code that *does* things at "
       "the top level (training runs, plots) is not run by the grader.")
    md("## Setup")
    imports = list(dict.fromkeys(imports))  # several reference modules import the same things
    code("\n".join(imports) + ("\n\n" + "\n\n".join(consts) if consts else ""))
    given = [n for n in defs if n not in placed]
    if given:
        md("## Provided code and helpers\n\nRun these cells; the exercises below may use them.")
        for n in given:
            code(defs[n])
    for item in rubric.items:
        vis = "checked by `python check.py`" if item.visibility == "public" else "graded after submission"
        plural = "s" if item.points != 1 else ""
        head = f"## {item.id}: {item.title}\n\n*{item.points:g} point{plural}, {'marked by a TA' if item.manual else vis}.*"
        md(head + (f"\n\n{item.description}" if item.description else ""))
        if item.manual:
            md(f"**Question.** {item.prompt}" if item.prompt else "**Your answer below.**")
            cells.append(nbformat.v4.new_markdown_cell("YOUR ANSWER HERE", metadata={"dlgrade": {"item": item.id}}))
            continue
        for n, where in placed.items():
            if where == item.id:
                code(defs[n], dlgrade={"item": item.id, "function": n})
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"},
                   "dlgrade": {"assignment": rubric.assignment, "rubric_version": rubric.version}}
    for i, cell in enumerate(nb.cells):
        cell.id = f"{rubric.assignment[:40]}-{i:03d}"
    return nb


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

"""Defs-only extraction: the definitions of a notebook or module, found by AST.

Kept: imports, function and class definitions, ``try`` blocks of imports, and
simple constant assignments (literals, arithmetic, and calls of a short list
of array constructors such as ``np.array``). Dropped: everything that *does*
something at top level (training loops, downloads, plots, videos), IPython
magics and shell lines. A cell that does not parse is reported and skipped;
the rest of the notebook is still graded. Nothing here runs student code.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from grader.pipeline.load import Submission

# calls allowed on the right-hand side of a kept constant assignment
SAFE_CALLS = {
    "np.array", "np.asarray", "np.eye", "np.identity", "np.zeros", "np.ones", "np.full", "np.arange",
    "np.linspace", "np.logspace", "np.diag", "np.sqrt", "np.exp", "np.log", "np.float64", "np.float32",
    "np.int64", "np.concatenate", "np.stack", "np.vstack", "np.hstack", "np.kron", "np.outer",
    "numpy.array", "numpy.asarray", "numpy.eye", "numpy.zeros", "numpy.ones", "numpy.arange", "numpy.linspace",
    "torch.tensor", "torch.eye", "torch.zeros", "torch.ones", "torch.device", "torch.float32", "torch.float64",
    "float", "int", "complex", "bool", "str", "tuple", "list", "dict", "set", "frozenset", "range", "len",
    "abs", "min", "max", "round", "sum", "math.sqrt", "math.exp", "math.log", "math.pi", "np.pi",
    # quadrature nodes and weights, often computed once at top level
    "hermegauss", "hermgauss", "np.polynomial.hermite_e.hermegauss", "np.polynomial.hermite.hermgauss",
    "numpy.polynomial.hermite_e.hermegauss", "numpy.polynomial.hermite.hermgauss", "roots_hermite",
    "roots_hermitenorm", "scipy.special.roots_hermite", "scipy.special.roots_hermitenorm",
    "special.roots_hermite", "special.roots_hermitenorm", "np.polynomial.legendre.leggauss", "leggauss",
}
# cell magics whose body is Python (kept without the magic line)
PYTHON_CELL_MAGICS = {"capture", "time", "timeit", "prun", "debug"}
# modules a notebook may import that grading never runs: the student self-check (not installed where it is
# graded), by its released name and by its name in a checkout
SKIPPED_IMPORTS = ("dlgrade_check", "grader.student")


@dataclass(frozen=True)
class Statement:
    label: str
    """Where it came from, e.g. ``cell 7`` (also the filename in tracebacks)."""
    source: str
    """The statement's source (from its first line; see ``line``)."""
    kind: str
    """``import``, ``def``, ``class``, ``assign`` or ``try-import``."""
    names: tuple[str, ...]
    """Top-level names it binds."""
    line: int = 1
    """The line of its cell where the statement starts (tracebacks name the cell's lines)."""


@dataclass(frozen=True)
class Extraction:
    statements: tuple[Statement, ...]
    warnings: tuple[str, ...]

    def defined(self) -> set[str]:
        return {n for s in self.statements for n in s.names}

    def to_plain(self) -> list[dict]:
        return [{"label": s.label, "source": s.source, "kind": s.kind, "line": s.line} for s in self.statements]


def extract(sub: Submission, *, history: bool = False) -> Extraction:
    """The definitions of ``sub`` in order, plus warnings for what was skipped.

    ``history``: the cells are a live kernel's inputs in execution order (the
    student self-check), where running a cell again redefines its names and a
    cell that did not parse defined nothing: neither is worth a warning there.
    """
    statements, warnings = [], []
    defined_at: dict[str, str] = {}
    for cell in sub.code_cells():
        label = cell_label(sub, cell)
        src, note = strip_ipython(cell.source)
        if note:
            warnings.append(f"{label}: {note}")
        if not src.strip():
            continue
        try:
            tree = ast.parse(src)
        except SyntaxError as exc:
            if history:
                continue
            line = (exc.text or "").strip()
            warnings.append(f"{label}: syntax error on line {exc.lineno}: {exc.msg}"
                            + (f" (`{line[:60]}`)" if line else "")
                            + "; the definitions in this cell are missing")
            continue
        lines = src.splitlines(keepends=True)
        for node in tree.body:
            kind = _keep(node)
            if kind is None:
                continue
            start = (node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno)
            text = "".join(lines[start - 1: node.end_lineno])
            statements.append(Statement(label, text, kind, _bound_names(node), start))
            if kind in ("def", "class"):
                name = node.name
                if name in defined_at and defined_at[name] != label and not history:
                    warnings.append(f"{label}: `{name}` is defined again (first in {defined_at[name]}); "
                                    "the later definition is the one graded")
                defined_at[name] = label
    return Extraction(tuple(statements), tuple(warnings))


def cell_label(sub: Submission, cell) -> str:
    """``cell 7``; ``part2.ipynb cell 7`` for a folder of notebooks; the file name for a module."""
    if cell.origin and cell.origin.endswith(".py"):
        return cell.origin
    if sub.kind != "notebook" and not cell.origin:
        return sub.path.name
    return f"{cell.origin} cell {cell.index + 1}" if cell.origin else f"cell {cell.index + 1}"


def strip_ipython(source: str) -> tuple[str, str | None]:
    """Remove IPython-only syntax (magics, ``!shell``, ``?help``), keeping line numbers."""
    lines = source.splitlines()
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    if first.startswith("%%"):
        magic = first[2:].split()[0] if len(first) > 2 else ""
        if magic not in PYTHON_CELL_MAGICS:
            return "", f"skipped (a %%{magic} cell)"
        idx = next(i for i, ln in enumerate(lines) if ln.strip())
        lines[idx] = ""
    out = []
    for ln in lines:
        s = ln.lstrip()
        if s.startswith(("%", "!")) or re.match(r"^[\w.]+\s*=\s*[!%]", s) or re.match(r"^[\w.]+\?\??$", s) \
                or s.startswith("?"):
            out.append("")  # keep the line count
        else:
            out.append(ln)
    return "\n".join(out), None


def _keep(node) -> str | None:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return None if _skipped_import(node) else "import"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return "def"
    if isinstance(node, ast.ClassDef):
        return "class"
    if isinstance(node, ast.Try) and all(isinstance(n, (ast.Import, ast.ImportFrom, ast.Pass))
                                         for n in node.body):
        imports = [n for n in node.body if not isinstance(n, ast.Pass)]
        return None if imports and all(_skipped_import(n) for n in imports) else "try-import"
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _is_constant(node.value):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if all(isinstance(t, (ast.Name, ast.Tuple)) for t in targets):
            return "assign"
    return None


def _skipped_import(node) -> bool:
    mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    return bool(mods) and all(any(m == s or m.startswith(s + ".") for s in SKIPPED_IMPORTS) for m in mods) and \
        not (isinstance(node, ast.ImportFrom) and node.level)


def _dotted(node) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _is_constant(node) -> bool:
    """Literals, names, arithmetic and calls of :data:`SAFE_CALLS` only."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            if _dotted(sub.func) not in SAFE_CALLS:
                return False
        elif isinstance(sub, (ast.Lambda, ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom,
                              ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return False
    return True


def _bound_names(node) -> tuple[str, ...]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return (node.name,)
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return tuple((a.asname or a.name).split(".")[0] for a in node.names)
    names = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.append(sub.id)
        elif isinstance(sub, ast.alias):
            names.append((sub.asname or sub.name).split(".")[0])
    return tuple(names)

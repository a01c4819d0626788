"""Known mistakes (mutants) and the reference's source.

A mutant is a function in ``reference/mistakes/`` that replaces one reference
function (``replaces``) with a known wrong version; it is spliced *in place*
into the reference source, so it reads (and is graded) like a student's module
with one wrong function.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
import sys
import textwrap
from pathlib import Path
import types
from functools import lru_cache

from grader.rubric import Rubric


def reference_source(rubric: Rubric) -> str:
    """The reference's source as one module (several modules concatenated in order)."""
    return _reference_source(tuple(rubric.reference_modules))


def module_text(name: str) -> str:
    """A module's source read from its file, without running it (grading a batch need not import scipy)."""
    mod = sys.modules.get(name)
    if mod is not None:
        return inspect.getsource(mod)
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return inspect.getsource(importlib.import_module(name))
    return Path(spec.origin).read_text(encoding="utf-8")


@lru_cache(maxsize=32)
def _reference_source(modules: tuple[str, ...]) -> str:
    sources = [module_text(m) for m in modules]
    if len(sources) == 1:
        return sources[0]
    future = "from __future__ import annotations\n"
    body = [re.sub(r"^from __future__ import [^\n]*\n", "", src, flags=re.M) for src in sources]
    head = future if any(future in src for src in sources) else ""
    return head + "\n\n".join(f"# ---- {m}\n{b}" for m, b in zip(modules, body))


def mistakes_of(rubric: Rubric) -> list:
    from reference.mistakes import mistakes_in

    return [m for mod in rubric.mistakes_modules for m in mistakes_in(importlib.import_module(mod))]


def _mutant_def(m, name: str) -> str:
    """The mutant's source, undecorated and renamed to ``name``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(m.func)))
    fn = tree.body[0]
    fn.decorator_list = []
    fn.name = name
    return ast.unparse(fn)


def mutated_source(rubric: Rubric, m, source: str | None = None) -> str:
    """The reference module's source with the replaced function (or method) swapped for the mutant.

    The swap happens in place, so the result reads like a student's module with
    one wrong function, and the grader's defs-only extraction sees it as such.
    """
    ref_src = source or reference_source(rubric)
    lines = ref_src.splitlines(keepends=True)
    tree = ast.parse(ref_src)
    owner, _, attr = m.replaces.rpartition(".")
    body = tree.body
    if owner:
        cls = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == owner), None)
        if cls is None:
            raise ValueError(f"mistake {m.name}: no class {owner!r} in {rubric.reference_modules}")
        body = cls.body
    node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == attr), None)
    if node is None:
        raise ValueError(f"mistake {m.name}: {m.replaces!r} not found in {rubric.reference_modules}")
    start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    end = node.end_lineno
    while end < len(lines) and lines[end].strip().startswith("### END SOLUTION"):
        end += 1
    indent = " " * node.col_offset
    new = textwrap.indent(f"# known mistake: {m.name}\n" + _mutant_def(m, attr), indent) + "\n"
    return "".join(lines[:start]) + new + "".join(lines[end:])


def mutant_namespace(rubric: Rubric, m) -> dict:
    """The globals of the reference module with ``m`` spliced in (compiled once per process)."""
    return _mutant_ns(rubric.reference_modules[0], m.name, mutated_source(rubric, m))


@lru_cache(maxsize=256)
def _mutant_ns(reference: str, name: str, source: str) -> dict:
    mod = types.ModuleType(f"{reference}__mutant__{name}")
    mod.__file__ = importlib.import_module(reference).__file__
    exec(compile(source, f"<mutant {name}>", "exec"), mod.__dict__)  # noqa: S102 - our own trusted code
    return mod.__dict__

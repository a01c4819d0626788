"""The boundaries of the layout, checked on the source (AST): who may import what.

- the worker (what runs inside the sandbox) imports nothing of ``grader`` or ``reference``;
- ``selfcheck`` and ``student`` (the student's bundle), ``sandbox`` and ``judge`` never reach
  ``reference`` or ``authoring``, not even through the modules they import;
- ``student`` (``dlgrade_check``) imports only the standard library at module level, so a
  missing package is a one-line message, not an ImportError;
- module-level imports inside ``grader`` form no cycle;
- a function-level import of ``grader``/``reference`` code is allowed only where listed
  below with its reason.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GRADER = ROOT / "grader"

# (importing module, imported module) -> why it is imported inside a function
DEFERRED = {
    ("grader.cli", "grader.batch.prestart"): "the entry point starts a batch's zygote before the commands' imports",
    ("grader.cli", "grader.cli.main"): "the commands, imported after the batch's zygote has started (and the "
                                       "student's bundle has grader.cli without them)",
    ("grader.pipeline.keys", "grader.authoring.mutants"): "the student's bundle ships without authoring/",
    ("grader.pipeline.keys", "grader.authoring.skeleton"): "the student's bundle ships without authoring/",
    ("grader.sandbox.supervisor", "grader.sandbox"): "looked up at call time, so tests can replace available_layers",
    ("grader.sandbox.supervisor", "grader.sandbox.portable"): "portable extends the supervisor's job (macOS, Windows): "
                                                              "imported at call time, a cycle otherwise",
    ("grader.sandbox.worker.__main__", "grader.sandbox.worker.portable"): "the worker's start without memfd, prctl or "
                                                                          "fork, loaded only in that mode",
    ("grader.student.checker", "grader.selfcheck"): "imported once the packages it needs are known to be installed",
    ("grader.student.cli", "grader.selfcheck"): "imported once the packages it needs are known to be installed",
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in GRADER.rglob("*.py") if "__pycache__" not in p.parts}


def _imports(path: Path, module: str):
    """(imported module, at module level?) for every import statement of ``path``."""
    tree = ast.parse(path.read_text())
    is_pkg = path.name == "__init__.py"
    top = set(map(id, tree.body))
    for node in tree.body:  # a package's lazy names (PEP 562 ``__getattr__``, ``if TYPE_CHECKING:``) count as
        lazy = (is_pkg and isinstance(node, ast.FunctionDef) and node.name == "__getattr__"  # its module-level
                or isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")   # imports
        if lazy:
            top |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # ``from pkg import mod`` imports the module ``pkg.mod``; ``from mod import name``, ``mod``
            names = [f"{prefix}.{a.name}" for a in node.names]
            names = [n if _is_module(n) else prefix for n in names]
        else:
            continue
        for n in names:
            yield n, id(node) in top


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (ROOT / rel).with_suffix(".py").exists() or (ROOT / rel / "__init__.py").exists()


def _internal(name: str, mods: dict[str, Path]) -> str | None:
    """The grader module ``name`` refers to (a module, or the package defining the imported name)."""
    while name:
        if name in mods:
            return name
        name = name.rpartition(".")[0]
    return None


@pytest.fixture(scope="module")
def graph():
    mods = _modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    deferred: dict[str, set[str]] = {m: set() for m in mods}
    external: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for name, top_level in _imports(p, m):
            target = _internal(name, mods)
            if target is None:
                if top_level:
                    external[m].add(name.split(".")[0])
                else:
                    deferred[m].add(name.split(".")[0])
                continue
            if target == m:
                continue
            (edges if top_level else deferred)[m].add(target)
    return mods, edges, deferred, external


def _closure(start: str, edges) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        for n in edges.get(m, ()):
            # importing a.b.c also runs the packages a and a.b
            for parent in _parents(n) + [n]:
                if parent not in seen and parent in edges:
                    seen.add(parent)
                    todo.append(parent)
    return seen


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def test_worker_imports_nothing_of_dlgrade(graph):
    mods, edges, deferred, external = graph
    worker = [m for m in mods if m.startswith("grader.sandbox.worker")]
    assert worker, "no worker module found"
    for m in worker:
        inside = {n for n in edges[m] | deferred[m] if n.split(".")[0] in ("grader", "reference")
                  and not n.startswith("grader.sandbox.worker")}
        assert not inside, f"{m} imports {sorted(inside)}: the worker runs inside the sandbox"
        assert "reference" not in external[m] and "grader" not in external[m], m


@pytest.mark.parametrize("root", ["grader.selfcheck", "grader.student", "grader.sandbox", "grader.judge"])
def test_untrusted_side_never_reaches_reference_or_authoring(graph, root):
    mods, edges, deferred, external = graph
    reach = {root} | _closure(root, edges)
    bad = sorted(m for m in reach if m.startswith("grader.authoring"))
    assert not bad, f"{root} reaches {bad}"
    for m in reach:
        assert "reference" not in external[m], f"{root} reaches {m}, which imports reference"
        for n in deferred[m]:
            assert not n.startswith(("grader.authoring", "reference")) or (m, n) in DEFERRED, \
                f"{root} reaches {m}, which imports {n} inside a function"


def test_student_package_imports_only_the_standard_library(graph):
    mods, edges, deferred, external = graph
    student = [m for m in mods if m.startswith("grader.student")]
    assert "grader.student.checker" in student
    for m in student:
        assert external[m] <= set(sys.stdlib_module_names) | {"__future__"}, (m, external[m])
        assert all(n.startswith("grader.student") for n in edges[m]), (m, edges[m])


def test_no_import_cycles(graph):
    mods, edges, _, _ = graph
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                cycle = stack[stack.index(n):] + [n]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(mods):
        if m not in state:
            visit(m)


def test_function_level_imports_are_justified(graph):
    mods, edges, deferred, external = graph
    found = {(m, n) for m, ns in deferred.items() for n in ns if n.split(".")[0] in ("grader", "reference")
             and not (m.startswith("grader.authoring") and n.split(".")[0] == "reference")}  # authoring may
    unexplained = sorted(found - set(DEFERRED))
    assert not unexplained, f"function-level imports without a reason in DEFERRED: {unexplained}"

"""Extraction by dependency slicing: the part of a notebook the graded functions need.

Every import, ``def`` and ``class`` is kept. Every other top-level statement is
kept when it **binds or mutates a name that the graded code reads as a global**
(assignment, augmented assignment, subscript or attribute store, a method call
on that name, ``del``, a call of a function that assigns the name with
``global``), closed transitively: a kept statement's own global reads pull in
what binds them. Everything else (training runs, plots, prints, downloads) is
dropped. Kept statements run in notebook order. IPython magics and shell lines
are removed; a cell that does not parse is reported and skipped. Nothing here
runs student code: it is :mod:`ast` and :mod:`symtable` only.

Rules for the ambiguous cases (see the README, "How extraction works"):

* **Which binding counts.** A global read by code at position *p* (a function
  defined at *p*, or a top-level statement at *p*) is the last binding of that
  name before *p*, plus the mutations between that binding and *p*, as when
  the student ran the notebook top to bottom and tried the function right
  after writing it. If nothing binds the name before *p*, the last binding
  anywhere counts (helpers defined below the function that uses them). The
  graded functions themselves are read after the whole notebook: their last
  definition counts.
* **One namespace.** When two kept pieces of code need different bindings of
  the same name, both are kept and notebook order decides.
* **Method calls** on a name count as mutations, except calls known not to
  mutate (``.sum()``, ``.reshape()``, ...); on a module (``np``, ``torch``)
  only state setters count (``np.random.seed``, ``torch.manual_seed``,
  ``torch.set_default_dtype``, ...). A call of an in-place function
  (``nn.init.normal_(w)``, ``np.random.shuffle(x)``) mutates its arguments.
* **exec, eval, globals(), vars(), setattr:** effects the grader cannot trace.
  A top-level statement that uses them is kept, and a graded function that uses
  them also gets every constant assignment of the notebook; a warning says so.
"""
from __future__ import annotations

import ast
import builtins
import re
import symtable
from bisect import bisect_left
from dataclasses import dataclass, field

from grader.pipeline.load import Submission

# calls allowed on the right-hand side of a "constant" assignment: what a graded
# function that reads globals dynamically (globals(), eval) is given as a fallback
SAFE_CALLS = {
    "np.array", "np.asarray", "np.eye", "np.identity", "np.zeros", "np.ones", "np.full", "np.arange",
    "np.linspace", "np.logspace", "np.diag", "np.sqrt", "np.exp", "np.log", "np.float64", "np.float32",
    "np.int64", "np.concatenate", "np.stack", "np.vstack", "np.hstack", "np.kron", "np.outer",
    "numpy.array", "numpy.asarray", "numpy.eye", "numpy.zeros", "numpy.ones", "numpy.arange", "numpy.linspace",
    "torch.tensor", "torch.eye", "torch.zeros", "torch.ones", "torch.device", "torch.float32", "torch.float64",
    "float", "int", "complex", "bool", "str", "tuple", "list", "dict", "set", "frozenset", "range", "len",
    "abs", "min", "max", "round", "sum", "math.sqrt", "math.exp", "math.log", "math.pi", "np.pi",
}
# cell magics whose body is Python (kept without the magic line)
PYTHON_CELL_MAGICS = {"capture", "time", "timeit", "prun", "debug"}
# methods that do not change their object: calling them does not make a statement a mutation
NON_MUTATING = frozenset("""
    sum mean std var max min prod cumsum cumprod argmax argmin argsort all any round clip dot matmul
    copy clone detach cpu numpy tolist item astype reshape view flatten ravel squeeze unsqueeze transpose
    permute expand repeat norm size dim count index get keys values items format startswith endswith
    split join strip lower upper replace find conj real imag nonzero diagonal trace to double float int
    long half type sort_values head tail describe
    """.split())
# on a module (np, torch, random, ...) only calls like these change state
MODULE_STATE = re.compile(r"(^|_)(seed|manual_seed)$|^manual_seed|^set_|^use_|^seterr$|^default_rng$")
# functions that change their arguments in place
IN_PLACE = re.compile(r"^(?!__)\w+_$|^(shuffle|fill_diagonal|copyto|put|place|putmask)$")
DYNAMIC = frozenset({"exec", "eval", "globals", "vars", "locals", "setattr", "delattr", "__import__"})
# names a notebook may use without binding them (IPython's)
IPYTHON_NAMES = frozenset({"display", "get_ipython", "In", "Out", "exit", "quit", "__name__", "__file__",
                           "__builtins__", "__doc__"})
_END = float("inf")
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
    """``import``, ``def``, ``class``, ``try-import``, ``assign`` or ``code`` (any other kept statement)."""
    names: tuple[str, ...]
    """Top-level names it binds or mutates."""
    line: int = 1
    """The line of its cell where the statement starts (tracebacks name the cell's lines)."""
    sid: int = 0
    """Its position among the submission's top-level statements (kept or not)."""

    def brief(self, width: int = 60) -> str:
        """The statement's first line, shortened: ``data = load()``."""
        return _brief(self.source, width)


@dataclass(frozen=True)
class Extraction:
    statements: tuple[Statement, ...]
    warnings: tuple[str, ...]
    needs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """graded name -> the ``sid`` of every kept statement it depends on (itself included)."""
    reads: dict[str, frozenset[str]] = field(default_factory=dict)
    """graded name -> every global name its code reads, transitively."""
    unbound: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """graded name -> global names its code reads that nothing in the notebook binds."""
    dropped: int = 0
    """How many top-level statements were left out (they bind nothing the graded code needs)."""
    layout: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """cell label -> the ``sid`` of each of its top-level statements, in order (kept or not): full mode maps
    "statement k of cell 7 raised" back to a statement."""

    def defined(self) -> set[str]:
        return {n for s in self.statements for n in s.names}

    def to_plain(self) -> list[dict]:
        return [{"label": s.label, "source": s.source, "kind": s.kind, "line": s.line, "id": s.sid}
                for s in self.statements]

    def by_sid(self) -> dict[int, Statement]:
        return {s.sid: s for s in self.statements}


@dataclass
class _Unit:
    """One top-level statement and what it reads, binds and mutates."""

    pos: int
    label: str
    node: ast.stmt
    source: str
    line: int
    kind: str
    binds: set[str]
    reads: set[str]
    mutates: set[str] = field(default_factory=set)
    global_writes: set[str] = field(default_factory=set)
    method_roots: list[tuple[str, str]] = field(default_factory=list)
    """(name, method) of every method call on a name: a mutation unless the name is a module or the method pure."""


def extract(sub: Submission, roots=None, *, aliases: dict | None = None, known=(),
            history: bool = False) -> Extraction:
    """The slice of ``sub`` that the names ``roots`` need, in notebook order, plus warnings.

    ``roots``: the submission's names the grader will call or read (default:
    every function and class). ``aliases`` maps a root to other names the
    grader also accepts for it; ``known`` are names bound before the
    submission runs (the skeleton's provided code), never reported as missing.
    ``history``: the cells are a live kernel's inputs in execution order (the
    student self-check), where running a cell again redefines its names and a
    cell that did not parse defined nothing: neither is worth a warning there.
    """
    warnings: list[str] = []
    units = _units(sub, warnings, history)
    layout: dict[str, list[int]] = {}
    for u in units:
        layout.setdefault(u.label, []).append(u.pos)
    _resolve_effects(units)
    binders: dict[str, list[int]] = {}
    mutators: dict[str, list[int]] = {}
    for u in units:
        for n in u.binds:
            binders.setdefault(n, []).append(u.pos)
        for n in u.mutates - u.binds:
            mutators.setdefault(n, []).append(u.pos)
    if roots is None:
        roots = [n for u in units if u.kind in ("def", "class") for n in u.binds]
    aliases = aliases or {}
    known = set(known) | set(dir(builtins)) | IPYTHON_NAMES
    memo: dict[tuple[str, float], list[int] | None] = {}
    dynamic = DYNAMIC - binders.keys()  # exec, globals(), ... unless the notebook rebinds them

    def resolve(name: str, cutoff: float):
        k = (name, cutoff)
        if k not in memo:
            bs = binders.get(name)
            if not bs:
                memo[k] = None
            else:
                i = bisect_left(bs, cutoff)
                last, end = (bs[i - 1], cutoff) if i > 0 else (bs[-1], _END)
                ms = mutators.get(name, [])
                memo[k] = [last] + ms[bisect_left(ms, last + 1): bisect_left(ms, end)]
        return memo[k]

    def close(start: list[tuple[str, float]]):
        seen_units: set[int] = set()
        seen: set[tuple[str, float]] = set()
        read: set[str] = set()
        missing: set[str] = set()
        todo = list(start)
        while todo:
            name, cutoff = todo.pop()
            if (name, cutoff) in seen:
                continue
            seen.add((name, cutoff))
            read.add(name)
            chosen = resolve(name, cutoff)
            if chosen is None:
                if name not in known:
                    missing.add(name)
                continue
            for p in chosen:
                if p in seen_units:
                    continue
                seen_units.add(p)
                todo.extend((r, p) for r in units[p].reads)
        return seen_units, read, missing

    kept: set[int] = {u.pos for u in units if u.kind in ("import", "try-import", "def", "class")}
    needs, reads, unbound = {}, {}, {}
    dynamic_users: list[str] = []
    for root in dict.fromkeys(roots):
        name = next((c for c in [root, *aliases.get(root, [])] if c in binders), None)
        if name is None:
            continue
        got, read, missing = close([(name, _END)])
        kept |= got
        needs[root] = tuple(sorted(got))
        reads[root] = frozenset(read)
        if missing:
            unbound[root] = tuple(sorted(missing))
        if read & dynamic:
            dynamic_users.append(root)
    for u in units:  # exec / globals() at top level: effects we cannot trace, keep the statement
        if u.kind not in ("import", "try-import", "def", "class") and u.reads & dynamic:
            got, _, _ = close([(r, u.pos) for r in u.reads])
            kept |= got | {u.pos}
            warnings.append(f"{u.label}: `{_brief(u.source)}` is kept because it uses "
                            f"{', '.join(sorted(u.reads & DYNAMIC))}, whose effects the grader cannot trace")
    if dynamic_users:
        consts = {u.pos for u in units if u.kind == "assign" and _is_constant(u.node)}
        kept |= consts
        warnings.append(f"{', '.join(f'`{r}`' for r in dynamic_users)} use globals()/eval/exec: every constant "
                        "assignment of the notebook is kept for them, other top-level statements may be missing")
    statements = tuple(Statement(u.label, u.source, u.kind, tuple(sorted(u.binds | u.mutates)), u.line, u.pos)
                       for u in units if u.pos in kept)
    if not history:
        _redefinitions(units, warnings)
    return Extraction(statements, tuple(warnings), needs, reads, unbound, len(units) - len(statements),
                      {k: tuple(v) for k, v in layout.items()})


def execution_cells(sub: Submission) -> list[dict]:
    """Every code cell of ``sub`` in order, as full mode runs it: ``label``, ``source``, ``index``, ``origin``.

    IPython-only syntax is removed as for slicing (magics and ``!shell`` lines become blank lines, so line
    numbers hold; a ``%%bash``-style cell becomes empty and its ``note`` says so). Runs nothing.
    """
    out = []
    for cell in sub.code_cells():
        src, note = strip_ipython(cell.source)
        out.append({"label": cell_label(sub, cell), "source": src, "index": cell.index, "origin": cell.origin,
                    "note": note})
    return out


def bound_names(source: str) -> set[str]:
    """Every top-level name a piece of (trusted) code binds: what the provided code makes available."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    return {n for node in tree.body for n in _symbols(node, ast.unparse(node), _flat(node))[0]}


def _units(sub: Submission, warnings: list[str], history: bool = False) -> list[_Unit]:
    units: list[_Unit] = []
    for cell in sub.code_cells():
        label = cell_label(sub, cell)
        src, note = strip_ipython(cell.source)
        if note:
            warnings.append(f"{label}: {note}")
        if not src.strip():
            continue
        try:
            tree = ast.parse(src)
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            if history:
                continue
            if isinstance(exc, SyntaxError):
                line = (exc.text or "").strip()
                why = f"syntax error on line {exc.lineno}: {exc.msg}" + (f" (`{line[:60]}`)" if line else "")
            else:
                why = f"the cell cannot be parsed ({type(exc).__name__})"
            warnings.append(f"{label}: {why}; the definitions in this cell are missing")
            continue
        lines = src.splitlines(keepends=True)
        for node in tree.body:
            if _skipped_import(node):
                continue
            start, text = _segment(lines, node)
            units.append(_analyse(len(units), label, node, text, start))
    return units


def _segment(lines: list[str], node: ast.stmt) -> tuple[int, str]:
    """(first line, source) of a top-level statement: only its own text on lines shared with ``;``."""
    decorated = bool(getattr(node, "decorator_list", None))  # starts with `@` at column 0
    start, col = (node.decorator_list[0].lineno, 0) if decorated else (node.lineno, node.col_offset)
    end, end_col = node.end_lineno, node.end_col_offset
    if start == end:
        return start, lines[start - 1].encode()[col:end_col].decode(errors="replace") + "\n"
    body = [lines[start - 1].encode()[col:].decode(errors="replace"), *lines[start: end - 1],
            lines[end - 1].encode()[:end_col].decode(errors="replace") + "\n"]
    return start, "".join(body)


def _analyse(pos: int, label: str, node: ast.stmt, text: str, line: int) -> _Unit:
    kind = _kind(node)
    nodes = _flat(node)
    binds, reads, global_writes = _symbols(node, text, nodes)
    u = _Unit(pos, label, node, text, line, kind, binds, reads, global_writes=global_writes)
    if kind not in ("def", "class", "import", "try-import"):
        _mutations(nodes if nodes is not None else _walk_top(node), u)
    return u


def _flat(node) -> list | None:
    """All nodes of a simple statement without nested scopes (most constants), or None."""
    if not isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Delete)):
        return None
    nodes = list(ast.walk(node))
    return None if any(isinstance(n, _SCOPES + (ast.NamedExpr,)) for n in nodes) else nodes


def _kind(node) -> str:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return "import"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return "def"
    if isinstance(node, ast.ClassDef):
        return "class"
    if isinstance(node, ast.Try) and all(isinstance(n, (ast.Import, ast.ImportFrom, ast.Pass)) for n in node.body):
        return "try-import"
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        return "assign"
    return "code"


def _symbols(node: ast.stmt, text: str, nodes: list | None = None) -> tuple[set[str], set[str], set[str]]:
    """(names bound at top level, global names read anywhere in it, names assigned through ``global``).

    ``nodes``: the statement's nodes when it has no nested scope (:func:`_flat`): read directly, no symtable.
    """
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}, set(), set()
    if nodes is not None:
        binds, reads = set(), set()
        for n in nodes:
            if isinstance(n, ast.Name):
                (binds if isinstance(n.ctx, (ast.Store, ast.Del)) else reads).add(n.id)
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            reads.add(node.target.id)
        return binds, reads, set()
    try:
        table = symtable.symtable(text, "cell", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return _symbols_by_ast(node)
    binds, reads, gw = set(), set(), set()
    for s in table.get_symbols():
        if s.is_assigned() or s.is_imported():
            binds.add(s.get_name())
        if s.is_referenced():
            reads.add(s.get_name())
    todo = list(table.get_children())
    while todo:
        t = todo.pop()
        for s in t.get_symbols():
            if s.is_global() and s.is_referenced():
                reads.add(s.get_name())
            if s.is_declared_global() and s.is_assigned():
                gw.add(s.get_name())
        todo.extend(t.get_children())
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        reads.add(node.target.id)
    if isinstance(node, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
        # `for k in K: table[k] = ...`: k is the statement's own, not an earlier binding's
        own = {n.id for t in _targets(node) for n in ast.walk(t) if isinstance(n, ast.Name)}
        outer = {n.id for e in _heads(node) for n in ast.walk(e) if isinstance(n, ast.Name)}
        reads -= own - outer
    return binds, reads, gw


def _targets(node):
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [node.target]
    return [i.optional_vars for i in node.items if i.optional_vars is not None]


def _heads(node):
    """The expressions a loop or ``with`` evaluates before binding its targets."""
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [node.iter]
    return [i.context_expr for i in node.items]


def _symbols_by_ast(node) -> tuple[set[str], set[str], set[str]]:
    """A coarse fallback when :mod:`symtable` cannot read the statement: every name seen."""
    binds, reads = set(), set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            (binds if isinstance(sub.ctx, (ast.Store, ast.Del)) else reads).add(sub.id)
        elif isinstance(sub, ast.alias):
            binds.add((sub.asname or sub.name).split(".")[0])
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and sub is node:
            binds.add(sub.name)
    return binds, reads, set()


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)


def _walk_top(node):
    """The nodes of a statement that run at top level (not inside nested functions, lambdas, comprehensions)."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        for child in ast.iter_child_nodes(n):
            if not isinstance(child, _SCOPES):
                todo.append(child)


def _root(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _mutations(nodes, u: _Unit) -> None:
    for n in nodes:
        if isinstance(n, (ast.Attribute, ast.Subscript)) and isinstance(n.ctx, (ast.Store, ast.Del)):
            r = _root(n.value)
            if r:
                u.mutates.add(r)
        elif isinstance(n, ast.Call):
            f = n.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if isinstance(f, ast.Attribute):
                r = _root(f.value)
                if r:
                    u.method_roots.append((r, f.attr))
            if name and IN_PLACE.match(name):
                for a in n.args:
                    r = _root(a)
                    if r:
                        u.mutates.add(r)


def _resolve_effects(units: list[_Unit]) -> None:
    """Method calls become mutations now that modules are known; ``global`` writes reach their callers."""
    bound_by: dict[str, set[str]] = {}
    for u in units:
        for n in u.binds:
            bound_by.setdefault(n, set()).add(u.kind)
    modules = {n for n, kinds in bound_by.items() if kinds <= {"import", "try-import"}}
    for u in units:
        for r, method in u.method_roots:
            if r in modules:  # a seed set on its own line, not one inside a loop of experiments
                if MODULE_STATE.search(method) and isinstance(u.node, (ast.Expr, ast.Assign)):
                    u.mutates.add(r)
            elif method not in NON_MUTATING:
                u.mutates.add(r)
    writes: dict[str, set[str]] = {}
    for u in units:
        if u.kind == "def" and u.global_writes:
            writes.setdefault(u.node.name, set()).update(u.global_writes)
    if not writes:
        return
    calls = {u.node.name: u.reads for u in units if u.kind == "def"}
    changed = True
    while changed:  # f calls g, g assigns a global: f assigns it too
        changed = False
        for f, rs in calls.items():
            extra = set().union(*(writes.get(g, set()) for g in rs)) - writes.get(f, set())
            if extra:
                writes.setdefault(f, set()).update(extra)
                changed = True
    for u in units:
        if u.kind != "def":
            for r in u.reads & writes.keys():
                u.binds |= writes[r]


def _redefinitions(units: list[_Unit], warnings: list[str]) -> None:
    defined_at: dict[str, str] = {}
    for u in units:
        if u.kind in ("def", "class"):
            name = u.node.name
            if name in defined_at and defined_at[name] != u.label:
                warnings.append(f"{u.label}: `{name}` is defined again (first in {defined_at[name]}); "
                                "the later definition is the one graded")
            defined_at[name] = u.label


def _brief(source: str, width: int = 60) -> str:
    first = source.strip().splitlines()[0] if source.strip() else ""
    return first if len(first) <= width else first[: width - 3] + "..."


def cell_label(sub: Submission, cell) -> str:
    """``cell 7``; ``part2.ipynb cell 7`` for a folder of notebooks; the file name for a module."""
    if cell.origin and cell.origin.endswith(".py"):
        return cell.origin
    if sub.kind != "notebook" and not cell.origin:
        return sub.path.name
    return f"{cell.origin} cell {cell.index + 1}" if cell.origin else f"cell {cell.index + 1}"


_MAGIC_ASSIGNMENT = re.compile(r"^[\w.]+\s*=\s*[!%]")  # files = !ls, t = %timeit ...
_HELP = re.compile(r"^[\w.]+\?\??$")  # np.linspace?, f??


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
    if not any(c in source for c in "%!?"):  # nothing IPython-only can be in it (most cells)
        return "\n".join(lines), None
    out = []
    for ln in lines:
        s = ln.lstrip()
        if s.startswith(("%", "!", "?")) or _MAGIC_ASSIGNMENT.match(s) or _HELP.match(s):
            out.append("")  # keep the line count
        else:
            out.append(ln)
    return "\n".join(out), None


def _skipped_import(node) -> bool:
    """``import dlgrade_check`` (or a ``try`` of such imports only): never run in grading."""
    if isinstance(node, ast.Try) and _kind(node) == "try-import":
        imports = [n for n in node.body if not isinstance(n, ast.Pass)]
        return bool(imports) and all(_skipped_import(n) for n in imports)
    if not isinstance(node, (ast.Import, ast.ImportFrom)) or (isinstance(node, ast.ImportFrom) and node.level):
        return False
    mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    return bool(mods) and all(any(m == s or m.startswith(s + ".") for s in SKIPPED_IMPORTS) for m in mods)


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

"""Answer keys: expected values from the reference, and the outputs of known mutants.

Both run in the trusted process through the same case interpreter the sandbox
uses (``grader.sandbox.worker.run_case``), so a reference function and a
student function receive identical inputs. Keys are cached per rubric version
(a hash of the rubric file, the reference and mistakes sources and the worker)
under ``$DLGRADE_CACHE`` (default ``~/.cache/dlgrade``); they never leave the
TA's machine.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import re
import textwrap
import types
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from grader.rubric import Check, Rubric
from grader.sandbox import worker
from grader.values import Events, Opaque, encode_inputs, from_plain, materialise

CaseKey = tuple  # (item id, check name, case index)


def cache_dir() -> Path:
    return Path(os.environ.get("DLGRADE_CACHE", Path.home() / ".cache" / "dlgrade"))


@dataclass(frozen=True)
class Outcome:
    """A trusted run of one case: its value, or the error it raised."""

    value: object = None
    error: str | None = None


def reference_namespace(rubric: Rubric) -> dict:
    """The reference module's globals (several modules: merged in order)."""
    mods = rubric.reference_modules
    if len(mods) == 1:
        return vars(importlib.import_module(mods[0]))
    ns: dict = {}
    for m in mods:
        ns.update(vars(importlib.import_module(m)))
    return ns


def reference_source(rubric: Rubric) -> str:
    """The reference's source as one module (several modules concatenated in order)."""
    return _reference_source(tuple(rubric.reference_modules))


@lru_cache(maxsize=32)
def _reference_source(modules: tuple[str, ...]) -> str:
    sources = [inspect.getsource(importlib.import_module(m)) for m in modules]
    if len(sources) == 1:
        return sources[0]
    future = "from __future__ import annotations\n"
    body = [re.sub(r"^from __future__ import [^\n]*\n", "", src, flags=re.M) for src in sources]
    head = future if any(future in src for src in sources) else ""
    return head + "\n\n".join(f"# ---- {m}\n{b}" for m, b in zip(modules, body))


def case_inputs(check: Check, case_index: int, ns: dict, seed_offset: int = 0):
    """The case's steps with data materialised and arrays moved out: (steps, arrays)."""
    case = check.normalised_cases()[case_index]
    arrays: dict[str, np.ndarray] = {}
    try:
        steps = encode_inputs(materialise(case["steps"], ns, seed_offset), arrays)
    except (LookupError, ValueError, TypeError) as exc:
        from grader.rubric import RubricError

        raise RubricError(f"check {check.name!r}, case {case_index}: the inputs cannot be made: {exc}; "
                          "fix the rubric and run `dlgrade validate`") from None
    return {"steps": steps, "returns": case["returns"]}, arrays


def case_signature(case: dict, arrays: dict) -> str:
    """Identity of a call (steps, returns and the bytes of its input arrays): equal calls run once."""
    import hashlib

    h = hashlib.sha256(json.dumps(case, sort_keys=True, default=str).encode())
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def run_trusted(ns: dict, case: dict, arrays: dict, aliases: dict, workdir: str) -> Outcome:
    """Run one case on a trusted namespace (reference or mutant) and normalise its value."""
    ctx = {"namespace": ns, "aliases": aliases, "arrays": arrays, "workdir": workdir}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # a mutant's overflow is expected, not news for the TA
            value = worker.run_case(case, ctx)
        out_arrays: dict = {}
        plain = worker.to_plain(value, out_arrays)
        return Outcome(from_plain(json.loads(json.dumps(plain, allow_nan=True)), out_arrays))
    except Exception as exc:  # noqa: BLE001 - a mutant may legitimately raise
        return Outcome(error=f"{type(exc).__name__}: {exc}")


def data_dir() -> Path:
    import reference

    return Path(reference.__file__).resolve().parent / "data"


def _checks(rubric: Rubric, full: bool):
    for item in rubric.items:
        for check in item.checks:
            if check.full and not full:
                continue
            yield item, check


def compute_key(rubric: Rubric, ns: dict, *, full: bool = False, items: set[str] | None = None) -> dict:
    """Run every (selected) case on ``ns``: {(item, check, case): Outcome}."""
    key, done = {}, {}
    workdir = str(data_dir())
    for item, check in _checks(rubric, full):
        if items is not None and item.id not in items:
            continue
        for i in range(len(check.cases)):
            case, arrays = case_inputs(check, i, reference_namespace(rubric))
            sig = case_signature(case, arrays)
            if sig not in done:  # several checks may judge the same call differently
                done[sig] = run_trusted(ns, case, arrays, rubric.aliases, workdir)
            key[(item.id, check.name, i)] = done[sig]
    return key


def answer_key(rubric: Rubric, *, full: bool = False, items: list[str] | None = None) -> dict:
    """The reference's outcome for every case of ``items`` (default all), cached per rubric version and item."""
    key = {}
    for item in rubric.items:
        if item.checks and (items is None or item.id in items):
            key.update(_item_key_cached(rubric.path, rubric.fingerprint(), item.id, full))
    return key


@lru_cache(maxsize=256)
def _item_key_cached(path, fingerprint: str, item_id: str, full: bool) -> dict:
    from grader.rubric import load_rubric_cached as load_rubric

    rubric = load_rubric(path)
    stem = cache_dir() / "keys" / f"{rubric.assignment}-{fingerprint}" / f"{item_id}{'-full' if full else ''}"
    cached = _load_key(stem)
    if cached is not None:
        return cached
    key = compute_key(rubric, reference_namespace(rubric), full=full, items={item_id})
    _save_key(stem, key)
    return key


def _save_key(stem: Path, key: dict):
    stem.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict = {}
    entries = []
    for (item, check, i), out in key.items():
        plain = _to_cache(out.value, arrays) if out.error is None else None
        entries.append({"item": item, "check": check, "case": i, "value": plain, "error": out.error})
    tmp = _p(stem, ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, _p(stem, ".npz"))
    _p(stem, ".json").write_text(json.dumps(entries, allow_nan=True))


def _p(stem: Path, suffix: str) -> Path:
    return stem.parent / (stem.name + suffix)


def _to_cache(value, arrays):
    """``worker.to_plain`` for already-decoded values (Events and Opaque kept as markers)."""
    if isinstance(value, Events):
        return {"__events__": [dict(e) for e in value.events]}
    if isinstance(value, Opaque):
        return {"__object__": value.type, "repr": value.repr}
    if isinstance(value, list):
        return [_to_cache(v, arrays) for v in value]
    if isinstance(value, dict):
        return {k: _to_cache(v, arrays) for k, v in value.items()}
    return worker.to_plain(value, arrays)


def _load_key(stem: Path):
    try:
        entries = json.loads(_p(stem, ".json").read_text())
        with np.load(_p(stem, ".npz"), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError):
        return None
    return {(e["item"], e["check"], e["case"]): Outcome(from_plain(e["value"], arrays) if e["error"] is None else None,
                                                        e["error"]) for e in entries}


# ----------------------------------------------------------------------------
# mutants


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


@lru_cache(maxsize=256)
def _mutant_ns(reference: str, name: str, source: str) -> dict:
    mod = types.ModuleType(f"{reference}__mutant__{name}")
    mod.__file__ = importlib.import_module(reference).__file__
    exec(compile(source, f"<mutant {name}>", "exec"), mod.__dict__)  # noqa: S102 - our own trusted code
    return mod.__dict__


def mutant_key(rubric: Rubric, m, *, full: bool = False) -> dict:
    """Outcomes of the mutant ``m`` on the cases of its own item."""
    return _mutant_key_cached(rubric.path, rubric.fingerprint(), m.name, full)


@lru_cache(maxsize=512)
def _mutant_key_cached(path, fingerprint, name, full):
    from grader.rubric import load_rubric_cached as load_rubric

    rubric = load_rubric(path)
    m = next(x for x in mistakes_of(rubric) if x.name == name)
    stem = cache_dir() / "keys" / f"{rubric.assignment}-{fingerprint}" / f"mutant-{name}{'-full' if full else ''}"
    cached = _load_key(stem)
    if cached is not None:
        return cached
    ns = _mutant_ns(rubric.reference_modules[0], m.name, mutated_source(rubric, m))
    key = compute_key(rubric, ns, full=full, items={m.item})
    _save_key(stem, key)
    return key

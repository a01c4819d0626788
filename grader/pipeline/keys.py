"""Answer keys: what a correct (and each known wrong) answer returns on the rubric's calls.

A :class:`KeyProvider` gives the scorer three things for the selected items:
the expected outcome of every case, the outcomes of the known mutants, and the
mutants' feedback sentences.

:class:`ReferenceKeys` (the TA's side) computes them by running the reference
(and each mutant) in the trusted process through the *same* case interpreter
the sandbox uses, and caches them per key version under ``$DLGRADE_CACHE``
(default ``~/.cache/dlgrade``); they never leave the TA's machine.
:class:`FrozenKeys` (the student's bundle) reads them from a release bundle,
which holds public items only.

Besides :mod:`grader.authoring`, this is the only module that imports the
reference.
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.metadata
import json
import os
import platform
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from grader import sandbox
from grader.pipeline import plan as plan_mod
from grader.locations import data_dir
from grader.rubric import Rubric, RubricError, bands_path, load_rubric_cached
from grader.sandbox import worker
from grader.sandbox.worker import wire
from grader.values import Events, Opaque, from_plain

CaseKey = tuple  # (item id, check name, case index)
KEY_FORMAT = 3  # 3: values in the tagged wire form


def cache_dir() -> Path:
    return Path(os.environ.get("DLGRADE_CACHE", Path.home() / ".cache" / "dlgrade"))


def clear_cache(assignment: str | None = None) -> int:
    """Remove cached answer keys (of one assignment, or all); returns how many key sets went."""
    root = cache_dir() / "keys"
    if not root.is_dir():
        return 0
    n = 0
    for d in root.iterdir():
        if assignment is None or d.name.rsplit("-", 1)[0] == assignment:
            shutil.rmtree(d, ignore_errors=True)
            n += 1
    return n


@dataclass(frozen=True)
class Outcome:
    """A trusted run of one case: its value, or the error it raised."""

    value: object = None
    error: str | None = None


class KeyProvider(Protocol):
    """What the scorer needs to judge a submission; see the module docstring."""

    key_version: str

    def expected(self, items: list[str]) -> dict[CaseKey, Outcome]: ...

    def mutants(self, items: list[str]) -> dict[str, dict[CaseKey, Outcome]]: ...

    def feedback(self, items: list[str]) -> dict[str, dict[str, str]]: ...

    # optional, for follow-through credit (``ReferenceKeys`` only; a bundle has no reference, so it gives none):
    # ``upstream_reference(check, case_index, name) -> Outcome`` and ``follow_through(check, case_index, given)
    # -> Outcome`` (see :func:`grader.pipeline.score.follow_through_credit`)


# ----------------------------------------------------------------------------
# the key version: everything trusted that a key depends on


_TRUSTED_MODULES = ("grader.values", "grader.pipeline.plan", "grader.pipeline.keys")
_VERSIONED = ("numpy", "scipy", "torch")


def key_version(rubric: Rubric) -> str:
    """Hash of the whole trusted closure that computes ``rubric``'s keys.

    The rubric file and its bands, every file of the reference package(s)
    (sources, mistakes and data files), the case interpreter and wire format the
    sandbox runs (the worker), the trusted value modules, and the versions of
    Python, numpy, scipy and torch. Memoised on the (frozen) rubric.
    """
    if rubric._fp is None:
        h = hashlib.sha256(f"key format {KEY_FORMAT}\n".encode())
        if rubric.path:
            h.update(rubric.path.read_bytes())
            if bands_path(rubric.path).exists():
                h.update(bands_path(rubric.path).read_bytes())
        else:
            h.update(rubric.model_dump_json().encode())
        for pkg in sorted({m.split(".")[0] for m in rubric.reference_modules + rubric.mistakes_modules}):
            h.update(_tree_digest(Path(importlib.import_module(pkg).__file__).parent).encode())
        h.update(sandbox.worker_fingerprint().encode())
        for mod in _TRUSTED_MODULES:
            h.update(Path(importlib.import_module(mod).__file__).read_bytes())
        h.update(_versions().encode())
        rubric._fp = h.hexdigest()[:16]
    return rubric._fp


@lru_cache(maxsize=8)
def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc"):
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=1)
def _versions() -> str:
    out = [f"python {platform.python_version()}"]
    for name in _VERSIONED:
        try:
            out.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{name} -")
    return ", ".join(out)


# ----------------------------------------------------------------------------
# the reference


def reference_namespace(rubric: Rubric) -> dict:
    """The reference module's globals (several modules: merged in order)."""
    mods = rubric.reference_modules
    if len(mods) == 1:
        return vars(importlib.import_module(mods[0]))
    ns: dict = {}
    for m in mods:
        ns.update(vars(importlib.import_module(m)))
    return ns


def run_trusted(ns: dict, case: dict, arrays: dict, aliases: dict, workdir: str) -> Outcome:
    """Run one case on a trusted namespace (reference or mutant) and normalise its value."""
    ctx = {"namespace": ns, "aliases": aliases, "arrays": arrays, "workdir": workdir}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # a mutant's overflow is expected, not news for the TA
            value = worker.run_case(case, ctx)
        out_arrays: dict = {}
        plain = wire.encode(value, out_arrays)
        return Outcome(from_plain(json.loads(json.dumps(plain, allow_nan=True)), out_arrays))
    except Exception as exc:  # noqa: BLE001 - a mutant may legitimately raise
        return Outcome(error=f"{type(exc).__name__}: {exc}")


def compute_key(rubric: Rubric, ns: dict, *, full: bool = False, items: set[str] | None = None) -> dict:
    """Run every (selected) case on ``ns``: {(item, check, case): Outcome}."""
    key, done = {}, {}
    workdir = str(data_dir())
    ref_ns = reference_namespace(rubric)
    for item in rubric.items:
        if items is not None and item.id not in items:
            continue
        for check in item.checks:
            if check.full and not full:
                continue
            for i in range(len(check.cases)):
                case, arrays = plan_mod.case_inputs(check, i, ref_ns)
                sig = plan_mod.case_signature(case, arrays)
                if sig not in done:  # several checks may judge the same call differently
                    done[sig] = run_trusted(ns, case, arrays, rubric.aliases, workdir)
                key[(item.id, check.name, i)] = done[sig]
    return key


def _authoring():
    """:mod:`grader.authoring`, imported when first used: the student's bundle ships without it."""
    import grader.authoring.mutants
    import grader.authoring.skeleton

    return grader.authoring


class ReferenceKeys:
    """Keys computed from the reference and the known mutants (cached per key version and item)."""

    def __init__(self, rubric: Rubric, *, full: bool = False):
        self.rubric = rubric
        self.full = full
        self.key_version = key_version(rubric)

    @property
    def namespace(self) -> dict:
        """The reference's globals, for data inputs made by reference functions (``{ref: ...}``)."""
        return reference_namespace(self.rubric)

    def provided(self) -> list[dict]:
        """The skeleton's provided code (imports, constants, given helpers), run before a submission."""
        return _authoring().skeleton.provided_code(self.rubric)

    def data_files(self) -> list[Path]:
        return [data_dir() / f for f in self.rubric.data_files]

    def expected(self, items: list[str]) -> dict[CaseKey, Outcome]:
        key: dict = {}
        for item in self.rubric.items:
            if item.checks and item.id in items:
                key.update(_item_key_cached(self.rubric.path, self.key_version, item.id, self.full))
        return key

    def _mistakes(self, items):
        return [m for m in _mistake_index(self.rubric.path, self.key_version) if m.item in items]

    def mutants(self, items: list[str]) -> dict[str, dict[CaseKey, Outcome]]:
        return {m.name: _mutant_key_cached(self.rubric.path, self.key_version, m.name, self.full)
                for m in self._mistakes(items)}

    def feedback(self, items: list[str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for m in self._mistakes(items):
            out.setdefault(m.item, {})[m.name] = m.feedback
        return out

    def signature(self, name: str) -> list[tuple[str, object]]:
        """``[(parameter, default)]`` of the reference's function ``name``, read from its source (nothing is
        imported); a parameter without a default has :data:`~grader.pipeline.plan.REQUIRED`."""
        return _signature(_authoring().mutants.reference_source(self.rubric), name)

    def upstream_reference(self, check, case_index: int, name: str) -> Outcome:
        """The reference's own value of a follow-through case's upstream call (its shape is the one to hold to)."""
        ns = reference_namespace(self.rubric)
        case, arrays = plan_mod.upstream_inputs(check, case_index, name, self.signature(check.function), ns)
        return run_trusted(ns, case, arrays, self.rubric.aliases, str(data_dir()))

    def follow_through(self, check, case_index: int, given: dict) -> Outcome:
        """The reference helper's outcome on a follow-through case fed with ``given`` (the student's upstream
        values, already checked), run like a key. Imports the reference: only a failing follow-through check
        of a submission whose upstream item failed comes here."""
        ns = reference_namespace(self.rubric)
        case, arrays = plan_mod.follow_through_inputs(check, case_index, given, ns)
        return run_trusted(ns, case, arrays, self.rubric.aliases, str(data_dir()))


@lru_cache(maxsize=64)
def _signature(source: str, name: str) -> list[tuple[str, object]]:
    fn = [n for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    if not fn:
        raise RubricError(f"follow_through: the reference defines no function `{name}`")
    a = fn[-1].args

    def default(node):
        try:
            return ast.literal_eval(node)
        except ValueError:
            return plan_mod.REQUIRED  # not a literal: a case must pass it

    positional = a.posonlyargs + a.args
    defaults = [plan_mod.REQUIRED] * (len(positional) - len(a.defaults)) + [default(d) for d in a.defaults]
    out = [(p.arg, d) for p, d in zip(positional, defaults)]
    out += [(p.arg, plan_mod.REQUIRED if d is None else default(d)) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    return out


def _stem(rubric: Rubric, version: str, name: str, full: bool) -> Path:
    return cache_dir() / "keys" / f"{rubric.assignment}-{version}" / f"{name}{'-full' if full else ''}"


@lru_cache(maxsize=256)
def _item_key_cached(path, version: str, item_id: str, full: bool) -> dict:
    rubric = load_rubric_cached(path)
    stem = _stem(rubric, version, item_id, full)
    cached = load_key(stem)
    if cached is not None:
        return cached
    key = compute_key(rubric, reference_namespace(rubric), full=full, items={item_id})
    save_key(stem, key)
    return key


@dataclass(frozen=True)
class MistakeInfo:
    """What grading needs of a known mistake (the mutant itself stays in ``reference.mistakes``)."""

    name: str
    item: str
    feedback: str


@lru_cache(maxsize=64)
def _mistake_index(path, version: str) -> tuple[MistakeInfo, ...]:
    """The rubric's known mistakes, cached beside its keys: grading a batch imports no reference code."""
    rubric = load_rubric_cached(path)
    cached = cache_dir() / "keys" / f"{rubric.assignment}-{version}" / "mistakes.json"
    try:
        data = json.loads(cached.read_text())
        if data.get("format") == KEY_FORMAT:
            return tuple(MistakeInfo(str(m["name"]), str(m["item"]), str(m["feedback"])) for m in data["mistakes"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    out = tuple(MistakeInfo(m.name, m.item, m.feedback) for m in _authoring().mutants.mistakes_of(rubric))
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cached.parent, prefix=".mistakes.", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump({"format": KEY_FORMAT, "mistakes": [vars(m) for m in out]}, f)
    os.replace(tmp, cached)
    return out


@lru_cache(maxsize=512)
def _mutant_key_cached(path, version: str, name: str, full: bool) -> dict:
    rubric = load_rubric_cached(path)
    stem = _stem(rubric, version, f"mutant-{name}", full)
    cached = load_key(stem)
    if cached is not None:
        return cached
    m = next(x for x in _authoring().mutants.mistakes_of(rubric) if x.name == name)
    key = compute_key(rubric, _authoring().mutants.mutant_namespace(rubric, m), full=full, items={m.item})
    save_key(stem, key)
    return key


# ----------------------------------------------------------------------------
# storing keys: one .npz per key set (arrays plus the JSON index), written atomically


def to_cache(value, arrays):
    """An already-decoded value in the wire form again (what :func:`from_plain` reads back)."""
    if isinstance(value, Events):
        return {wire.TAG: "events", "events": [dict(e) for e in value.events]}
    if isinstance(value, Opaque):
        return {wire.TAG: "object", "type": value.type, "repr": value.repr}
    if isinstance(value, list):
        return [to_cache(v, arrays) for v in value]
    if isinstance(value, dict):
        d = {str(k): to_cache(v, arrays) for k, v in value.items()}
        return {wire.TAG: "dict", "items": [[k, v] for k, v in d.items()]} if wire.TAG in d else d
    return wire.encode(value, arrays)


def save_key(stem: Path, key: dict):
    """Write a key set as ``<stem>.npz`` via a temporary file and an atomic rename."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict = {}
    entries = []
    for (item, check, i), out in key.items():
        plain = to_cache(out.value, arrays) if out.error is None else None
        entries.append({"item": item, "check": check, "case": i, "value": plain, "error": out.error})
    index = np.array(json.dumps({"format": KEY_FORMAT, "entries": entries}, allow_nan=True))
    fd, tmp = tempfile.mkstemp(dir=stem.parent, prefix=f".{stem.name}.", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, __index__=index, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, stem.parent / f"{stem.name}.npz")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_key(stem: Path):
    """The key set at ``stem``, or None when absent, unreadable or of another format."""
    try:
        with np.load(stem.parent / f"{stem.name}.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        index = json.loads(str(arrays.pop("__index__")))
    except (OSError, ValueError, KeyError):
        return None
    if not isinstance(index, dict) or index.get("format") != KEY_FORMAT:
        return None
    return {(e["item"], e["check"], e["case"]): Outcome(from_plain(e["value"], arrays) if e["error"] is None else None,
                                                        e["error"]) for e in index["entries"]}


# ----------------------------------------------------------------------------
# frozen keys (the student's bundle)


class FrozenKeys:
    """Keys read from a release bundle: public items only, frozen when the TA built it."""

    def __init__(self, key_version: str, expected: dict, mutants: dict, feedback: dict):
        self.key_version = key_version
        self._expected, self._mutants, self._feedback = expected, mutants, feedback

    def expected(self, items):
        return {k: v for k, v in self._expected.items() if k[0] in items}

    def mutants(self, items):
        return {n: {k: v for k, v in mk.items() if k[0] in items} for n, mk in self._mutants.items()}

    def feedback(self, items):
        return {i: f for i, f in self._feedback.items() if i in items}


def freeze(outcome: Outcome, arrays: dict) -> dict:
    """An outcome as bundle data (arrays moved into ``arrays``)."""
    if outcome.error is not None:
        return {"error": outcome.error}
    return {"value": to_cache(outcome.value, arrays)}


def thaw(frozen: dict, arrays: dict) -> Outcome:
    return Outcome(error=frozen["error"]) if "error" in frozen else Outcome(from_plain(frozen["value"], arrays))


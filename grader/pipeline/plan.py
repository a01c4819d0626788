"""Plan: every call a submission must answer, with its inputs materialised.

Inputs that are *data* (``array``, ``random``, ``ref``) are made here, in the
trusted grader, and travel to the sandbox as arrays; inputs that are *objects*
(``rng``, ``tensor``, ``sgd``, ``mse``, ``var``) are built on each side by the
shared case interpreter of the worker. A :class:`Plan` also carries everything
else grading one submission needs and that is the same for the whole class
(the selected items, aliases, limits, data files, the provided code), so the
one :func:`grader.pipeline.grade_submission` serves the TA's grader, the
student's bundle and ``dlgrade validate`` alike.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.model import Limits, Options
from grader.pipeline.extract import bound_names
from grader.rubric import Check, Item, Rubric, RubricError, load_rubric_cached
from grader.rubric.values import type_key
from grader.sandbox.worker.wire import TAG
from grader.values import select


@dataclass(frozen=True)
class Plan:
    """What grading a submission of one assignment needs, apart from the answer keys."""

    assignment: str
    rubric_version: int
    items: tuple[Item, ...]
    """The selected items, in rubric order."""
    full: bool = False
    calls: list[dict] = field(default_factory=list)
    arrays: dict = field(default_factory=dict)
    timeouts: dict[str, float] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    """call id -> its check (``item/check``): a timeout skips the rest of the group."""
    index: dict[tuple, str] = field(default_factory=dict)
    """(item id, check name, case index) -> call id."""
    aliases: dict[str, list[str]] = field(default_factory=dict)
    limits: Limits = Limits()
    data_files: tuple[Path, ...] = ()
    provided: tuple[dict, ...] = ()
    """The skeleton's provided code, run before the submission's own definitions."""
    uses: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """call id -> the submission's functions it calls directly (a timed-out one is not called again)."""
    provided_names: frozenset[str] = frozenset()
    """Names the provided code binds (a submission may use them without defining them)."""

    @property
    def roots(self) -> tuple[str, ...]:
        """The submission's names the plan calls: where dependency slicing starts."""
        return tuple(dict.fromkeys(n for names in self.uses.values() for n in names))


def selected_items(rubric: Rubric, opts: Options):
    for item in rubric.items:
        if opts.public_only and item.visibility != "public":
            continue
        if opts.items and item.id not in opts.items:
            continue
        yield item


def make_plan(rubric: Rubric, opts: Options, keys) -> Plan:
    """The plan of ``rubric`` under ``opts``; ``keys`` (a ReferenceKeys) gives the reference's data.

    The plan is the same for every submission of a batch (inputs such as the
    MNIST arrays are loaded once), so it is kept per key version and options;
    callers only read it.
    """
    if rubric.path is None:
        return _make_plan(rubric, opts, keys)
    k = (str(rubric.path), keys.key_version, opts)
    if k not in _PLANS:
        while len(_PLANS) >= 8:
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[k] = _make_plan(load_rubric_cached(rubric.path), opts, keys)
    return _PLANS[k]


_PLANS: dict[tuple, Plan] = {}


class _LazyNamespace(Mapping):
    """The reference's globals, imported on first use: a plan without ``{ref: ...}`` inputs never imports it."""

    def __init__(self, keys):
        self._keys, self._ns = keys, None

    def _get(self) -> dict:
        if self._ns is None:
            self._ns = self._keys.namespace
        return self._ns

    def __getitem__(self, k):
        return self._get()[k]

    def __iter__(self):
        return iter(self._get())

    def __len__(self):
        return len(self._get())


def _make_plan(rubric: Rubric, opts: Options, keys) -> Plan:
    ns = _LazyNamespace(keys)
    calls, arrays_all, timeouts, groups, index, uses = [], {}, {}, {}, {}, {}
    seen: dict[str, str] = {}
    items = tuple(selected_items(rubric, opts))
    for item in items:
        for check in item.checks:
            if check.full and not opts.full:
                continue
            for i in range(len(check.cases)):
                case, arrays = case_inputs(check, i, ns)
                sig = case_signature(case, arrays)
                timeout = check.timeout_s or rubric.limits.timeout_s
                if sig in seen:  # the same call judged by several checks runs once
                    cid = seen[sig]
                    index[(item.id, check.name, i)] = cid
                    timeouts[cid] = max(timeouts[cid], timeout)
                    continue
                cid = f"c{len(calls)}"
                seen[sig] = cid
                renamed = {}
                for k, v in arrays.items():
                    renamed[k] = f"{cid}_{k}"
                    arrays_all[f"{cid}_{k}"] = v
                calls.append({"id": cid, "steps": _rename(case["steps"], renamed), "returns": case["returns"]})
                index[(item.id, check.name, i)] = cid
                groups[cid] = f"{item.id}/{check.name}"
                timeouts[cid] = timeout
                uses[cid] = tuple(check.functions())
    provided = tuple(keys.provided())
    return Plan(rubric.assignment, rubric.version, items, opts.full, calls, arrays_all, timeouts, groups, index,
                dict(rubric.aliases), rubric.limits.to_limits(), tuple(keys.data_files()), provided,
                uses, frozenset(n for p in provided for n in bound_names(p["source"])))



def _rename(value, renamed):
    if isinstance(value, list):
        return [_rename(v, renamed) for v in value]
    if isinstance(value, dict):
        if value.get(TAG) == "nd":
            return {TAG: "nd", "key": renamed[value["key"]]}
        return {k: _rename(v, renamed) for k, v in value.items()}
    return value


def case_inputs(check: Check, case_index: int, ns: dict, seed_offset: int = 0):
    """The case's steps with data materialised and arrays moved out: (steps, arrays)."""
    case = check.normalised_cases()[case_index]
    arrays: dict[str, np.ndarray] = {}
    try:
        steps = encode_inputs(materialise_steps(case["steps"], ns, seed_offset), arrays)
    except (LookupError, ValueError, TypeError) as exc:
        raise RubricError(f"check {check.name!r}, case {case_index}: the inputs cannot be made: {exc}; "
                          "fix the rubric and run `dlgrade validate`") from None
    return {"steps": steps, "returns": case["returns"]}, arrays


def case_signature(case: dict, arrays: dict) -> str:
    """Identity of a call (steps, returns and the bytes of its input arrays): equal calls run once."""
    h = hashlib.sha256(json.dumps(case, sort_keys=True, default=str).encode())
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()




def materialise_steps(steps: list[dict], reference_ns: dict, seed_offset: int = 0) -> list[dict]:
    """A case's steps in the worker's form: typed values as wire tags, data values made here."""
    out = []
    for st in steps:
        st = dict(st)
        for k in ("torch_seed", "np_seed"):
            if k in st:
                st[k] = int(st[k]) + seed_offset
        for k in ("args", "kwargs"):
            if k in st:
                st[k] = materialise(st[k], reference_ns, seed_offset)
        out.append(st)
    return out


def materialise(value, reference_ns: dict, seed_offset: int = 0):
    """A rubric value (see :mod:`grader.rubric.values`) in the worker's wire form.

    Data values (``array``, ``random``, ``ref``) become numpy arrays / Python
    values made here; object values (``rng``, ``tensor``, ...) become tagged
    wire values the worker builds; plain dicts stay plain (escaped if they hold
    the wire's reserved key). ``seed_offset`` shifts every seed (``random``,
    ``rng``, ``seed``): ``dlgrade calibrate`` uses it to rerun a case over many seeds.
    """
    if isinstance(value, list):
        return [materialise(v, reference_ns, seed_offset) for v in value]
    if not isinstance(value, dict):
        return value
    key = type_key(value)
    if key is None or key == "dict":
        plain = value if key is None else value["dict"]
        return _plain_dict({k: materialise(v, reference_ns, seed_offset) for k, v in plain.items()})
    arg = value[key]
    if key == "array":
        return np.asarray(arg, dtype=value.get("dtype", "float64"))
    if key == "random":
        return _random(arg, seed_offset)
    if key == "ref":
        if arg not in reference_ns:
            raise LookupError(f"{{ref: {arg}}} is not defined in the reference module(s)")
        obj = reference_ns[arg]
        if "args" in value or "kwargs" in value or callable(obj):
            args = _objects(materialise(value.get("args", []), reference_ns, seed_offset))
            kwargs = _objects(materialise(value.get("kwargs", {}), reference_ns, seed_offset))
            obj = obj(*args, **kwargs)
        if value.get("select") is not None:
            obj = select(obj, value["select"])
        return _plain_data(np.array(obj) if isinstance(obj, np.ndarray) else obj)
    if key == "rng":
        return {TAG: "rng", "seed": int(arg) + seed_offset}
    if key == "seed":
        return {TAG: "seed", "value": int(arg) + seed_offset}
    if key == "tensor":
        return {TAG: "tensor", "data": materialise(arg, reference_ns, seed_offset),
                "dtype": str(value.get("dtype", "float32")), "requires_grad": bool(value.get("requires_grad", False))}
    if key == "var":
        return {TAG: "var", "path": str(arg)}
    if key == "sgd":
        opts = dict(arg)
        params = opts.pop("params")
        return {TAG: "sgd", "params": materialise(params, reference_ns, seed_offset),
                "kwargs": materialise(opts, reference_ns, seed_offset)}
    if key == "mse":
        return {TAG: "mse", "kwargs": materialise(dict(arg or {}), reference_ns, seed_offset)}
    if key == "events":
        return {TAG: "events"}
    if key == "data_file":
        return {TAG: "data_file", "name": str(arg)}
    raise ValueError(f"no wire form for the value type {key!r}")  # the registry and this function disagree


def _plain_dict(d: dict) -> dict:
    """A plain dict as the wire carries it: escaped when one of its keys is the reserved tag key."""
    return {TAG: "dict", "items": [[k, v] for k, v in d.items()]} if TAG in d else d


def _plain_data(obj):
    """A value a reference function made, as plain wire data (dicts escaped where needed)."""
    if isinstance(obj, dict):
        return _plain_dict({str(k): _plain_data(v) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return [_plain_data(v) for v in obj]
    return obj


def _objects(value):
    """Wire values made real, for calling a reference function in the grader (``rng``, ``seed``)."""
    if isinstance(value, list):
        return [_objects(v) for v in value]
    if isinstance(value, dict):
        tag = value.get(TAG)
        if tag == "rng":
            return np.random.default_rng(int(value["seed"]))
        if tag == "seed":
            return int(value["value"])
        if tag == "dict":
            return {k: _objects(v) for k, v in value["items"]}
        if tag is not None:
            raise ValueError(f"a {{{tag}: ...}} value cannot be passed to a reference function in the grader")
        return {k: _objects(v) for k, v in value.items()}
    return value


def _random(spec: dict, seed_offset: int) -> np.ndarray:
    rng = np.random.default_rng(int(spec.get("seed", 0)) + seed_offset)
    shape = tuple(spec.get("shape", ()))
    dist = spec.get("dist", "normal")
    if dist == "normal":
        out = rng.normal(spec.get("loc", 0.0), spec.get("scale", 1.0), size=shape)
    elif dist == "uniform":
        out = rng.uniform(spec.get("low", 0.0), spec.get("high", 1.0), size=shape)
    elif dist == "sign":
        out = rng.choice([-1.0, 1.0], size=shape)
    else:
        raise ValueError(f"unknown dist {dist!r} (normal, uniform, sign)")
    return out.astype(spec.get("dtype", "float64"))


def encode_inputs(value, arrays: dict[str, np.ndarray]):
    """Move numpy arrays of a materialised case into ``arrays`` for the sandbox."""
    if isinstance(value, np.ndarray):
        key = f"i{len(arrays)}"
        arrays[key] = value
        return {TAG: "nd", "key": key}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return [encode_inputs(v, arrays) for v in value]
    if isinstance(value, tuple):
        return [encode_inputs(v, arrays) for v in value]
    if isinstance(value, dict):
        if value.get(TAG) == "dict":  # escaped plain data: its values may hold arrays
            return {TAG: "dict", "items": [[k, encode_inputs(v, arrays)] for k, v in value["items"]]}
        return {k: encode_inputs(v, arrays) for k, v in value.items()}
    return value

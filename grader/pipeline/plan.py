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
    upstream: dict[tuple, str] = field(default_factory=dict)
    """(item id, check name, case index, given name) -> call id: the submission's upstream call a
    follow-through check may be judged with (``follow_through: given:``); ordinary calls of the plan."""
    upstream_of: dict[str, tuple[str, str]] = field(default_factory=dict)
    """An upstream function of a follow-through check -> (the item grading it, its label): ``("D1", "q*")``,
    from the whole rubric (the item may not be selected)."""

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
    calls, arrays_all, timeouts, groups, index, uses, upstream = [], {}, {}, {}, {}, {}, {}
    seen: dict[str, str] = {}

    def add(case, arrays, group: str, timeout: float, names) -> str:
        sig = case_signature(case, arrays)
        if sig in seen:  # the same call judged by several checks runs once
            cid = seen[sig]
            timeouts[cid] = max(timeouts[cid], timeout)
            return cid
        cid = f"c{len(calls)}"
        seen[sig] = cid
        renamed = {}
        for k, v in arrays.items():
            renamed[k] = f"{cid}_{k}"
            arrays_all[f"{cid}_{k}"] = v
        calls.append({"id": cid, "steps": _rename(case["steps"], renamed), "returns": case["returns"]})
        groups[cid] = group
        timeouts[cid] = timeout
        uses[cid] = tuple(names)
        return cid

    items = tuple(selected_items(rubric, opts))
    checks = [(item, check) for item in items for check in item.checks if opts.full or not check.full]
    for item, check in checks:
        for i in range(len(check.cases)):
            case, arrays = case_inputs(check, i, ns)
            index[(item.id, check.name, i)] = add(case, arrays, f"{item.id}/{check.name}",
                                                  check.timeout_s or rubric.limits.timeout_s, check.functions())
    # follow-through: the submission's upstream values, as ordinary (cheap, mostly already planned) calls; their
    # own group, so an upstream call that times out never skips the check's cases
    signature = getattr(keys, "signature", None)
    graded_by = rubric.graded_by()
    upstream_of = {}
    for item, check in checks:
        if check.follow_through is None or signature is None:
            continue
        params = signature(check.function)
        for i in range(len(check.cases)):
            for name, up in check.follow_through.given.items():
                uid = graded_by[up.call]
                labels = [c.label for c in rubric.item(uid).checks if c.function == up.call and c.label]
                upstream_of[up.call] = (uid, labels[0] if labels else f"`{up.call}`")
                case, arrays = upstream_inputs(check, i, name, params, ns)
                upstream[(item.id, check.name, i, name)] = add(
                    case, arrays, f"{item.id}/{check.name}/follow-through", check.timeout_s or rubric.limits.timeout_s,
                    (up.call,))
    provided = tuple(keys.provided())
    return Plan(rubric.assignment, rubric.version, items, opts.full, calls, arrays_all, timeouts, groups, index,
                dict(rubric.aliases), rubric.limits.to_limits(), tuple(keys.data_files()), provided,
                uses, frozenset(n for p in provided for n in bound_names(p["source"])), upstream, upstream_of)


REQUIRED = object()
"""A parameter without a default (in a signature from :meth:`ReferenceKeys.signature`)."""


def bind_case(params: list[tuple[str, object]], args: list, kwargs: dict, where: str) -> dict:
    """A case's arguments by parameter name, defaults filled in (``params``: ``[(name, default)]`` in order)."""
    names = [n for n, _ in params]
    if len(args) > len(names):
        raise RubricError(f"{where}: {len(args)} arguments for the {len(names)} parameters {', '.join(names)}")
    bound = dict(zip(names, args))
    for k, v in kwargs.items():
        if k not in names or k in bound:
            raise RubricError(f"{where}: keyword {k!r} is not a free parameter ({', '.join(names)})")
        bound[k] = v
    for n, default in params:
        if n not in bound and default is not REQUIRED:
            bound[n] = default
    return bound


def upstream_call(check: Check, case_index: int, name: str, params) -> dict:
    """The rubric-form step of a follow-through case's upstream call ``given[name]`` (arguments bound by name)."""
    up = check.follow_through.given[name]
    where = f"check {check.name!r}, case {case_index}, follow_through {name!r}"
    bound = bind_case(params, list(check.cases[case_index].args), dict(check.cases[case_index].kwargs), where)

    def arg(v):
        if not isinstance(v, str):
            return v
        if v not in bound:
            raise RubricError(f"{where}: `{check.function}` has no parameter {v!r} with a value here "
                              f"(parameters: {', '.join(n for n, _ in params)})")
        return bound[v]

    return {"let": "_out", "call": up.call, "args": [arg(v) for v in up.args],
            "kwargs": {k: arg(v) for k, v in up.kwargs.items()}}


def upstream_inputs(check: Check, case_index: int, name: str, params, ns: dict):
    """The submission's upstream call of a follow-through case, as (steps, arrays) like :func:`case_inputs`."""
    return _inputs([upstream_call(check, case_index, name, params)], "_out", ns,
                   f"check {check.name!r}, case {case_index}, follow_through {name!r}")


def follow_through_inputs(check: Check, case_index: int, given: dict, ns: dict):
    """The trusted call of a follow-through case: ``reference(*args, **kwargs, **given)``, (steps, arrays).

    ``given`` holds the submission's upstream values (plain numbers and arrays, already checked); they join
    the case's own arguments only here, in the grader, and never travel to the sandbox.
    """
    case = check.cases[case_index]
    step = {"let": "_out", "call": check.follow_through.reference, "args": list(case.args), "kwargs": dict(case.kwargs)}
    where = f"check {check.name!r}, case {case_index}, follow_through"
    try:
        steps = materialise_steps([step], ns)
    except (LookupError, ValueError, TypeError) as exc:
        raise RubricError(f"{where}: the inputs cannot be made: {exc}") from None
    steps[0]["kwargs"] = {**steps[0]["kwargs"], **given}
    arrays: dict[str, np.ndarray] = {}
    return {"steps": encode_inputs(steps, arrays), "returns": "_out"}, arrays


def _inputs(steps: list[dict], returns, ns: dict, where: str):
    arrays: dict[str, np.ndarray] = {}
    try:
        out = encode_inputs(materialise_steps(steps, ns), arrays)
    except (LookupError, ValueError, TypeError) as exc:
        raise RubricError(f"{where}: the inputs cannot be made: {exc}; fix the rubric and run `dlgrade validate`") \
            from None
    return {"steps": out, "returns": returns}, arrays



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

"""Rubric values on the trusted side: materialise inputs, decode results.

Inputs that are *data* (``array``, ``random``, ``ref``) are made here, in the
grader, and travel to the sandbox as arrays; inputs that are *objects*
(``rng``, ``tensor``, ``sgd``, ``mse``, ``var``) are built on each side by the
shared case interpreter in :mod:`grader.sandbox.worker`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_DATA_KEYS = ("array", "random", "ref")


@dataclass(frozen=True)
class Opaque:
    """A returned object that is not plain data (kept as its type name and repr)."""

    type: str
    repr: str


@dataclass(frozen=True)
class Events:
    """The instrumentation log of one case (training-loop items)."""

    events: tuple[dict, ...]

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.events]


def from_plain(value, arrays: dict[str, np.ndarray]):
    """Inverse of ``worker.to_plain``: arrays back in place, special markers decoded."""
    if isinstance(value, list):
        return [from_plain(v, arrays) for v in value]
    if isinstance(value, dict):
        if "__nd__" in value and len(value) == 1:
            return arrays[value["__nd__"]]
        if "__object__" in value:
            return Opaque(str(value["__object__"]), str(value.get("repr", "")))
        if "__events__" in value:
            return Events(tuple(dict(e) for e in value["__events__"]))
        if "__module__" in value:
            return {"__module__": value["__module__"], "leaves": value.get("leaves", []),
                    "params": {k: from_plain(v, arrays) for k, v in value.get("params", {}).items()}}
        return {k: from_plain(v, arrays) for k, v in value.items()}
    return value


def materialise(value, reference_ns: dict, seed_offset: int = 0):
    """Replace data values (``array``, ``random``, ``ref``) by numpy arrays / Python values.

    ``seed_offset`` shifts every seed (``random``, ``rng``, ``seed``): ``dlgrade
    calibrate`` uses it to rerun a case over many seeds.
    """
    if isinstance(value, list):
        return [materialise(v, reference_ns, seed_offset) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) >= 1:
        key = next(iter(value))
        if key == "array":
            return np.asarray(value["array"], dtype=value.get("dtype", "float64"))
        if key == "random":
            return _random(value["random"], seed_offset)
        if key == "ref":
            if value["ref"] not in reference_ns:
                raise LookupError(f"{{ref: {value['ref']}}} is not defined in the reference module(s)")
            obj = reference_ns[value["ref"]]
            if "args" in value or "kwargs" in value or callable(obj):
                args = _objects(materialise(value.get("args", []), reference_ns, seed_offset))
                kwargs = _objects(materialise(value.get("kwargs", {}), reference_ns, seed_offset))
                obj = obj(*args, **kwargs)
            if "select" in value:
                obj = select(obj, value["select"])
            return np.array(obj) if isinstance(obj, np.ndarray) else obj
        if key in ("rng", "seed", "torch_seed", "np_seed") and seed_offset:
            return {**value, key: int(value[key]) + seed_offset}
        if key == "tensor":
            return {**value, "tensor": materialise(value["tensor"], reference_ns, seed_offset)}
    return {k: materialise(v, reference_ns, seed_offset) for k, v in value.items()}


def _objects(value):
    """``{rng: n}`` / ``{seed: n}`` made real, for calling a reference function in the grader."""
    if isinstance(value, list):
        return [_objects(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"rng"}:
            return np.random.default_rng(int(value["rng"]))
        if set(value) == {"seed"}:
            return int(value["seed"])
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


def select(value, path):
    """Pick ``path`` (a key, an index, or a list of them) out of a result."""
    for key in (path if isinstance(path, list) else [path]):
        if isinstance(value, dict):
            value = value[str(key)]
        elif isinstance(value, (list, tuple, np.ndarray)):
            value = value[int(key)]
        else:
            raise KeyError(f"cannot select {key!r} from a {type(value).__name__}")
    return value


def encode_inputs(value, arrays: dict[str, np.ndarray]):
    """Move numpy arrays of a materialised case into ``arrays`` for the sandbox."""
    if isinstance(value, np.ndarray):
        key = f"i{len(arrays)}"
        arrays[key] = value
        return {"__nd__": key}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return [encode_inputs(v, arrays) for v in value]
    if isinstance(value, tuple):
        return [encode_inputs(v, arrays) for v in value]
    if isinstance(value, dict):
        return {k: encode_inputs(v, arrays) for k, v in value.items()}
    return value

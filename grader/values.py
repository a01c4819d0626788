"""Values on the trusted side: what the sandbox's results decode into.

:func:`from_plain` turns the worker's plain encoding back into numpy arrays,
:class:`Opaque` objects and :class:`Events` logs; :func:`select` picks a part of
a result (rubric ``select:``). Inputs are made in :mod:`grader.pipeline.plan`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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

"""Values on the trusted side: what the sandbox's results decode into.

:func:`from_plain` turns the wire encoding (:mod:`grader.sandbox.worker.wire`,
the one format both sides share) back into numpy arrays, :class:`Opaque`
objects and :class:`Events` logs; :func:`select` picks a part of a result
(rubric ``select:``). Inputs are made in :mod:`grader.pipeline.plan`.
"""
from __future__ import annotations

import numpy as np

from grader.sandbox.worker.wire import Events, Opaque, decode_result

__all__ = ["Events", "Opaque", "from_plain", "select"]


def from_plain(value, arrays: dict[str, np.ndarray]):
    """A result as the wire carries it, decoded (arrays in place, :class:`Opaque`, :class:`Events`)."""
    return decode_result(value, arrays)


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

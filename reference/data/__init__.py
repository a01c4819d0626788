"""Data shipped with the reference: MNIST sevens vs nines (assignment B, backprop).

See ``README.md`` beside this file for provenance, layout and checksums.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["KEYS", "MAT_FILE", "NPZ_FILE", "load_mnist_sevens_nines", "mnist_sevens_nines_path"]

_HERE = Path(__file__).resolve().parent
MAT_FILE = "mnist_sevens_nines.mat"
NPZ_FILE = "mnist_sevens_nines.npz"
KEYS = ("X_train", "y_train", "X_test", "y_test")


def mnist_sevens_nines_path(fmt: str = "mat") -> Path:
    """Path of the packaged data file.

    Parameters
    ----------
    fmt : {"mat", "npz"}
        ``"mat"`` is the course's original MATLAB file (what students load with
        ``scipy.io.loadmat('mnist_sevens_nines.mat')``; the rubric copies it
        into their working directory); ``"npz"`` holds the same values.

    Returns
    -------
    pathlib.Path
        Absolute path inside the installed ``reference.data`` package.
    """
    names = {"mat": MAT_FILE, "npz": NPZ_FILE}
    if fmt not in names:
        raise ValueError(f"fmt must be 'mat' or 'npz', got {fmt!r}")
    return _HERE / names[fmt]


def load_mnist_sevens_nines(fmt: str = "npz") -> dict[str, np.ndarray]:
    """Load the sevens-vs-nines subset of MNIST in the sheet's layout.

    Parameters
    ----------
    fmt : {"npz", "mat"}
        Which packaged file to read; both give identical values.

    Returns
    -------
    dict
        ``X_train`` (784, 1800), ``y_train`` (1, 1800), ``X_test`` (784, 200),
        ``y_test`` (1, 200); all ``float64`` and C-contiguous, fresh arrays on
        every call. Pixels are ``k/255`` in [0, 1]; labels are -1 (seven) and
        +1 (nine), sevens first. Column ``i`` is one image flattened in
        column-major order: ``X[:, i].reshape(28, 28, order="F")``.

    Examples
    --------
    >>> d = load_mnist_sevens_nines()
    >>> d["X_train"].shape, d["y_test"].shape
    ((784, 1800), (1, 200))
    >>> float(d["y_train"][0, 0]), float(d["y_train"][0, -1])
    (-1.0, 1.0)
    """
    return {k: v.copy() for k, v in _read(fmt).items()}


@lru_cache(maxsize=2)
def _read(fmt: str) -> dict[str, np.ndarray]:
    """Decoded file contents, read once per process (callers get copies)."""
    path = mnist_sevens_nines_path(fmt)
    if fmt == "npz":
        with np.load(path, allow_pickle=False) as z:
            raw = {k: z[k] for k in KEYS}
    else:
        import scipy.io

        m = scipy.io.loadmat(path)
        raw = {k: m[k] for k in KEYS}
    out = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in raw.items()}
    for v in out.values():
        v.flags.writeable = False
    return out

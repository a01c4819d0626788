"""Comparators: a registry of small functions ``(got, expected, **params) -> Comparison``.

Each gives pass/fail, a score fraction and one human sentence with the
numbers ("q* = 0.7967, expected 1.0000 +- 5e-05"). They run in the trusted
grader on plain data returned by the sandbox.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from grader.values import Events, Opaque


@dataclass(frozen=True)
class Comparison:
    """Result of comparing one returned value with its expectation."""

    passed: bool
    fraction: float
    message: str


COMPARATORS: dict[str, Callable[..., Comparison]] = {}


def comparator(name: str):
    def register(fn):
        COMPARATORS[name] = fn
        return fn
    return register


def compare(kind: str, got, expected, label: str = "result", **params) -> Comparison:
    """Run comparator ``kind``; a comparator that raises becomes a failed comparison."""
    try:
        return COMPARATORS[kind](got, expected, label=label, **params)
    except Exception as exc:  # noqa: BLE001 - a surprising student value must not crash grading
        return Comparison(False, 0.0, f"{label}: could not be compared ({type(exc).__name__}: {exc})")


# ----------------------------------------------------------------------------
# helpers


def _fmt(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if x != x or x in (float("inf"), float("-inf")):
            return str(x)
        return f"{x:.6g}" if (abs(x) >= 1e-4 or x == 0) and abs(x) < 1e6 else f"{x:.4e}"
    return repr(x)[:60]


def _kind(x) -> str:
    if isinstance(x, Opaque):
        if x.type == "ellipsis":
            return "`...` (the exercise's placeholder is still there)"
        return f"a {x.type} object"
    if isinstance(x, Events):
        return "an event log"
    if x is None:
        return "None (a missing `return`?)"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    return f"a {type(x).__name__}"


def as_numeric(x):
    """``x`` as a float array if it is numeric data (scalar, array, rectangular list), else None."""
    if isinstance(x, (bool, np.bool_)):
        return np.asarray(float(x))
    if isinstance(x, (int, float, np.integer, np.floating)):
        return np.asarray(x, dtype=float)
    if isinstance(x, np.ndarray):
        if np.iscomplexobj(x):
            return x
        try:
            return x.astype(float)
        except (TypeError, ValueError):
            return None
    if isinstance(x, list) and x and all(isinstance(v, (int, float, np.integer, np.floating, list, np.ndarray))
                                         and not isinstance(v, bool) for v in x):
        try:
            return np.asarray(x, dtype=float)
        except (TypeError, ValueError):
            return None
    return None


def _array_close(got, exp, rtol, atol, label) -> Comparison:
    g, e = as_numeric(got), as_numeric(exp)
    if g is None:
        return Comparison(False, 0.0, f"{label}: expected numbers, got {_kind(got)}")
    if g.shape != e.shape:
        if g.size == e.size and g.size > 0 and np.squeeze(g).shape == np.squeeze(e).shape:
            g = g.reshape(e.shape)
        else:
            return Comparison(False, 0.0, f"{label}: wrong shape: got {g.shape}, expected {e.shape}")
    finite_e = np.isfinite(e)
    bad_nonfinite = ~np.isfinite(g) & finite_e
    tol = atol + rtol * np.abs(e)
    with np.errstate(invalid="ignore"):
        diff = np.abs(g - e)
        ok = (diff <= tol) | (~finite_e & (g == e)) | (np.isnan(e) & np.isnan(g))
    ok &= ~bad_nonfinite
    tol_s = f"rtol={rtol:g}, atol={atol:g}"
    if e.ndim == 0:
        t = float(tol)
        dec = max(0, -int(np.floor(np.log10(t))) - 1) if t > 0 else 99
        if dec <= 6 and np.isfinite(g.item()) and abs(e.item()) < 1e6:
            msg = f"{label} = {g.item():.{dec}f}, expected {e.item():.{dec}f} +- {t:.1g}"
        else:
            pm = f" +- {t:.1g}" if t > 0 else ""
            msg = f"{label} = {_fmt(g.item())}, expected {_fmt(e.item())}{pm}"
        return Comparison(bool(ok), float(bool(ok)), msg)
    n_bad = int((~ok).sum())
    if n_bad == 0:
        return Comparison(True, 1.0, f"{label}: all {e.size} values match ({tol_s})")
    if bad_nonfinite.any():
        idx = tuple(int(i) for i in np.argwhere(bad_nonfinite)[0])
        return Comparison(False, 0.0, f"{label}: {int(bad_nonfinite.sum())} of {e.size} values are NaN or inf "
                                      f"(first at {list(idx)}: {_fmt(g[idx])}, expected {_fmt(e[idx])})")
    d = np.where(ok, 0.0, np.nan_to_num(diff, nan=np.inf))
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(d)), d.shape))
    return Comparison(False, 0.0, f"{label}: {n_bad} of {e.size} values differ; largest |diff| {_fmt(d[idx])} "
                                  f"at {list(idx)} (got {_fmt(g[idx])}, expected {_fmt(e[idx])}; {tol_s})")


def _tree_close(got, exp, rtol, atol, label, leaf=None) -> Comparison:
    """allclose through dicts, tuples and lists of arrays (e.g. ``(W1, W2)``).

    ``leaf(got, exp, rtol, atol, label)`` compares numeric leaves (default
    :func:`_array_close`).
    """
    leaf = leaf or _array_close
    if isinstance(exp, Opaque):
        return Comparison(False, 0.0, f"{label}: the reference returned an object that cannot be compared")
    if as_numeric(exp) is not None and not isinstance(exp, dict):
        return leaf(got, exp, rtol, atol, label)
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            return Comparison(False, 0.0, f"{label}: expected a dict with keys {sorted(exp)}, got {_kind(got)}")
        missing = [k for k in exp if k not in got]
        if missing:
            return Comparison(False, 0.0, f"{label}: missing keys {missing} (got keys {sorted(got)[:10]})")
        parts = [_tree_close(got[k], exp[k], rtol, atol, f"{label}[{k!r}]", leaf) for k in exp]
    elif isinstance(exp, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return Comparison(False, 0.0, f"{label}: expected {len(exp)} values (a tuple or list), got {_kind(got)}")
        if len(got) != len(exp):
            return Comparison(False, 0.0, f"{label}: expected {len(exp)} values, got {len(got)}")
        parts = [_tree_close(g, e, rtol, atol, f"{label}[{i}]", leaf) for i, (g, e) in enumerate(zip(got, exp))]
    elif isinstance(exp, str) or exp is None:
        ok = got == exp
        return Comparison(ok, float(ok), f"{label} = {got!r}" + ("" if ok else f", expected {exp!r}"))
    else:
        return Comparison(False, 0.0, f"{label}: cannot compare {_kind(exp)}")
    bad = [p for p in parts if not p.passed]
    if not bad:
        return Comparison(True, 1.0, "; ".join(p.message for p in parts[:3]) + (" ..." if len(parts) > 3 else ""))
    return Comparison(False, 0.0, "; ".join(p.message for p in bad[:3]))


# ----------------------------------------------------------------------------
# the registry


@comparator("allclose")
def allclose(got, expected, *, label="result", rtol=1e-9, atol=1e-12) -> Comparison:
    """Elementwise ``|got - expected| <= atol + rtol |expected|`` through nested results."""
    return _tree_close(got, expected, float(rtol), float(atol), label)


@comparator("exact")
def exact(got, expected, *, label="result", rtol=1e-9, atol=1e-12) -> Comparison:
    """Equality for strings, ints and bools; the catalogue's 'exact' tolerance for floats."""
    if isinstance(expected, (str, bool)) or (isinstance(expected, (int, np.integer)) and not isinstance(expected, bool)
                                             and isinstance(got, (int, np.integer))):
        ok = type(got) is type(expected) and got == expected if isinstance(expected, str) else got == expected
        ok = bool(ok)
        return Comparison(ok, float(ok), f"{label} = {got!r}" + ("" if ok else f", expected {expected!r}"))
    return _tree_close(got, expected, float(rtol), float(atol), label)


@comparator("shape")
def shape(got, expected, *, label="result") -> Comparison:
    """Same array shape (values not compared)."""
    g, e = np.shape(as_numeric(got) if as_numeric(got) is not None else got), np.shape(as_numeric(expected))
    ok = g == e
    return Comparison(ok, float(ok), f"{label}: shape {g}" + ("" if ok else f", expected {e}"))


def _singular_values(x):
    a = as_numeric(x)
    if a is None:
        raise ValueError(f"expected a matrix or a vector of singular values, got {_kind(x)}")
    if a.ndim >= 2:
        return np.linalg.svd(a, compute_uv=False)
    return np.sort(np.abs(a))[::-1]


@comparator("sorted_singular_values")
def sorted_singular_values(got, expected, *, label="singular values", rtol=1e-9, atol=1e-12, top=None) -> Comparison:
    """Compare singular values (of matrices, or given vectors), sorted descending."""
    g, e = _singular_values(got), _singular_values(expected)
    if top is not None:
        g, e = g[: int(top)], e[: int(top)]
    return _array_close(g, e, float(rtol), float(atol), label)


@comparator("sign_invariant_columns")
def sign_invariant_columns(got, expected, *, label="columns", rtol=1e-6, atol=1e-9) -> Comparison:
    """Matrices equal up to the sign of each column (singular vectors)."""
    g, e = as_numeric(got), as_numeric(expected)
    if g is None or g.shape != e.shape:
        return Comparison(False, 0.0, f"{label}: wrong shape: got {np.shape(g) if g is not None else _kind(got)}, "
                                      f"expected {e.shape}")
    signs = np.sign(np.sum(g * e, axis=0))
    signs[signs == 0] = 1
    return _array_close(g * signs, e, float(rtol), float(atol), label + " (up to column signs)")


@comparator("set_of_points")
def set_of_points(got, expected, *, label="points", atol=1e-6) -> Comparison:
    """Same set of points in any order (fixed points), each within ``atol``."""
    g, e = as_numeric(got), as_numeric(expected)
    if g is None:
        return Comparison(False, 0.0, f"{label}: expected a list of points, got {_kind(got)}")
    g, e = np.atleast_2d(g), np.atleast_2d(e)
    if e.shape[0] == 1 and g.shape[0] > 1 and e.shape[1] == 1:
        e = e.T
    if g.shape[0] != e.shape[0] and g.T.shape == e.shape:
        g = g.T
    if g.shape[-1] != e.shape[-1]:
        return Comparison(False, 0.0, f"{label}: points of dimension {g.shape[-1]}, expected {e.shape[-1]}")
    unmatched, used = [], set()
    for p in e:
        d = np.max(np.abs(g - p), axis=1)
        cands = [i for i in np.argsort(d) if i not in used and d[i] <= atol]
        if cands:
            used.add(cands[0])
        else:
            unmatched.append(p)
    extra = g.shape[0] - len(used)
    if not unmatched and extra == 0:
        return Comparison(True, 1.0, f"{label}: all {e.shape[0]} points found")
    parts = []
    if unmatched:
        parts.append(f"missing {len(unmatched)} of {e.shape[0]} (e.g. {np.round(unmatched[0], 6).tolist()})")
    if extra:
        parts.append(f"{extra} extra point(s)")
    return Comparison(False, 0.0, f"{label}: " + ", ".join(parts))


@comparator("curve")
def curve(got, expected, *, label="curve", rtol=1e-9, atol=1e-12, allow_missing_first=False) -> Comparison:
    """Trajectories (also inside dicts/tuples, e.g. training curves).

    With ``allow_missing_first`` a curve without its t = 0 row is accepted too.
    """
    def leaf(g_, e_, rtol_, atol_, label_):
        g, e = as_numeric(g_), as_numeric(e_)
        if g is not None and allow_missing_first and g.ndim >= 1 and e.ndim >= 1 and g.shape[0] == e.shape[0] - 1:
            res = _array_close(g, e[1:], rtol_, atol_, label_)
            return Comparison(res.passed, res.fraction,
                              res.message + (" (rows without t = 0 accepted)" if res.passed else ""))
        return _array_close(g_, e_, rtol_, atol_, label_)

    return _tree_close(got, expected, float(rtol), float(atol), label, leaf)


@comparator("band")
def band(got, expected, *, label="value", low=None, high=None) -> Comparison:
    """Every value within the calibrated ``[low, high]`` (from ``expected.band``)."""
    lo, hi = (low, high) if low is not None else tuple(expected)
    g = as_numeric(got)
    if g is None:
        return Comparison(False, 0.0, f"{label}: expected a number, got {_kind(got)}")
    ok = bool(np.all(np.isfinite(g)) and np.all((g >= lo) & (g <= hi)))
    shown = _fmt(g.item()) if g.ndim == 0 else np.array2string(g, precision=4, threshold=6)
    return Comparison(ok, float(ok), f"{label} = {shown}, expected within [{_fmt(lo)}, {_fmt(hi)}]")


@comparator("monotone")
def monotone(got, expected, *, label="sequence", direction="decreasing", strict=False, tol=0.0) -> Comparison:
    """The returned sequence is monotone (``expected`` is not used)."""
    g = as_numeric(got)
    if g is None or g.ndim != 1 or g.size < 2:
        return Comparison(False, 0.0, f"{label}: expected a 1-d sequence, got {_kind(got)}")
    d = np.diff(g) * (1 if direction == "increasing" else -1)
    ok = bool(np.all(d > tol) if strict else np.all(d >= -tol))
    if ok:
        return Comparison(True, 1.0, f"{label} is {direction}")
    i = int(np.argmin(d))
    return Comparison(False, 0.0, f"{label} is not {direction}: step {i} goes from {_fmt(g[i])} to {_fmt(g[i + 1])}")


@comparator("ordering")
def ordering(got, expected, *, label="order") -> Comparison:
    """Same ranking of the values (argsort) as the expectation."""
    g, e = as_numeric(got), as_numeric(expected)
    if g is None or g.shape != e.shape:
        return Comparison(False, 0.0, f"{label}: expected {e.shape} values, got {_kind(got)}")
    og, oe = np.argsort(g, kind="stable"), np.argsort(e, kind="stable")
    ok = bool(np.array_equal(og, oe))
    return Comparison(ok, float(ok), f"{label}: ranking {og.tolist()}" + ("" if ok else f", expected {oe.tolist()}"))


@comparator("predicate")
def predicate(got, expected, *, label="result", name, **params) -> Comparison:
    """A named property (``grader/transforms.py`` PREDICATES) of the returned value."""
    from grader.transforms import PREDICATES

    return PREDICATES[name](got, expected, label=label, **params)

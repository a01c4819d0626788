"""Numeric helpers shared by comparators, transforms and predicates.

:class:`Comparison` is what every judge returns: pass/fail, a score fraction,
one sentence with the numbers, and structured ``evidence`` of *how* it failed
(used to recognise a known mistake without reading the sentence).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.values import Events, Opaque


@dataclass(frozen=True)
class Comparison:
    """Result of comparing one returned value with its expectation."""

    passed: bool
    fraction: float
    message: str
    evidence: tuple = ()
    """Structured facts about a failure (e.g. ``("step", 3)``); equal evidence = the same failure."""


def fmt(x) -> str:
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


def kind_of(x) -> str:
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


def array_close(got, exp, rtol, atol, label) -> Comparison:
    g, e = as_numeric(got), as_numeric(exp)
    if g is None:
        return Comparison(False, 0.0, f"{label}: expected numbers, got {kind_of(got)}")
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
            msg = f"{label} = {fmt(g.item())}, expected {fmt(e.item())}{pm}"
        return Comparison(bool(ok), float(bool(ok)), msg)
    n_bad = int((~ok).sum())
    if n_bad == 0:
        return Comparison(True, 1.0, f"{label}: all {e.size} values match ({tol_s})")
    if bad_nonfinite.any():
        idx = tuple(int(i) for i in np.argwhere(bad_nonfinite)[0])
        return Comparison(False, 0.0, f"{label}: {int(bad_nonfinite.sum())} of {e.size} values are NaN or inf "
                                      f"(first at {list(idx)}: {fmt(g[idx])}, expected {fmt(e[idx])})")
    d = np.where(ok, 0.0, np.nan_to_num(diff, nan=np.inf))
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(d)), d.shape))
    return Comparison(False, 0.0, f"{label}: {n_bad} of {e.size} values differ; largest |diff| {fmt(d[idx])} "
                                  f"at {list(idx)} (got {fmt(g[idx])}, expected {fmt(e[idx])}; {tol_s})")


def tree_close(got, exp, rtol, atol, label, leaf=None) -> Comparison:
    """allclose through dicts, tuples and lists of arrays (e.g. ``(W1, W2)``).

    ``leaf(got, exp, rtol, atol, label)`` compares numeric leaves (default
    :func:`array_close`).
    """
    leaf = leaf or array_close
    if isinstance(exp, Opaque):
        return Comparison(False, 0.0, f"{label}: the reference returned an object that cannot be compared")
    if as_numeric(exp) is not None and not isinstance(exp, dict):
        return leaf(got, exp, rtol, atol, label)
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            return Comparison(False, 0.0, f"{label}: expected a dict with keys {sorted(exp)}, got {kind_of(got)}")
        missing = [k for k in exp if k not in got]
        if missing:
            return Comparison(False, 0.0, f"{label}: missing keys {missing} (got keys {sorted(got)[:10]})")
        parts = [tree_close(got[k], exp[k], rtol, atol, f"{label}[{k!r}]", leaf) for k in exp]
    elif isinstance(exp, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return Comparison(False, 0.0, f"{label}: expected {len(exp)} values (a tuple or list), got {kind_of(got)}")
        if len(got) != len(exp):
            return Comparison(False, 0.0, f"{label}: expected {len(exp)} values, got {len(got)}")
        parts = [tree_close(g, e, rtol, atol, f"{label}[{i}]", leaf) for i, (g, e) in enumerate(zip(got, exp))]
    elif isinstance(exp, str) or exp is None:
        ok = got == exp
        return Comparison(ok, float(ok), f"{label} = {got!r}" + ("" if ok else f", expected {exp!r}"))
    else:
        return Comparison(False, 0.0, f"{label}: cannot compare {kind_of(exp)}")
    bad = [p for p in parts if not p.passed]
    if not bad:
        return Comparison(True, 1.0, "; ".join(p.message for p in parts[:3]) + (" ..." if len(parts) > 3 else ""))
    return Comparison(False, 0.0, "; ".join(p.message for p in bad[:3]))



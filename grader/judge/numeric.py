"""Numeric helpers shared by comparators, transforms and predicates.

:class:`Comparison` is what every judge returns: pass/fail, a score fraction,
one sentence with the numbers, and structured ``evidence`` of *how* it failed
(used to recognise a known mistake without reading the sentence).

Every comparison also says what happened *in words* (``hint``): the same
sentence without the expected value, the band or anything computed from them
closer than a rough ratio (:func:`relative`). Students read the hint of a hidden
item instead of the message (:func:`grader.model.student_view`), so a
comparator that cannot say it in words leaves ``hint`` empty and the student
reads only passed / failed.
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
    hint: str = ""
    """The sentence in words: no expected value, no band, no number nearer to them than :func:`relative` says
    ("chi_1 = 2.0224: too large by about 50 %"). Empty: nothing can be said without the numbers."""

    @classmethod
    def plain(cls, passed: bool, fraction: float, message: str, evidence: tuple = ()) -> "Comparison":
        """A comparison whose message shows nothing of the expectation (a type, a shape, the student's own
        values or error), so it is its own hint."""
        return cls(passed, fraction, message, evidence, message)


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


# How coarse a hint is. Every phrase stands for a range of ratios got/expected at least 11 % wide (about +-5 %
# or more), except "slightly" (within 5 %, when the student's own answer is already that close):
#   within 5 %: "slightly too large / small"
#   too large by about 10 % (ratio 1.05-1.2), 30 % (1.2-1.4), 50 % (1.4-1.7)
#   too small by about 10 % (0.85-0.95), 20 % (0.7-0.85), 40 % (0.55-0.7)
#   beyond: a factor on FACTOR_LADDER (steps of 20-33 %), beyond 100 a power of ten; or the sign, or a direction.
# So from a hint and their own answer a student can place the expected value to within about 10-20 %, never to
# 2 significant digits, and no number of the answer key is printed.
FACTOR_LADDER = (2, 2.5, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100)
SLIGHTLY = 0.05
_LARGER = ((1.2, 10), (1.4, 30), (1.7, 50))
_SMALLER = ((0.85, 10), (0.7, 20), (0.55, 40))


def _factor(r: float) -> str:
    if r > 1.12 * FACTOR_LADDER[-1]:
        return f"about 10^{int(np.round(np.log10(r)))}"
    step = min(FACTOR_LADDER, key=lambda k: abs(np.log(r / k)))
    return f"about {step:g}"


def relative(got, expected) -> str:
    """How ``got`` is off from ``expected``, in words and coarse: "is too small by about 40 %".

    Never the expected value: the sign ("has the wrong sign"), a direction, a
    relative error in a few wide steps, a factor on :data:`FACTOR_LADDER`, or
    an order of magnitude (the table above).
    """
    g, e = float(got), float(expected)
    if not np.isfinite(g):
        return f"is {g} (not a finite number)"
    if not np.isfinite(e):
        return "is not the expected value"
    if g == e:
        return "is the expected value"
    if e == 0:
        return "is too large" if g > e else "is too small"
    if g == 0:
        return "is 0, which is not right"
    if (g > 0) != (e > 0):
        return "has the wrong sign"
    size = "" if e > 0 else " in magnitude"
    r = g / e
    if abs(r - 1) < SLIGHTLY:
        return f"is slightly too {'large' if r > 1 else 'small'}{size} (by less than {SLIGHTLY * 100:g} %)"
    if r > 1:
        pct = next((p for bound, p in _LARGER if r < bound), None)
        return f"is too large{size} by " + (f"about {pct} %" if pct else f"a factor of {_factor(r)}")
    pct = next((p for bound, p in _SMALLER if r > bound), None)
    return f"is too small{size} by " + (f"about {pct} %" if pct else f"a factor of {_factor(1 / r)}")


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
        return Comparison.plain(False, 0.0, f"{label}: expected numbers, got {kind_of(got)}")
    if g.shape != e.shape:
        if g.size == e.size and g.size > 0 and np.squeeze(g).shape == np.squeeze(e).shape:
            g = g.reshape(e.shape)
        else:  # shapes are the task's structure, not its answer: a hint names both
            return Comparison.plain(False, 0.0, f"{label}: wrong shape: got {g.shape}, expected {e.shape}")
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
        hint = f"{label} is right" if ok else f"{label} = {fmt(g.item())} {relative(g.item(), e.item())}"
        return Comparison(bool(ok), float(bool(ok)), msg, hint=hint)
    n_bad = int((~ok).sum())
    if n_bad == 0:
        return Comparison(True, 1.0, f"{label}: all {e.size} values match ({tol_s})",
                          hint=f"{label}: all {e.size} values are right")
    if bad_nonfinite.any():
        idx = tuple(int(i) for i in np.argwhere(bad_nonfinite)[0])
        head = f"{label}: {int(bad_nonfinite.sum())} of {e.size} values are NaN or inf (first at {list(idx)}: "
        return Comparison(False, 0.0, head + f"{fmt(g[idx])}, expected {fmt(e[idx])})",
                          hint=head + f"{fmt(g[idx])})")
    d = np.where(ok, 0.0, np.nan_to_num(diff, nan=np.inf))
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(d)), d.shape))
    return Comparison(False, 0.0, f"{label}: {n_bad} of {e.size} values differ; largest |diff| {fmt(d[idx])} "
                                  f"at {list(idx)} (got {fmt(g[idx])}, expected {fmt(e[idx])}; {tol_s})",
                      hint=f"{label}: {n_bad} of {e.size} values are wrong; the furthest off, at {list(idx)}, "
                           f"{fmt(g[idx])} {relative(g[idx], e[idx])}")


def tree_close(got, exp, rtol, atol, label, leaf=None) -> Comparison:
    """allclose through dicts, tuples and lists of arrays (e.g. ``(W1, W2)``).

    ``leaf(got, exp, rtol, atol, label)`` compares numeric leaves (default
    :func:`array_close`).
    """
    leaf = leaf or array_close
    if isinstance(exp, Opaque):
        return Comparison.plain(False, 0.0, f"{label}: the reference returned an object that cannot be compared")
    if as_numeric(exp) is not None and not isinstance(exp, dict):
        return leaf(got, exp, rtol, atol, label)
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            return Comparison.plain(False, 0.0, f"{label}: expected a dict with keys {sorted(exp)}, got {kind_of(got)}")
        missing = [k for k in exp if k not in got]
        if missing:
            return Comparison.plain(False, 0.0, f"{label}: missing keys {missing} (got keys {sorted(got)[:10]})")
        parts = [tree_close(got[k], exp[k], rtol, atol, f"{label}[{k!r}]", leaf) for k in exp]
    elif isinstance(exp, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return Comparison.plain(False, 0.0, f"{label}: expected {len(exp)} values (a tuple or list), "
                                                f"got {kind_of(got)}")
        if len(got) != len(exp):
            return Comparison.plain(False, 0.0, f"{label}: expected {len(exp)} values, got {len(got)}")
        parts = [tree_close(g, e, rtol, atol, f"{label}[{i}]", leaf) for i, (g, e) in enumerate(zip(got, exp))]
    elif isinstance(exp, str) or exp is None:
        return equal(got, exp, label)
    else:
        return Comparison.plain(False, 0.0, f"{label}: cannot compare {kind_of(exp)}")
    return combine(parts)


def equal(got, exp, label, ok=None) -> Comparison:
    """``got == exp`` (or the given ``ok``) for a string, None, a bool or an int; the hint does not repeat ``exp``."""
    ok = bool(got == exp if ok is None else ok)
    if ok:
        return Comparison(True, 1.0, f"{label} = {got!r}", hint=f"{label} is right")
    how = "is not the expected value"
    if isinstance(exp, (int, np.integer)) and not isinstance(exp, (bool, np.bool_)) \
            and isinstance(got, (int, np.integer)) and not isinstance(got, (bool, np.bool_)):
        how = relative(got, exp)
    return Comparison(False, 0.0, f"{label} = {got!r}, expected {exp!r}", hint=f"{label} = {got!r} {how}"[:200])


def combine(parts: list[Comparison]) -> Comparison:
    """Several comparisons (the leaves of a result) as one: passed if all pass, the first failures named."""
    bad = [p for p in parts if not p.passed]
    more = " ..." if len(parts) > 3 else ""
    if not bad:
        return Comparison(True, 1.0, "; ".join(p.message for p in parts[:3]) + more,
                          hint="; ".join(p.hint for p in parts[:3] if p.hint) + more)
    return Comparison(False, 0.0, "; ".join(p.message for p in bad[:3]),
                      hint="; ".join(p.hint for p in bad[:3] if p.hint))



"""Comparators: ``(got, expected, **params) -> Comparison``, registered with their traits.

Each gives pass/fail, a score fraction and one human sentence with the
numbers ("q* = 0.7967, expected 1.0000 +- 5e-05"), and the same in words for
hidden items (``hint``: "q* = 0.7967 is too small by about 20 %", see
:func:`grader.judge.numeric.relative`). They run in the trusted
grader on plain data returned by the sandbox. A comparator declares what it
compares against (``expects``): the reference's value, a calibrated band, or
nothing (it judges the student's value alone).
"""
from __future__ import annotations

import numpy as np

from grader.judge.numeric import (Comparison, array_close, as_numeric, equal, fmt, kind_of, relative,
                                  tree_close)
from grader.judge.registry import COMPARATORS, PREDICATES, comparator


def compare(kind: str, got, expected, label: str = "result", **params) -> Comparison:
    """Run comparator ``kind``; a comparator that raises becomes a failed comparison."""
    try:
        return COMPARATORS[kind](got, expected, label=label, **params)
    except Exception as exc:  # noqa: BLE001 - a surprising student value must not crash grading
        return Comparison(False, 0.0, f"{label}: could not be compared ({type(exc).__name__}: {exc})",
                          ("raised", type(exc).__name__), f"{label}: could not be compared ({type(exc).__name__})")


@comparator("allclose")
def allclose(got, expected, *, label="result", rtol=1e-9, atol=1e-12) -> Comparison:
    """Elementwise ``|got - expected| <= atol + rtol |expected|`` through nested results."""
    return tree_close(got, expected, float(rtol), float(atol), label)


@comparator("exact")
def exact(got, expected, *, label="result", rtol=1e-9, atol=1e-12) -> Comparison:
    """Equality for strings, ints and bools; the catalogue's 'exact' tolerance for floats."""
    if isinstance(expected, (str, bool)) or (isinstance(expected, (int, np.integer)) and not isinstance(expected, bool)
                                             and isinstance(got, (int, np.integer))):
        ok = type(got) is type(expected) and got == expected if isinstance(expected, str) else got == expected
        return equal(got, expected, label, ok=bool(ok))
    return tree_close(got, expected, float(rtol), float(atol), label)


@comparator("shape")
def shape(got, expected, *, label="result") -> Comparison:
    """Same array shape (values not compared)."""
    a = as_numeric(got)
    g, e = np.shape(a if a is not None else got), np.shape(as_numeric(expected))
    if g == e and a is not None and a.size and not np.any(a) and np.any(as_numeric(expected)):
        return Comparison.plain(False, 0.0, f"{label}: shape {g} but every value is 0 (the placeholder?)", ("zeros",))
    ok = g == e
    return Comparison.plain(ok, float(ok), f"{label}: shape {g}" + ("" if ok else f", expected {e}"))


def _singular_values(x):
    a = as_numeric(x)
    if a is None:
        raise ValueError(f"expected a matrix or a vector of singular values, got {kind_of(x)}")
    if a.ndim >= 2:
        return np.linalg.svd(a, compute_uv=False)
    return np.sort(np.abs(a))[::-1]


@comparator("sorted_singular_values")
def sorted_singular_values(got, expected, *, label="singular values", rtol=1e-9, atol=1e-12, top=None) -> Comparison:
    """Compare singular values (of matrices, or given vectors), sorted descending."""
    g, e = _singular_values(got), _singular_values(expected)
    if top is not None:
        g, e = g[: int(top)], e[: int(top)]
    return array_close(g, e, float(rtol), float(atol), label)


@comparator("sign_invariant_columns")
def sign_invariant_columns(got, expected, *, label="columns", rtol=1e-6, atol=1e-9) -> Comparison:
    """Matrices equal up to the sign of each column (singular vectors)."""
    g, e = as_numeric(got), as_numeric(expected)
    if g is None or g.shape != e.shape:
        return Comparison.plain(False, 0.0, f"{label}: wrong shape: got "
                                f"{np.shape(g) if g is not None else kind_of(got)}, expected {e.shape}")
    signs = np.sign(np.sum(g * e, axis=0))
    signs[signs == 0] = 1
    return array_close(g * signs, e, float(rtol), float(atol), label + " (up to column signs)")


@comparator("set_of_points")
def set_of_points(got, expected, *, label="points", atol=1e-6) -> Comparison:
    """Same set of points in any order (fixed points), each within ``atol``."""
    g, e = as_numeric(got), as_numeric(expected)
    if g is None:
        return Comparison.plain(False, 0.0, f"{label}: expected a list of points, got {kind_of(got)}")
    g, e = np.atleast_2d(g), np.atleast_2d(e)
    if e.shape[0] == 1 and g.shape[0] > 1 and e.shape[1] == 1:
        e = e.T
    if g.shape[0] != e.shape[0] and g.T.shape == e.shape:
        g = g.T
    if g.shape[-1] != e.shape[-1]:
        return Comparison.plain(False, 0.0, f"{label}: points of dimension {g.shape[-1]}, expected {e.shape[-1]}")
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
        return Comparison.plain(True, 1.0, f"{label}: all {e.shape[0]} points found")
    parts, words = [], []
    if unmatched:
        parts.append(f"missing {len(unmatched)} of {e.shape[0]} (e.g. {np.round(unmatched[0], 6).tolist()})")
        words.append(f"missing {len(unmatched)} of {e.shape[0]}")
    if extra:
        parts.append(f"{extra} extra point(s)")
        words.append(f"{extra} extra point(s)")
    return Comparison(False, 0.0, f"{label}: " + ", ".join(parts), hint=f"{label}: " + ", ".join(words))


@comparator("curve")
def curve(got, expected, *, label="curve", rtol=1e-9, atol=1e-12, allow_missing_first=False) -> Comparison:
    """Trajectories (also inside dicts/tuples, e.g. training curves).

    With ``allow_missing_first`` a curve without its t = 0 row is accepted too.
    """
    def leaf(g_, e_, rtol_, atol_, label_):
        g, e = as_numeric(g_), as_numeric(e_)
        if g is not None and allow_missing_first and g.ndim >= 1 and e.ndim >= 1 and g.shape[0] == e.shape[0] - 1:
            res = array_close(g, e[1:], rtol_, atol_, label_)
            note = " (rows without t = 0 accepted)" if res.passed else ""
            return Comparison(res.passed, res.fraction, res.message + note, res.evidence, res.hint + note)
        return array_close(g_, e_, rtol_, atol_, label_)

    return tree_close(got, expected, float(rtol), float(atol), label, leaf)


@comparator("band", expects="band")
def band(got, expected, *, label="value", low=None, high=None) -> Comparison:
    """Every value within the calibrated ``[low, high]`` (from ``expected.band``)."""
    lo, hi = (low, high) if low is not None else tuple(expected)
    g = as_numeric(got)
    if g is None:
        return Comparison.plain(False, 0.0, f"{label}: expected a number, got {kind_of(got)}")
    if g.size == 0:  # np.all over nothing is True: an empty answer must not pass
        return Comparison(False, 0.0, f"{label}: an empty array, expected values within [{fmt(lo)}, {fmt(hi)}]",
                          ("empty",), f"{label}: an empty array")
    inside = np.isfinite(g) & (g >= lo) & (g <= hi)
    ok = bool(np.all(inside))
    shown = fmt(g.item()) if g.ndim == 0 else np.array2string(g, precision=4, threshold=6)
    msg = f"{label} = {shown}, expected within [{fmt(lo)}, {fmt(hi)}]"
    if ok:
        return Comparison(True, 1.0, msg, hint=f"{label} is within the range a right answer gives")
    idx = tuple(int(i) for i in np.argwhere(~inside)[0])
    off = f"{fmt(g[idx])} {_off_band(float(g[idx]), lo, hi)}"
    if g.ndim == 0:
        return Comparison(False, 0.0, msg, hint=f"{label} = {off}")
    return Comparison(False, 0.0, msg, hint=f"{label}: {int((~inside).sum())} of {g.size} values are outside "
                                            f"the range a right answer gives; at {list(idx)}, {off}")


def _off_band(x: float, lo: float, hi: float) -> str:
    """How ``x`` is off a band, in words: against its middle, or only the direction when 0 is in the band."""
    if not np.isfinite(x):
        return relative(x, 1.0)
    if lo <= 0 <= hi:
        return "is too large" if x > hi else "is too small"
    return relative(x, (lo + hi) / 2)


@comparator("monotone", expects="nothing")
def monotone(got, expected, *, label="sequence", direction="decreasing", strict=False, tol=0.0) -> Comparison:
    """The returned sequence is monotone (``expected`` is not used)."""
    g = as_numeric(got)
    if g is None or g.ndim != 1 or g.size < 2:
        return Comparison.plain(False, 0.0, f"{label}: expected a 1-d sequence, got {kind_of(got)}",
                                ("not_sequence",))
    d = np.diff(g) * (1 if direction == "increasing" else -1)
    ok = bool(np.all(d > tol) if strict else np.all(d >= -tol))
    if ok:
        return Comparison.plain(True, 1.0, f"{label} is {direction}")
    i = int(np.argmin(d))  # the student's own values: nothing of an answer key
    return Comparison.plain(False, 0.0, f"{label} is not {direction}: step {i} goes from {fmt(g[i])} to "
                                        f"{fmt(g[i + 1])}", ("step", i))


@comparator("ordering")
def ordering(got, expected, *, label="order") -> Comparison:
    """Same ranking of the values (argsort) as the expectation."""
    g, e = as_numeric(got), as_numeric(expected)
    if g is None or g.shape != e.shape:
        return Comparison.plain(False, 0.0, f"{label}: expected {e.shape} values, got {kind_of(got)}")
    og, oe = np.argsort(g, kind="stable"), np.argsort(e, kind="stable")
    ok = bool(np.array_equal(og, oe))
    if ok:
        return Comparison(True, 1.0, f"{label}: ranking {og.tolist()}", hint=f"{label}: the ranking is right")
    return Comparison(False, 0.0, f"{label}: ranking {og.tolist()}, expected {oe.tolist()}",
                      hint=f"{label}: ranking {og.tolist()} is not the expected order")


@comparator("predicate", expects="nothing")
def predicate(got, expected, *, label="result", name, **params) -> Comparison:
    """A named property (:mod:`grader.judge.predicates`) of the returned value.

    A predicate judges the student's value alone against the rubric's parameters (the task as stated), so its
    sentence is its own hint unless it gives one.
    """
    res = PREDICATES[name](got, expected, label=label, **params)
    return res if res.hint else Comparison(res.passed, res.fraction, res.message, res.evidence, res.message)

"""Named transforms (trusted side): map a returned value to the quantity compared.

The same transform is applied to the reference's value. Add one when an item
needs a quantity no comparator extracts; rubrics name them
(``transform: {kind: log_slope}``).
"""
from __future__ import annotations

import numpy as np

from grader.judge.numeric import as_numeric
from grader.judge.registry import TRANSFORMS, transform
from grader.values import select


def apply_transform(kind: str, value, **params):
    return TRANSFORMS[kind](value, **params)


def num(value):
    """``value`` as a float array; ValueError when it is not numeric data."""
    a = as_numeric(value)
    if a is None:
        raise ValueError("expected numbers")
    return a


def module_dict(value) -> dict:
    """A returned ``nn.Module`` (as the wire encodes it); ValueError otherwise."""
    if not isinstance(value, dict) or "__module__" not in value:
        raise ValueError("expected a torch nn.Module")
    return value


@transform("last")
def last(value):
    """The last element (of a 1-d sequence) or last row."""
    return num(value)[-1]


@transform("tail_mean")
def tail_mean(value, n=5):
    """Mean of the last ``n`` entries along the first axis."""
    return float(np.mean(num(value)[-int(n):]))


@transform("mean")
def mean(value):
    return float(np.mean(num(value)))


@transform("std")
def std(value):
    """Sample standard deviation (ddof=1) of all entries."""
    return float(np.std(num(value), ddof=1))


@transform("stds")
def stds(value):
    """Per-entry sample std of each array of a tuple/list (e.g. ``(W1, W2, W3)``)."""
    return np.array([np.std(num(v), ddof=1) for v in value])


@transform("shapes")
def shapes(value):
    """The shapes of each array of a tuple/list, as a list of lists."""
    return [list(np.shape(num(v))) for v in value]


@transform("log_slope")
def log_slope(value, skip=0, skip_last=0):
    """Least-squares slope of ``log(value[l])`` against ``l`` (per-layer growth rate).

    ``skip`` first and ``skip_last`` last entries are left out of the fit.
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero entry: no slope, said as nan, not a warning
        y = np.log(np.abs(num(value)).ravel())
    y = y[int(skip): len(y) - int(skip_last)]
    if len(y) < 2 or not np.all(np.isfinite(y)):
        return float("nan")
    x = np.arange(len(y), dtype=float)
    return float(np.polyfit(x, y, 1)[0])


@transform("abs")
def absolute(value):
    return np.abs(num(value))


@transform("norm")
def norm(value):
    """Frobenius / Euclidean norm."""
    return float(np.linalg.norm(num(value)))


@transform("difference")
def difference(value, a, b):
    """``value[a] - value[b]`` (keys or indices), e.g. the overfitting gap."""
    return num(select(value, a)) - num(select(value, b))


@transform("singular_values")
def singular_values(value, top=None):
    s = np.linalg.svd(num(value), compute_uv=False)
    return s if top is None else s[: int(top)]


@transform("module_layers")
def module_layers(value):
    """A returned ``nn.Module`` as its leaf layers ``[[type, weight shape], ...]`` in order."""
    return [[leaf["type"], leaf.get("weight")] for leaf in module_dict(value)["leaves"]]


@transform("param_shapes")
def param_shapes(value):
    """A returned ``nn.Module`` as the shapes of its parameters, in registration order."""
    return [list(np.shape(p)) for p in module_dict(value)["params"].values()]


@transform("param_summary")
def param_summary(value):
    """A returned ``nn.Module`` as ``{count, shapes}``: its number of parameter entries and the shapes of
    its parameters, sorted (a multiset: the order in which the layers were created does not matter)."""
    arrays = [np.asarray(p) for p in module_dict(value)["params"].values()]
    return {"count": int(sum(a.size for a in arrays)), "shapes": sorted(list(a.shape) for a in arrays)}


@transform("sorted_by_shape")
def sorted_by_shape(value):
    """A tuple/list of arrays (e.g. the gradients of a module's parameters) sorted by shape, so that
    the parameters' registration order does not matter (a stable sort: equal shapes keep their order)."""
    arrays = [num(v) for v in value]
    return sorted(arrays, key=lambda a: (a.ndim, a.shape))


@transform("max_rel_error")
def max_rel_error(value, target, n=None, row=-1):
    """``max_i |v[i] / target[i] - 1|`` over the first ``n`` entries (default: all of ``target``).

    ``v`` is the value itself (1-d) or its row ``row`` (2-d, default the last:
    e.g. the final epoch of a learning curve). NaN stays NaN (a band then fails).
    """
    v = num(value)
    if v.ndim == 2:
        v = v[int(row)]
    t = np.asarray(target, dtype=float).ravel()
    k = t.size if n is None else int(n)
    if v.ndim != 1 or v.size < k:
        raise ValueError(f"expected at least {k} values, got shape {v.shape}")
    return float(np.max(np.abs(v[:k] / t[:k] - 1.0)))


@transform("rank_correlation")
def rank_correlation(value, missing=-1):
    """Spearman correlation of the values with their positions ``0..n-1``.

    Entries equal to ``missing`` (e.g. -1, "never converged") rank after all
    others; ties share their mean rank. 1 means strictly increasing order.
    A constant sequence gives 0.
    """
    from scipy.stats import rankdata

    v = num(value).ravel().astype(float)
    v = np.where(v == float(missing), np.inf, v)
    r = rankdata(v)  # average ranks for ties, inf ranks last
    if v.size < 2 or np.all(r == r[0]):
        return 0.0
    return float(np.corrcoef(r, np.arange(v.size))[0, 1])

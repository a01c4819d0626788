"""Named transforms and predicates that rubrics may use (trusted side).

A *transform* maps a returned value to the quantity compared (the same
transform is applied to the reference's value). A *predicate* checks a
property of the returned value and returns a :class:`~grader.compare.Comparison`.
Add one here when an item needs a property no comparator expresses; rubrics
name them (``transform: {kind: log_slope}``, ``compare: {kind: predicate,
name: train_loop_pattern}``).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from grader.compare import Comparison, as_numeric
from grader.values import Events

TRANSFORMS: dict[str, Callable] = {}
PREDICATES: dict[str, Callable[..., Comparison]] = {}


def transform(name):
    def register(fn):
        TRANSFORMS[name] = fn
        return fn
    return register


def predicate(name):
    def register(fn):
        PREDICATES[name] = fn
        return fn
    return register


def apply_transform(kind: str, value, **params):
    return TRANSFORMS[kind](value, **params)


def _num(value):
    a = as_numeric(value)
    if a is None:
        raise ValueError("expected numbers")
    return a


# ----------------------------------------------------------------------------
# transforms


@transform("last")
def last(value):
    """The last element (of a 1-d sequence) or last row."""
    return _num(value)[-1]


@transform("tail_mean")
def tail_mean(value, n=5):
    """Mean of the last ``n`` entries along the first axis."""
    return float(np.mean(_num(value)[-int(n):]))


@transform("mean")
def mean(value):
    return float(np.mean(_num(value)))


@transform("std")
def std(value):
    """Sample standard deviation (ddof=1) of all entries."""
    return float(np.std(_num(value), ddof=1))


@transform("stds")
def stds(value):
    """Per-entry sample std of each array of a tuple/list (e.g. ``(W1, W2, W3)``)."""
    return np.array([np.std(_num(v), ddof=1) for v in value])


@transform("shapes")
def shapes(value):
    """The shapes of each array of a tuple/list, as a list of lists."""
    return [list(np.shape(_num(v))) for v in value]


@transform("log_slope")
def log_slope(value, skip=0, skip_last=0):
    """Least-squares slope of ``log(value[l])`` against ``l`` (per-layer growth rate).

    ``skip`` first and ``skip_last`` last entries are left out of the fit.
    """
    y = np.log(np.abs(_num(value)).ravel())
    y = y[int(skip): len(y) - int(skip_last)]
    x = np.arange(len(y), dtype=float)
    return float(np.polyfit(x, y, 1)[0])


@transform("abs")
def absolute(value):
    return np.abs(_num(value))


@transform("norm")
def norm(value):
    """Frobenius / Euclidean norm."""
    return float(np.linalg.norm(_num(value)))


@transform("difference")
def difference(value, a, b):
    """``value[a] - value[b]`` (keys or indices), e.g. the overfitting gap."""
    from grader.values import select

    return _num(select(value, a)) - _num(select(value, b))


@transform("singular_values")
def singular_values(value, top=None):
    s = np.linalg.svd(_num(value), compute_uv=False)
    return s if top is None else s[: int(top)]


@transform("module_layers")
def module_layers(value):
    """A returned ``nn.Module`` as its leaf layers ``[[type, weight shape], ...]`` in order."""
    return [[leaf["type"], leaf.get("weight")] for leaf in _module(value)["leaves"]]


def _module(value):
    if not isinstance(value, dict) or "__module__" not in value:
        raise ValueError("expected a torch nn.Module")
    return value


@transform("param_shapes")
def param_shapes(value):
    """A returned ``nn.Module`` as the shapes of its parameters, in registration order."""
    return [list(np.shape(p)) for p in _module(value)["params"].values()]


@transform("max_rel_error")
def max_rel_error(value, target, n=None, row=-1):
    """``max_i |v[i] / target[i] - 1|`` over the first ``n`` entries (default: all of ``target``).

    ``v`` is the value itself (1-d) or its row ``row`` (2-d, default the last:
    e.g. the final epoch of a learning curve). NaN stays NaN (a band then fails).
    """
    v = _num(value)
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

    v = _num(value).ravel().astype(float)
    v = np.where(v == float(missing), np.inf, v)
    r = rankdata(v)  # average ranks for ties, inf ranks last
    if v.size < 2 or np.all(r == r[0]):
        return 0.0
    return float(np.corrcoef(r, np.arange(v.size))[0, 1])



# ----------------------------------------------------------------------------
# predicates


def _events(value) -> list[dict]:
    if isinstance(value, Events):
        return list(value.events)
    if isinstance(value, (list, tuple)):
        for v in value:
            if isinstance(v, Events):
                return list(v.events)
    if isinstance(value, dict):
        for v in value.values():
            if isinstance(v, Events):
                return list(v.events)
    raise ValueError("no instrumentation log in the result (the rubric must return `events`)")


@predicate("train_loop_pattern")
def train_loop_pattern(got, expected, *, label="training loop", n_epochs, steps_per_epoch,
                       shuffled=False) -> Comparison:
    """A correct SGD loop, read from the instrumented optimizer and loss.

    - there are ``n_epochs * steps_per_epoch`` optimizer steps;
    - before every step the loss was computed and ``backward`` ran;
    - every step applies *fresh* gradients (zeroed since the previous step, by
      ``optimizer.zero_grad()``, ``model.zero_grad()`` or otherwise; gradients
      that accumulate across steps fail);
    - with ``shuffled``, the first two epochs see the same samples in a
      different order.
    Extra loss evaluations (e.g. for a loss record) and extra ``zero_grad``
    calls are fine; the order ``zero_grad`` first or last in the loop body
    does not matter.
    """
    ev = _events(got)
    problems = []
    steps = [e for e in ev if e["kind"] == "step"]
    expected_steps = int(n_epochs) * int(steps_per_epoch)
    if len(steps) != expected_steps:
        problems.append(f"{len(steps)} optimizer steps, expected {expected_steps} "
                        f"({n_epochs} epochs x {steps_per_epoch} per epoch)")
    since, bad_order, stale, k = [], None, None, 0
    for e in ev:
        if e["kind"] != "step":
            since.append(e["kind"])
            continue
        if bad_order is None and ("backward" not in since or "loss" not in since[: since.index("backward")]):
            bad_order = (k, since)
        if stale is None and not e.get("fresh", True):
            stale = k
        since, k = [], k + 1
    if bad_order is not None:
        k, seen = bad_order
        problems.append(f"step {k} came after {' -> '.join(seen) or 'nothing'}; every step needs the loss "
                        "and its backward() first")
    if stale is not None:
        problems.append(f"step {stale} applied accumulated gradients: zero them every step "
                        "(optimizer.zero_grad()), or gradients from earlier samples keep adding up")
    if shuffled and not problems:
        targets, last = [], None  # the samples trained on: the loss each backward() came from
        for e in ev:
            if e["kind"] == "loss":
                last = e.get("target")
            elif e["kind"] == "backward":
                targets.append(last)
        per = int(steps_per_epoch)
        if len(targets) >= 2 * per:
            e1, e2 = targets[:per], targets[per:2 * per]
            if e1 == e2:
                problems.append("the first two epochs visited the samples in the same order (no shuffling)")
            elif sorted(e1) != sorted(e2):
                problems.append("the first two epochs did not visit the same samples")
    if problems:
        return Comparison(False, 0.0, f"{label}: " + "; ".join(problems))
    return Comparison(True, 1.0, f"{label}: {len(steps)} steps, each after loss and backward() with fresh "
                                 "gradients" + (", samples shuffled each epoch" if shuffled else ""))


@predicate("decreases")
def decreases(got, expected, *, label="loss", factor=1.0, select_key=None) -> Comparison:
    """The last value is below ``factor`` times the first (e.g. the loss fell)."""
    from grader.values import select

    v = _num(select(got, select_key) if select_key is not None else got).ravel()
    if not np.all(np.isfinite(v)):
        return Comparison(False, 0.0, f"{label}: contains NaN or inf")
    ok = bool(v[-1] < float(factor) * v[0])
    return Comparison(ok, float(ok), f"{label} went from {v[0]:.4g} to {v[-1]:.4g}"
                      + ("" if ok else f" (expected below {float(factor) * v[0]:.4g})"))


@predicate("forward_matches_weights")
def forward_matches_weights(got, expected, *, label="network", activation="linear", rtol=1e-4, atol=1e-5,
                            bias_free=True) -> Comparison:
    """``got = [module, output]``: ``output`` (the module applied to the identity input)
    equals the forward pass recomputed here from the module's own parameters.

    Parameters are taken in registration order as the layers' weight
    matrices ``W_k`` (shape ``(out, in)``); ``h = I``, ``h <- act(h W_k^T)``
    for every layer but the last, ``out = h W_L^T`` (``activation``:
    ``linear`` or ``relu``; no activation after the last layer). With
    ``bias_free`` a parameter that is not a matrix is an error.
    """
    if not isinstance(got, (list, tuple)) or len(got) != 2:
        return Comparison(False, 0.0, f"{label}: expected [module, output]")
    params = list(_module(got[0])["params"].items())
    out = as_numeric(got[1])
    if out is None:
        return Comparison(False, 0.0, f"{label}: the network's output is not an array")
    not_matrix = [n for n, p in params if np.ndim(p) != 2]
    if bias_free and not_matrix:
        return Comparison(False, 0.0, f"{label}: the layers must be bias-free; found parameters {not_matrix[:3]}")
    ws = [np.asarray(p, dtype=float) for n, p in params if np.ndim(p) == 2]
    if not ws:
        return Comparison(False, 0.0, f"{label}: the network has no weight matrices")
    for k in range(1, len(ws)):
        if ws[k].shape[1] != ws[k - 1].shape[0]:
            return Comparison(False, 0.0, f"{label}: weight {k} has shape {ws[k].shape}, which does not follow "
                                          f"{ws[k - 1].shape} (parameters are read in registration order)")
    act = {"linear": lambda h: h, "relu": lambda h: np.maximum(h, 0.0)}[activation]
    h = np.eye(ws[0].shape[1])
    for w in ws[:-1]:
        h = act(h @ w.T)
    want = h @ ws[-1].T
    if out.shape != want.shape:
        return Comparison(False, 0.0, f"{label}: output shape {out.shape}, expected {want.shape}")
    diff = np.abs(out - want)
    ok = bool(np.all(diff <= atol + rtol * np.abs(want)))
    if ok:
        return Comparison(True, 1.0, f"{label}: equals the {activation} forward pass of its {len(ws)} weight "
                                     f"matrices")
    hint = ""
    if (out >= 0).all() and (want < 0).any():
        hint = " (the output is never negative: is there a ReLU after the output layer?)"
    return Comparison(False, 0.0, f"{label}: differs from the {activation} forward pass of its weights by up to "
                                  f"{float(diff.max()):.3g}{hint}")

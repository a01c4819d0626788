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
    if not isinstance(value, dict) or "__module__" not in value:
        raise ValueError("expected a torch nn.Module")
    return [[leaf["type"], leaf.get("weight")] for leaf in value["leaves"]]


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
                       shuffled=False, order="zero_grad,loss,backward,step") -> Comparison:
    """The canonical SGD loop, read from the instrumented optimizer and loss.

    Every optimisation step is ``zero_grad`` then the loss call then its
    ``backward`` then ``step`` (``order``); there are ``n_epochs *
    steps_per_epoch`` steps; with ``shuffled`` the sequence of targets seen
    differs between the first two epochs while each epoch sees the same set.
    """
    ev = _events(got)
    kinds = [e["kind"] for e in ev]
    want = order.split(",")
    n_steps = kinds.count("step")
    expected_steps = int(n_epochs) * int(steps_per_epoch)
    problems = []
    if n_steps != expected_steps:
        problems.append(f"{n_steps} optimizer steps, expected {expected_steps} "
                        f"({n_epochs} epochs x {steps_per_epoch} per epoch)")
    # split into steps: the events since the previous step, ending in a step
    groups, cur = [], []
    for k in kinds:
        cur.append(k)
        if k == "step":
            groups.append(cur)
            cur = []
    bad = [i for i, g in enumerate(groups) if [k for k in g if k in want] != want]
    if bad:
        g = groups[bad[0]]
        problems.append(f"step {bad[0]} was preceded by {' -> '.join(g)}; expected {' -> '.join(want)}"
                        + (" (zero_grad missing: gradients accumulate)" if "zero_grad" not in g else ""))
    if shuffled and not problems:
        targets = [e.get("target") for e in ev if e["kind"] == "loss"]
        per = int(steps_per_epoch)
        if len(targets) >= 2 * per:
            e1, e2 = targets[:per], targets[per:2 * per]
            if e1 == e2:
                problems.append("the first two epochs visited the samples in the same order (no shuffling)")
            elif sorted(e1) != sorted(e2):
                problems.append("the first two epochs did not visit the same samples")
    if problems:
        return Comparison(False, 0.0, f"{label}: " + "; ".join(problems))
    return Comparison(True, 1.0, f"{label}: {n_steps} steps in the order {' -> '.join(want)}"
                                 + (", samples shuffled each epoch" if shuffled else ""))


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

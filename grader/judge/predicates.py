"""Named predicates (trusted side): a property of the returned value, as a Comparison.

Rubrics name them (``compare: {kind: predicate, name: train_loop_pattern}``).
Each failure carries ``evidence`` (which property failed, and where), so a
known mistake is recognised by what went wrong, not by the sentence.
"""
from __future__ import annotations

import numpy as np

from grader.judge.numeric import Comparison, as_numeric
from grader.judge.registry import predicate
from grader.judge.transforms import module_dict, num
from grader.values import Events, select


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
    problems, evidence = [], []
    steps = [e for e in ev if e["kind"] == "step"]
    expected_steps = int(n_epochs) * int(steps_per_epoch)
    if len(steps) != expected_steps:
        evidence.append(("steps", len(steps)))
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
        evidence.append(("order", k))
        problems.append(f"step {k} came after {' -> '.join(seen) or 'nothing'}; every step needs the loss "
                        "and its backward() first")
    if stale is not None:
        evidence.append(("stale", stale))
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
                evidence.append(("not_shuffled",))
                problems.append("the first two epochs visited the samples in the same order (no shuffling)")
            elif sorted(e1) != sorted(e2):
                evidence.append(("other_samples",))
                problems.append("the first two epochs did not visit the same samples")
    if problems:
        return Comparison(False, 0.0, f"{label}: " + "; ".join(problems), tuple(evidence))
    return Comparison(True, 1.0, f"{label}: {len(steps)} steps, each after loss and backward() with fresh "
                                 "gradients" + (", samples shuffled each epoch" if shuffled else ""))


@predicate("decreases")
def decreases(got, expected, *, label="loss", factor=1.0, select_key=None) -> Comparison:
    """The last value is below ``factor`` times the first (e.g. the loss fell)."""
    v = num(select(got, select_key) if select_key is not None else got).ravel()
    if not np.all(np.isfinite(v)):
        return Comparison(False, 0.0, f"{label}: contains NaN or inf", ("nonfinite",))
    ok = bool(v[-1] < float(factor) * v[0])
    return Comparison(ok, float(ok), f"{label} went from {v[0]:.4g} to {v[-1]:.4g}"
                      + ("" if ok else f" (expected below {float(factor) * v[0]:.4g})"), () if ok else ("not_lower",))


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
        return Comparison(False, 0.0, f"{label}: expected [module, output]", ("structure",))
    params = list(module_dict(got[0])["params"].items())
    out = as_numeric(got[1])
    if out is None:
        return Comparison(False, 0.0, f"{label}: the network's output is not an array", ("structure",))
    not_matrix = [n for n, p in params if np.ndim(p) != 2]
    if bias_free and not_matrix:
        return Comparison(False, 0.0, f"{label}: the layers must be bias-free; found parameters {not_matrix[:3]}",
                          ("bias",))
    ws = [np.asarray(p, dtype=float) for n, p in params if np.ndim(p) == 2]
    if not ws:
        return Comparison(False, 0.0, f"{label}: the network has no weight matrices", ("no_weights",))
    for k in range(1, len(ws)):
        if ws[k].shape[1] != ws[k - 1].shape[0]:
            return Comparison(False, 0.0, f"{label}: weight {k} has shape {ws[k].shape}, which does not follow "
                                          f"{ws[k - 1].shape} (parameters are read in registration order)",
                              ("chain", k))
    act = {"linear": lambda h: h, "relu": lambda h: np.maximum(h, 0.0)}[activation]
    h = np.eye(ws[0].shape[1])
    for w in ws[:-1]:
        h = act(h @ w.T)
    want = h @ ws[-1].T
    if out.shape != want.shape:
        return Comparison(False, 0.0, f"{label}: output shape {out.shape}, expected {want.shape}",
                          ("output_shape", out.shape))
    diff = np.abs(out - want)
    ok = bool(np.all(diff <= atol + rtol * np.abs(want)))
    if ok:
        return Comparison(True, 1.0, f"{label}: equals the {activation} forward pass of its {len(ws)} weight "
                                     f"matrices")
    hint = ""
    if (out >= 0).all() and (want < 0).any():
        hint = " (the output is never negative: is there a ReLU after the output layer?)"
    return Comparison(False, 0.0, f"{label}: differs from the {activation} forward pass of its weights by up to "
                                  f"{float(diff.max()):.3g}{hint}",
                      ("forward", bool(hint)))

"""Named transforms and predicates, checked by hand or against scipy."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from grader.judge import compare
from grader.judge import apply_transform
from grader.values import Events


def _module(ws):
    return {"__module__": "Net", "leaves": [{"name": str(i), "type": "Linear", "weight": list(w.shape), "bias": None}
                                            for i, w in enumerate(ws)],
            "params": {f"{i}.weight": w for i, w in enumerate(ws)}}


def test_log_slope_of_a_zero_entry_is_nan_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(apply_transform("log_slope", np.array([1.0, 0.5, 0.0, 0.125])))
        assert np.isnan(apply_transform("log_slope", np.array([2.0])))
    assert not compare("band", float("nan"), [0.1, 0.2]).passed


def test_log_slope_recovers_a_geometric_rate():
    v = 3.0 * 0.8 ** np.arange(12)
    assert np.isclose(apply_transform("log_slope", v), np.log(0.8))
    assert np.isclose(apply_transform("tail_mean", np.arange(10.0), n=4), 7.5)
    assert np.isclose(apply_transform("std", [1.0, 2.0, 3.0]), 1.0)
    gap = apply_transform("difference", {"train_acc": [0.5, 1.0], "test_acc": [0.4, 0.9]},
                          a=["train_acc", -1], b=["test_acc", -1])
    assert np.isclose(gap, 0.1)


@pytest.mark.parametrize("seed", range(5))
def test_rank_correlation_matches_spearman(seed):
    v = np.random.default_rng(seed).integers(0, 50, size=9).astype(float)
    want = spearmanr(v, np.arange(v.size)).statistic
    assert np.isclose(apply_transform("rank_correlation", v), want)


def test_rank_correlation_puts_never_last():
    assert np.isclose(apply_transform("rank_correlation", [3, 5, -1]), 1.0)
    assert apply_transform("rank_correlation", [4, 4, 4]) == 0.0


def test_max_rel_error():
    curve = np.array([[1.0, 1.0], [2.2, 0.9]])
    assert np.isclose(apply_transform("max_rel_error", curve, target=[2.0, 1.0]), 0.1)
    assert np.isclose(apply_transform("max_rel_error", curve[-1], target=[2.0, 1.0], n=1), 0.1)


def test_forward_matches_weights():
    rng = np.random.default_rng(0)
    ws = [rng.normal(size=(5, 3)), rng.normal(size=(4, 5)), rng.normal(size=(2, 4))]
    lin = ws[2] @ ws[1] @ ws[0]
    relu = np.maximum(np.maximum(np.eye(3) @ ws[0].T, 0) @ ws[1].T, 0) @ ws[2].T
    assert compare("predicate", [_module(ws), lin.T], None, name="forward_matches_weights").passed
    assert compare("predicate", [_module(ws), relu], None, name="forward_matches_weights", activation="relu").passed
    bad = compare("predicate", [_module(ws), np.maximum(relu, 0)], None, name="forward_matches_weights",
                  activation="relu")
    assert not bad.passed and ("ReLU after the output layer" in bad.message or np.all(relu >= 0))
    assert apply_transform("param_shapes", _module(ws)) == [[5, 3], [4, 5], [2, 4]]


def test_decreases_and_events_required():
    assert compare("predicate", [3.0, 2.0, 1.0], None, name="decreases", factor=0.5).passed
    assert not compare("predicate", [3.0, 2.0, 2.0], None, name="decreases", factor=0.5).passed
    c = compare("predicate", [1, 2], None, name="train_loop_pattern", n_epochs=1, steps_per_epoch=1)
    assert not c.passed and "instrumentation log" in c.message
    ev = Events(({"kind": "loss", "target": 1.0}, {"kind": "backward"}, {"kind": "step", "fresh": True}))
    assert compare("predicate", ev, None, name="train_loop_pattern", n_epochs=1, steps_per_epoch=1).passed

"""Reference of assignment B1-B7 (backprop on MNIST 7 vs 9), checked independently.

Gradients against central finite differences and torch autograd, training
against a plain loop written here, the sheet's 5000-iteration anchor (slow).
"""
from __future__ import annotations

import numpy as np
import pytest

from reference import backprop as bp
from reference.data import load_mnist_sevens_nines
from reference.mistakes import backprop as mb
from reference.mistakes import mistakes_in


@pytest.fixture(scope="module")
def mnist():
    return load_mnist_sevens_nines()


@pytest.fixture(scope="module")
def small(mnist):
    """60 training examples (30 per class) and 20 test examples."""
    Xtr = np.ascontiguousarray(mnist["X_train"][:, ::30])
    Ytr = np.ascontiguousarray(mnist["y_train"][:, ::30])
    Xte = np.ascontiguousarray(mnist["X_test"][:, ::10])
    Yte = np.ascontiguousarray(mnist["y_test"][:, ::10])
    return Xtr, Ytr, Xte, Yte


def _weights(seed, n_h1=50, n_h2=50, scale=0.1):
    r = np.random.default_rng(seed)
    return (scale * r.standard_normal((n_h1, 784)), scale * r.standard_normal((n_h2, n_h1)),
            scale * r.standard_normal((1, n_h2)))


def _plain_loss(W, X, Y):
    W1, W2, W3 = W
    yhat = W3 @ np.maximum(W2 @ np.maximum(W1 @ X, 0), 0)
    return 0.5 * np.sum((Y - yhat) ** 2)


# --- B1 ------------------------------------------------------------------

def test_relu_and_relu_prime_by_hand():
    u = np.array([[-2.0, -0.0, 0.0, 1e-300, 3.5]])
    np.testing.assert_array_equal(bp.relu(u), [[0.0, 0.0, 0.0, 1e-300, 3.5]])
    np.testing.assert_array_equal(bp.relu_prime(u), [[0.0, 0.0, 0.0, 1.0, 1.0]])
    assert bp.relu_prime(np.array(0.0)) == 0.0
    assert bp.relu_prime(u).dtype == np.float64


def test_relu_prime_same_on_pre_and_post_activation():
    u = np.random.default_rng(0).standard_normal((5, 7))
    np.testing.assert_array_equal(bp.relu_prime(bp.relu(u)), bp.relu_prime(u))


# --- B2 ------------------------------------------------------------------

def test_init_weights_shapes_scale_and_order():
    W1, W2, W3 = bp.init_weights(30, 20, 0.01, np.random.default_rng(3))
    assert (W1.shape, W2.shape, W3.shape) == ((30, 784), (20, 30), (1, 20))
    assert abs(W1.std() / 0.01 - 1) < 0.02  # 23520 draws: sample std within 2%
    r = np.random.default_rng(3)
    np.testing.assert_array_equal(W1, 0.01 * r.standard_normal((30, 784)))
    np.testing.assert_array_equal(W2, 0.01 * r.standard_normal((20, 30)))
    np.testing.assert_array_equal(W3, 0.01 * r.standard_normal((1, 20)))


# --- B3 ------------------------------------------------------------------

def test_forward_by_hand():
    W1 = np.zeros((2, 784)); W1[0, 0] = 1.0; W1[1, 1] = -1.0
    W2 = np.array([[1.0, 1.0], [2.0, -1.0]])
    W3 = np.array([[1.0, -0.5]])
    X = np.zeros((784, 2)); X[0] = [2.0, -1.0]; X[1] = [-3.0, 1.0]
    h1, h2, yhat = bp.forward(W1, W2, W3, X)
    np.testing.assert_array_equal(h1, [[2.0, 0.0], [3.0, 0.0]])
    np.testing.assert_array_equal(h2, [[5.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(yhat, [[4.5, 0.0]])


def test_forward_shapes_on_mnist(small):
    X = small[0]
    h1, h2, yhat = bp.forward(*_weights(0, 40, 30), X)
    assert h1.shape == (40, 60) and h2.shape == (30, 60) and yhat.shape == (1, 60)
    assert h1.min() >= 0 and h2.min() >= 0 and yhat.min() < 0 < yhat.max()


# --- B4 ------------------------------------------------------------------

def test_gradients_match_central_finite_differences(small):
    X, Y = small[0][:, :12], small[1][:, :12]
    W = _weights(1, 7, 5, scale=0.3)
    grads = bp.gradients(*W, X, Y)
    rng = np.random.default_rng(2)
    eps = 1e-6
    for layer, (Wl, gl) in enumerate(zip(W, grads)):
        assert gl.shape == Wl.shape
        flat = rng.choice(Wl.size, size=min(15, Wl.size), replace=False)
        for f in flat:
            idx = np.unravel_index(f, Wl.shape)
            Wp = [w.copy() for w in W]
            Wm = [w.copy() for w in W]
            Wp[layer][idx] += eps
            Wm[layer][idx] -= eps
            fd = (_plain_loss(Wp, X, Y) - _plain_loss(Wm, X, Y)) / (2 * eps)
            assert abs(fd - gl[idx]) <= 1e-6 * max(1.0, abs(fd)), (layer, idx, fd, gl[idx])


def test_gradients_match_torch_autograd(small):
    torch = pytest.importorskip("torch")
    X, Y = small[0], small[1]
    W = _weights(4)
    Wt = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in W]
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    yhat = Wt[2] @ torch.relu(Wt[1] @ torch.relu(Wt[0] @ Xt))
    L = 0.5 * ((Yt - yhat) ** 2).sum()
    L.backward()
    for g, wt in zip(bp.gradients(*W, X, Y), Wt):
        np.testing.assert_allclose(g, wt.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert bp.loss(*W, X, Y) == pytest.approx(L.item(), rel=1e-12)


def test_gradients_is_gradient_not_update(small):
    X, Y = small[0], small[1]
    W = _weights(5)
    g = bp.gradients(*W, X, Y)
    stepped = [w - 1e-4 * gi for w, gi in zip(W, g)]
    assert bp.loss(*stepped, X, Y) < bp.loss(*W, X, Y)


# --- B5 ------------------------------------------------------------------

def test_loss_and_accuracy_by_hand():
    W1 = np.zeros((1, 784)); W1[0, 0] = 1.0
    W2, W3 = np.ones((1, 1)), np.array([[2.0]])
    X = np.zeros((784, 3)); X[0] = [1.0, -1.0, 0.5]
    Y = np.array([[1.0, -1.0, 1.0]])
    # yhat = [2, 0, 1] -> L = 1/2 (1 + 1 + 0) = 1
    assert bp.loss(W1, W2, W3, X, Y) == 1.0
    assert bp.accuracy(np.array([[2.0, 0.0, 1.0]]), Y) == pytest.approx(2 / 3)
    assert bp.accuracy(np.array([[-0.1, -5.0, 1e-9, 3.0]]), np.array([[1, -1, 1, -1]])) == 0.5
    assert isinstance(bp.accuracy(Y, Y), float) and bp.accuracy(Y, Y) == 1.0


# --- B6 ------------------------------------------------------------------

def _plain_train(Xtr, Ytr, Xte, Yte, W, lr, n_iter):
    W = [w.copy() for w in W]
    out = {k: [] for k in ("train_loss", "test_loss", "train_acc", "test_acc")}
    for k in range(n_iter + 1):
        for X, Y, name in ((Xtr, Ytr, "train"), (Xte, Yte, "test")):
            u1 = W[0] @ X; h1 = np.maximum(u1, 0)
            u2 = W[1] @ h1; h2 = np.maximum(u2, 0)
            yhat = W[2] @ h2
            out[name + "_loss"].append(0.5 * np.sum((Y - yhat) ** 2))
            out[name + "_acc"].append(np.mean(np.sign(yhat) == Y))
            if name == "train":
                e = yhat - Y
                d2 = (W[2].T @ e) * (u2 > 0)
                d1 = (W[1].T @ d2) * (u1 > 0)
                g = [d1 @ X.T, d2 @ h1.T, e @ h2.T]
        if k < n_iter:
            W = [w - lr * gi for w, gi in zip(W, g)]
    return {k: np.array(v) for k, v in out.items()}


def test_train_matches_plain_loop_and_leaves_weights_alone(small):
    W = _weights(6, scale=0.1)
    before = [w.copy() for w in W]
    lr = 0.1 / small[0].shape[1]
    got = bp.train(*small, W, lr, 25)
    want = _plain_train(*small, W, lr, 25)
    for k in want:
        assert got[k].shape == (26,)
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12, err_msg=k)
    for w, b in zip(W, before):
        np.testing.assert_array_equal(w, b)
    assert got["train_loss"][0] == bp.loss(*W, small[0], small[1])


def _per_example_train(Xtr, Ytr, Xte, Yte, W, lr, n_iter):
    """B6 as the sheet also allows it: a for loop over the examples, for the gradient and the curves."""
    W = [np.array(w, dtype=float) for w in W]
    out = {k: np.zeros(n_iter + 1) for k in ("train_loss", "test_loss", "train_acc", "test_acc")}
    for k in range(n_iter + 1):
        for X, Y, name in ((Xtr, Ytr, "train"), (Xte, Yte, "test")):
            for m in range(X.shape[1]):
                yhat = W[2] @ np.maximum(W[1] @ np.maximum(W[0] @ X[:, m], 0), 0)
                out[name + "_loss"][k] += 0.5 * float(np.sum((Y[:, m] - yhat) ** 2))
                out[name + "_acc"][k] += float(np.sign(yhat[0]) == Y[0, m]) / X.shape[1]
        if k == n_iter:
            break
        g = [np.zeros_like(w) for w in W]
        for m in range(Xtr.shape[1]):
            x = Xtr[:, m]
            u1 = W[0] @ x; h1 = np.maximum(u1, 0)
            u2 = W[1] @ h1; h2 = np.maximum(u2, 0)
            e = W[2] @ h2 - Ytr[:, m]
            d2 = (W[2].T @ e) * (u2 > 0)
            g[0] += np.outer((W[1].T @ d2) * (u1 > 0), x); g[1] += np.outer(d2, h1); g[2] += np.outer(e, h2)
        W = [w - lr * gi for w, gi in zip(W, g)]
    return out


def test_a_per_example_loop_is_within_the_rubric_tolerance(small):
    """The sheet allows "a simple for loop" for B6: it agrees far inside B6's rtol 1e-6, atol 1e-9."""
    W = _weights(12, scale=0.1)
    lr = 0.1 / small[0].shape[1]
    got = _per_example_train(*small, W, lr, 15)
    want = bp.train(*small, W, lr, 15)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-12, err_msg=k)


def test_a_notebook_without_train_with_scale_gets_full_marks_on_b6(tmp_path):
    """train_with_scale is given code: a student who wrote train (and init_weights) as asked loses nothing,
    and a per-example-loop train scores the same."""
    import inspect

    from grader.authoring.mutants import reference_source
    from grader.model import Options
    from grader.pipeline import grade_file
    from grader.rubric import get_rubric
    from helpers import replace_function

    rubric = get_rubric("backprop")
    src = replace_function(reference_source(rubric), "train_with_scale", "")
    assert "def train_with_scale" not in src
    loop = inspect.getsource(_per_example_train).replace("def _per_example_train(Xtr", "def train(Xtr")
    for name, text in (("no_helper", src), ("per_example_loop", replace_function(src, "train", loop))):
        (tmp_path / f"{name}.py").write_text(text)
        res = grade_file(tmp_path / f"{name}.py", rubric, opts=Options(items=("B6",)))
        b6 = next(i for i in res.items if i.item_id == "B6")
        assert b6.points == rubric.item("B6").points, (name, b6.message)


def test_train_loss_decreases(small):
    out = bp.train(*small, _weights(7, scale=0.1), 0.1 / small[0].shape[1], 40)
    assert out["train_loss"][-1] < 0.5 * out["train_loss"][0]
    assert np.all(np.diff(out["train_loss"][:10]) < 0)


def test_train_zero_iterations(small):
    out = bp.train(*small, _weights(8), 0.01, 0)
    assert all(v.shape == (1,) for v in out.values())


def test_train_with_scale_is_init_then_train_at_sheet_lr(small):
    got = bp.train_with_scale(*small, 0.1, np.random.default_rng(9), n_iter=5)
    W = bp.init_weights(50, 50, 0.1, np.random.default_rng(9))
    want = bp.train(*small, W, 0.1 / 60, 5)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])


# --- B7 ------------------------------------------------------------------

def test_best_stopping_iteration():
    assert bp.best_stopping_iteration(np.array([5.0, 4.0, 3.0, 3.5, 2.9, 3.1])) == 4
    assert bp.best_stopping_iteration([3.0, 2.0, 2.0, 5.0]) == 1
    assert isinstance(bp.best_stopping_iteration([1.0]), int)


# --- mutants -------------------------------------------------------------

def test_mutants_registered_and_wrong(small):
    found = {m.name: m for m in mistakes_in(mb)}
    assert set(found) == {
        "relu_prime__step_at_zero", "init_weights__scale_as_variance",
        "gradients__sign_flipped", "gradients__mean_instead_of_sum",
        "gradients__relu_derivative_wrong_layer", "accuracy__count_not_fraction",
        "train__step_divided_by_P", "train__records_after_update",
        "_notebook_figure_b12_curves__no_accuracy", "_notebook_figure_b12_curves__no_curves"}  # B12's figure
    for m in found.values():
        assert m.name.startswith(m.replaces + "__") and hasattr(bp, m.replaces)
    X, Y = small[0], small[1]
    W = _weights(10)
    ref = bp.gradients(*W, X, Y)
    for name in ("gradients__sign_flipped", "gradients__mean_instead_of_sum",
                 "gradients__relu_derivative_wrong_layer"):
        bad = found[name].func(*W, X, Y)
        assert not all(np.allclose(b, r, rtol=1e-6) for b, r in zip(bad, ref)), name
    u = np.array([-1.0, 0.0, 2.0])
    assert not np.array_equal(mb.relu_prime__step_at_zero(u), bp.relu_prime(u))
    Wv = mb.init_weights__scale_as_variance(50, 50, 0.01, np.random.default_rng(0))
    assert Wv[0].std() > 5 * 0.01
    yhat = np.array([[1.0, -1.0, 1.0]])
    assert mb.accuracy__count_not_fraction(yhat, np.ones((1, 3))) == 2.0
    # a step divided by P again: the same as the reference with lr / P, whatever P is
    for stride in (30, 90):
        data = [np.ascontiguousarray(a[:, ::stride // 30]) for a in small[:2]] + list(small[2:])
        P = data[0].shape[1]
        bad = mb.train__step_divided_by_P(*data, W, 0.1 / P, 8)
        want = _plain_train(*data, W, 0.1 / P**2, 8)
        for k in want:
            np.testing.assert_allclose(bad[k], want[k], rtol=1e-10, atol=1e-12)
        assert not np.allclose(bad["train_loss"], bp.train(*data, W, 0.1 / P, 8)["train_loss"], rtol=1e-6)
    # curves recorded after each update: one step late
    late = mb.train__records_after_update(*small, W, 0.1 / 60, 6)
    ref = bp.train(*small, W, 0.1 / 60, 7)
    for k in ref:
        np.testing.assert_allclose(late[k], ref[k][1:], rtol=1e-10, atol=1e-12)


# --- figures -------------------------------------------------------------

def test_learning_curves_figure(small, tmp_path):
    from matplotlib.figure import Figure

    from reference.figures.backprop import learning_curves_figure

    out = bp.train(*small, _weights(11), 0.1 / 60, 5)
    fig = learning_curves_figure({"a": out, "b": out}, n_train=60, n_test=20,
                                 path=tmp_path / "c.png")
    assert isinstance(fig, Figure) and (tmp_path / "c.png").stat().st_size > 1000
    assert isinstance(learning_curves_figure(out), Figure)


def test_make_reference_figures_short(tmp_path):
    from reference.figures.backprop import make_reference_figures

    paths = make_reference_figures(tmp_path / "figs", n_iter=3)
    assert set(paths) == {"phase_portrait", "learning_curves", "balanced_error", "initial_gradients"}
    assert all(p.stat().st_size > 1000 for p in paths.values())


def test_sheet_runs_are_train_with_scale_from_seed_each_and_remembered(monkeypatch):
    """The report's figure and B12's key figure share one pair of runs: each scale from default_rng(seed),
    trained once for the same data, n_iter and seed; a caller's edit never reaches the next caller."""
    rng = np.random.default_rng(1)
    X, Y = rng.random((784, 12)), np.where(rng.random((1, 12)) < 0.5, -1.0, 1.0)
    data = (X, Y, X[:, :4], Y[:, :4])
    runs = bp._sheet_runs(*data, n_iter=3, seed=0)
    assert set(runs) == {"scale 0.01", "scale 0.1"}
    for s in bp.WEIGHT_SCALES:
        direct = bp.train_with_scale(*data, s, np.random.default_rng(0), n_iter=3)
        assert set(direct) == set(runs[f"scale {s:g}"])
        for k, v in direct.items():
            np.testing.assert_array_equal(runs[f"scale {s:g}"][k], v)
    first = runs["scale 0.1"]["train_loss"].copy()
    runs["scale 0.1"]["train_loss"][:] = -1.0
    calls = []
    monkeypatch.setattr(bp, "train_with_scale", lambda *a, **k: calls.append(a))
    again = bp._sheet_runs(*(a.copy() for a in data), n_iter=3, seed=0)  # equal arrays, other objects
    assert calls == []
    np.testing.assert_array_equal(again["scale 0.1"]["train_loss"], first)
    monkeypatch.undo()
    longer = bp._sheet_runs(*data, n_iter=4, seed=0)["scale 0.1"]["train_loss"]  # trained afresh, same start
    assert len(longer) == 5 and np.array_equal(longer[:4], first)
    assert not np.array_equal(bp._sheet_runs(*data, n_iter=3, seed=1)["scale 0.1"]["train_loss"], first)
    other = bp._sheet_runs(X * 0.5, *data[1:], n_iter=3, seed=0)
    assert not np.array_equal(other["scale 0.1"]["train_loss"], first)


# --- the sheet's experiment (slow) ---------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("scale, test_acc, test_loss", [(0.01, 0.995, 4.1), (0.1, 0.975, 8.5)])
def test_sheet_anchor_5000_iterations(mnist, scale, test_acc, test_loss):
    """Catalogue B6 note: seed 0, lr = 0.1/P, 50/50 hidden units, 5000 iterations."""
    out = bp.train_with_scale(mnist["X_train"], mnist["y_train"], mnist["X_test"], mnist["y_test"],
                              scale, np.random.default_rng(0), n_iter=5000)
    assert out["train_acc"][-1] == 1.0
    assert out["test_acc"][-1] == pytest.approx(test_acc, abs=0.0051)  # within one example
    assert out["test_loss"][-1] == pytest.approx(test_loss, abs=0.1)
    assert np.isfinite(out["train_loss"]).all() and out["train_loss"][-1] < 5.0


def test_docstring_examples():
    import doctest

    import reference.data

    for mod in (bp, reference.data):
        res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0 and res.attempted > 0, mod.__name__

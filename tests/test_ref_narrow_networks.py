"""Independent checks of reference/narrow_networks.py (assignment C, items C6-C10).

Gradients against finite differences and torch autograd, training loops
against hand-written gradient descent, the stable learning rate against the
Hessian from autograd and against a bisection of gradient descent itself,
the regression against ``numpy.linalg.lstsq``, the SVD against the network's
own input-output map.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from reference import narrow_networks as nn_ref

torch.set_num_threads(1)

X_CLEAN, Y_CLEAN = nn_ref.gen_samples(100, 2.0, 0.0)


def central_diff(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


# --- data helper -------------------------------------------------------------
def test_gen_samples():
    x, y = nn_ref.gen_samples(5, 2.0, 0.0)
    np.testing.assert_array_equal(x, np.linspace(0, 1, 5))
    np.testing.assert_array_equal(y, 2 * x)
    x1, y1 = nn_ref.gen_samples(200, 2.0, 0.1)
    x2, y2 = nn_ref.gen_samples(200, 2.0, 0.1)
    np.testing.assert_array_equal(y1, y2)  # default rng is seeded
    assert 0 <= x1.min() and x1.max() < 1
    assert np.std(y1 - 2 * x1) == pytest.approx(0.1, rel=0.15)
    x3, _ = nn_ref.gen_samples(200, 2.0, 0.1, rng=np.random.default_rng(5))
    assert not np.array_equal(x1, x3)


# --- C6 ----------------------------------------------------------------------
def test_loss_is_mse():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 1.0])
    assert nn_ref.loss(a, b) == pytest.approx((0.25 + 0 + 4) / 3)


def test_shallow_dloss_dw_matches_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.random(40)
    y = 2 * x + rng.normal(0, 0.2, 40)
    for w1, w2 in [(1.4, -1.6), (0.3, 0.7), (-2.0, 0.1)]:
        net = nn_ref.ShallowNarrowExercise([w1, w2])
        g1, g2 = net.dloss_dw(x, y)
        fd1 = central_diff(lambda t, w2=w2: np.mean((y - t * w2 * x) ** 2), w1)
        fd2 = central_diff(lambda t, w1=w1: np.mean((y - w1 * t * x) ** 2), w2)
        assert g1 == pytest.approx(fd1, rel=1e-7, abs=1e-9)
        assert g2 == pytest.approx(fd2, rel=1e-7, abs=1e-9)


def test_shallow_train_is_gradient_descent():
    rng = np.random.default_rng(1)
    x = rng.random(30)
    y = 2 * x + rng.normal(0, 0.2, 30)
    net = nn_ref.ShallowNarrowExercise([1.4, -1.6])
    losses, weights = net.train(x, y, 0.02, 200)
    assert losses.shape == (200,) and weights.shape == (200, 2)
    w1, w2 = 1.4, -1.6
    for i in range(200):
        assert losses[i] == pytest.approx(np.mean((y - w1 * w2 * x) ** 2), rel=1e-12)
        r = y - w1 * w2 * x
        w1, w2 = w1 + 0.02 * np.mean(2 * w2 * x * r), w2 + 0.02 * np.mean(2 * w1 * x * r)
        np.testing.assert_allclose(weights[i], [w1, w2], rtol=1e-12)
    assert (net.w1, net.w2) == tuple(weights[-1])
    assert losses[-1] < losses[0]


def test_loss_landscape_matches_loop():
    x, y = nn_ref.gen_samples(20, 2.0, 0.0)
    w1, w2 = np.meshgrid(np.linspace(-2, 2, 7), np.linspace(-3, 3, 5))
    got = nn_ref.loss_landscape(w1, w2, x, y)
    assert got.shape == (5, 7)
    for i in range(5):
        for j in range(7):
            assert got[i, j] == pytest.approx(nn_ref.loss(w1[i, j] * w2[i, j] * x, y), rel=1e-12)
    # broadcasting: a row of w1 against a column of w2 gives the same grid
    np.testing.assert_allclose(nn_ref.loss_landscape(w1[0], w2[:, :1], x, y), got, rtol=1e-14)


# --- C7 ----------------------------------------------------------------------
def _torch_grad(w, x, y):
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    loss = ((torch.tensor(y) - torch.prod(tw) * torch.tensor(x)) ** 2).mean()
    loss.backward()
    return tw.grad.numpy()


@pytest.mark.parametrize("w", [[0.9, 1.1], [0.9, 1.1, 0.95, 1.05, 1.2], [0.5, 0.0, 2.0, -1.0], [1.3] * 16])
def test_deep_dloss_dw_matches_autograd(w):
    rng = np.random.default_rng(2)
    x = rng.random(25)
    y = 2 * x + rng.normal(0, 0.1, 25)
    net = nn_ref.DeepNarrowLNN(np.array(w))
    np.testing.assert_allclose(net.dloss_dw(x, y), _torch_grad(w, x, y), rtol=1e-12, atol=1e-14)


def test_deep_train_and_init_copy():
    w0 = np.full((1, 6), 0.9)  # the notebook's shape
    net = nn_ref.DeepNarrowLNN(w0)
    losses, weights = net.train(X_CLEAN, Y_CLEAN, 0.01, 50)
    assert np.all(w0 == 0.9)  # caller's array untouched
    assert losses.shape == (50,) and weights.shape == (50, 6)
    w = np.full(6, 0.9)
    for i in range(50):
        assert losses[i] == pytest.approx(np.mean((Y_CLEAN - np.prod(w) * X_CLEAN) ** 2), rel=1e-12)
        w = w - 0.01 * _torch_grad(w, X_CLEAN, Y_CLEAN)
        np.testing.assert_allclose(weights[i], w, rtol=1e-11)
    assert np.all(np.diff(losses) < 0)


def test_learning_time():
    assert nn_ref.learning_time([3.0, 2.0, 1.0, 0.5, 0.2], 1.0) == 2
    assert nn_ref.learning_time([3.0, 2.0], 1.0) == -1
    assert nn_ref.learning_time([np.nan, 0.1], 1.0) == 1
    assert nn_ref.learning_time(np.array([0.5]), 1.0) == 0


def test_depth_learning_times_agree_with_direct_training():
    depths = [0, 2, 10, 30]
    times = nn_ref.depth_learning_times(depths, X_CLEAN, Y_CLEAN, lr=0.01, init_weight=0.9, n_ep=400)
    m_xx, m_xy = np.mean(X_CLEAN**2), np.mean(X_CLEAN * Y_CLEAN)
    thr = np.mean(Y_CLEAN**2) - m_xy**2 / m_xx + 0.01 * m_xy**2 / m_xx
    for d, t in zip(depths, times):
        losses, _ = nn_ref.DeepNarrowLNN(np.full(d + 1, 0.9)).train(X_CLEAN, Y_CLEAN, 0.01, 400)
        hit = np.nonzero(losses <= thr)[0]
        assert t == (hit[0] if hit.size else -1)
    assert times.dtype.kind == "i" and np.all(times > 0)
    assert times[2] < times[0] and times[2] < times[3]  # fastest at moderate depth


def test_depth_learning_times_random_init_reproducible():
    a = nn_ref.depth_learning_times([5, 20], X_CLEAN, Y_CLEAN, init_std=0.05, rng=np.random.default_rng(3))
    b = nn_ref.depth_learning_times([5, 20], X_CLEAN, Y_CLEAN, init_std=0.05, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert np.all(a > 0)


# --- C8 ----------------------------------------------------------------------
def test_lr_regime_rules():
    t = np.arange(50)
    assert nn_ref.lr_regime(0.999**t) == "too_small"
    assert nn_ref.lr_regime(0.98**t) == "slow"
    assert nn_ref.lr_regime(0.5**t) == "right"
    assert nn_ref.lr_regime(np.r_[1.0, [0.5, 0.8] * 10]) == "chaotic"
    assert nn_ref.lr_regime([1.0, 2.0, np.nan]) == "diverged"
    assert nn_ref.lr_regime([1.0, 0.5, 1.01]) == "diverged"  # finite but ended above the start
    bump = 0.8**t
    bump[20] = bump[19] * 1.01  # one increase in 49 steps is not chaos
    assert nn_ref.lr_regime(bump) == "right"
    assert nn_ref.lr_regime([0.0, 0.0]) == "right"


def test_lr_regime_on_gradient_descent_runs():
    lr_max = nn_ref.max_stable_lr(10, X_CLEAN, Y_CLEAN)
    got = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for f in (0.001, 0.04, 0.3, 1.2, 3.0):
            losses, _ = nn_ref.DeepNarrowLNN(np.full(11, 0.9)).train(X_CLEAN, Y_CLEAN, f * lr_max, 30)
            got[f] = nn_ref.lr_regime(losses)
    assert got == {0.001: "too_small", 0.04: "slow", 0.3: "right", 1.2: "chaotic", 3.0: "diverged"}


def _balanced_hessian_top(depth, x, y):
    m_xx, m_xy = np.mean(x * x), np.mean(x * y)
    w = np.full(depth + 1, abs(m_xy / m_xx) ** (1 / (depth + 1)))
    tx, ty = torch.tensor(x), torch.tensor(y)
    H = torch.autograd.functional.hessian(lambda v: ((ty - torch.prod(v) * tx) ** 2).mean(),
                                          torch.tensor(w))
    return np.linalg.eigvalsh(H.numpy())[-1]


@pytest.mark.parametrize("depth", [0, 1, 4, 15])
def test_max_stable_lr_is_two_over_hessian_top_eigenvalue(depth):
    rng = np.random.default_rng(depth)
    x = rng.random(60)
    y = 1.7 * x + rng.normal(0, 0.1, 60)
    for xs, ys in [(X_CLEAN, Y_CLEAN), (x, y)]:
        assert nn_ref.max_stable_lr(depth, xs, ys) == pytest.approx(2 / _balanced_hessian_top(depth, xs, ys),
                                                                    rel=1e-10)


def _gd_converges(depth, lr, x, y, n_steps=4000):
    """Plain GD from a small random perturbation of the balanced minimum."""
    m_xx, m_xy = np.mean(x * x), np.mean(x * y)
    n = depth + 1
    w = np.full(n, (m_xy / m_xx) ** (1 / n)) * (1 + 1e-3 * np.random.default_rng(0).standard_normal(n))
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_steps):
            r = np.mean((y - np.prod(w) * x) * x)
            others = np.prod(w) / w  # no weight is near 0 here
            w = w + lr * 2 * r * others
            if not np.all(np.isfinite(w)):
                return False
        return np.mean((y - np.prod(w) * x) ** 2) - (np.mean(y * y) - m_xy**2 / m_xx) < 1e-12


def _bisect_stable_lr(depth, x, y, lo, hi, n_iter=12):
    assert _gd_converges(depth, lo, x, y) and not _gd_converges(depth, hi, x, y)
    for _ in range(n_iter):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if _gd_converges(depth, mid, x, y) else (lo, mid)
    return np.sqrt(lo * hi)


@pytest.mark.parametrize("depth", [1, 5])
def test_max_stable_lr_matches_gradient_descent_bisection(depth):
    lr = nn_ref.max_stable_lr(depth, X_CLEAN, Y_CLEAN)
    found = _bisect_stable_lr(depth, X_CLEAN, Y_CLEAN, 0.5 * lr, 2 * lr, n_iter=8)
    assert found == pytest.approx(lr, rel=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("depth", [0, 10, 30])
def test_max_stable_lr_matches_gradient_descent_bisection_slow(depth):
    rng = np.random.default_rng(7)
    x = rng.random(50)
    y = 1.5 * x + rng.normal(0, 0.05, 50)
    lr = nn_ref.max_stable_lr(depth, x, y)
    found = _bisect_stable_lr(depth, x, y, 0.5 * lr, 2 * lr)
    assert found == pytest.approx(lr, rel=0.01)


# --- C9 ----------------------------------------------------------------------
def test_init_power():
    assert nn_ref.init_power(0.9, 100) == pytest.approx(2.656e-5, rel=2e-4)
    assert nn_ref.init_power(1.1, 100) == pytest.approx(13780.6, rel=1e-5)
    assert nn_ref.init_power(1.0, 100) == 1.0


def test_init_learning_times_window_around_one():
    inits = [0.7, 0.9, 1.0, 1.1, 1.2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the reference silences its own overflow
        times = nn_ref.init_learning_times(inits, X_CLEAN, Y_CLEAN)
    learned = times >= 0
    assert learned.tolist() == [False, True, True, True, False]
    assert times[2] == times[learned].min()  # 1.0 learns fastest
    # independent: 16 weights all 1.2 blow up within a few epochs at eta = 0.02
    with np.errstate(over="ignore", invalid="ignore"):
        losses, _ = nn_ref.DeepNarrowLNN(np.full(16, 1.2)).train(X_CLEAN, Y_CLEAN, 0.02, 100)
    assert not np.all(np.isfinite(losses)) or losses[-1] > 1.0


# --- C10 ---------------------------------------------------------------------
def test_lnnet_given():
    net = nn_ref.LNNet(8, 30, 12)
    assert [tuple(p.shape) for p in net.parameters()] == [(30, 8), (12, 30)]
    out, hid = net(torch.eye(8))
    assert out.shape == (8, 12) and hid.shape == (8, 30)


def test_ex_initializer_std_per_layer():
    torch.manual_seed(0)
    net = nn_ref.LNNet(100, 200, 300)
    before = [p for p in net.parameters()]
    assert nn_ref.ex_initializer_(net, gamma=2.0) is None
    for p, (n_out, n_in) in zip(net.parameters(), [(200, 100), (300, 200)]):
        assert any(p is q for q in before)  # in place
        assert p.std().item() == pytest.approx(2.0 / np.sqrt(n_in + n_out), rel=0.03)
        assert abs(p.mean().item()) < 0.01 * 2.0 / np.sqrt(n_in + n_out) * 10
    nn_ref.ex_initializer_(net)
    assert next(net.parameters()).std().item() == pytest.approx(1e-12 / np.sqrt(300), rel=0.03)


def test_ex_net_svd_reconstructs_the_network_map():
    torch.manual_seed(1)
    net = nn_ref.LNNet(8, 30, 20)
    U, S, V = nn_ref.ex_net_svd(net, 8)
    assert U.shape == (20, 8) and S.shape == (8,) and V.shape == (8, 8)
    W_tot = net(torch.eye(8))[0].T.detach()  # out(I) = I W1^T W2^T = (W2 W1)^T
    np.testing.assert_allclose((U @ torch.diag(S) @ V.T).detach().numpy(), W_tot.numpy(), atol=1e-5)
    assert torch.all(S[:-1] >= S[1:])
    np.testing.assert_allclose((U.T @ U).detach().numpy(), np.eye(8), atol=1e-5)
    np.testing.assert_allclose((V.T @ V).detach().numpy(), np.eye(8), atol=1e-5)


def test_ex_net_rsm():
    torch.manual_seed(2)
    h = torch.randn(8, 30)
    rsm = nn_ref.ex_net_rsm(h)
    np.testing.assert_allclose(rsm.numpy(), np.einsum("ik,jk->ij", h.numpy(), h.numpy()), rtol=1e-5, atol=1e-5)
    assert rsm.shape == (8, 8)


@pytest.mark.parametrize("shape", [(3, 20, 2), (4, 4, 5), (8, 8, 10000)])
def test_linear_regression_matches_lstsq(shape):
    m, p, n = shape
    rng = np.random.default_rng(4)
    X = rng.normal(size=(m, p))
    Y = rng.normal(size=(n, p))
    W = nn_ref.linear_regression(X, Y)
    want = np.linalg.lstsq(X.T, Y.T, rcond=None)[0].T
    assert W.shape == (n, m)
    np.testing.assert_allclose(W, want, rtol=1e-8, atol=1e-10)


def test_build_tree_structure():
    tree = nn_ref.build_tree(3, 2, 0.15)
    assert tree["level"].tolist() == [0] + [1] * 2 + [2] * 4 + [3] * 8
    assert tree["parent"].tolist() == [None, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
    assert np.all(tree["pflip"] == 0.15)


def test_generate_hsd_and_leaf_correlations():
    labels, features = nn_ref.generate_hsd(rng=np.random.default_rng(0))
    assert labels.shape == (8, 8) and np.array_equal(labels, np.eye(8))
    assert features.shape == (8, 10000) and set(np.unique(features)) == {-1.0, 1.0}
    np.testing.assert_array_equal(nn_ref.generate_hsd()[1], nn_ref.generate_hsd()[1])
    corr = features @ features.T / features.shape[1]
    # leaves 0..7; common ancestor k levels up: k=1 for (0,1), k=2 for (0,2), k=3 for (0,4)
    for (i, j), k in {(0, 1): 1, (2, 3): 1, (0, 2): 2, (5, 7): 2, (0, 4): 3, (3, 6): 3}.items():
        assert corr[i, j] == pytest.approx(0.7 ** (2 * k), abs=0.04)
    assert abs(features.mean()) < 0.05  # root flip 0.5: no overall sign

"""The tolerances of dln-dynamics and linear-deep-learning admit correct methods other than the reference's.

Each test computes one item on (some of) its rubric cases with the reference
and with a differently written correct method a student might use (another
SVD, an explicit inverse, autograd instead of the hand gradient, float64
where the reference is float32 torch, another order of operations) and
asserts that the deviation uses at most a tenth of the rubric's tolerance, so
that tightening a tolerance below what such a method reaches fails here
(the alternative-method notebooks of ``rubrics/alternatives/`` cover other
methods, through ``dlgrade validate``). The numbers quoted in the rubrics'
``why`` come from these methods (and a few slower ones: seeds of the training
runs, bisection on the learning rate).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import reference.autodiff_basics as ab
import reference.dln_dynamics as dl
import reference.narrow_networks as nn_ref
from grader.rubric import load_rubric

RUBRICS = Path(__file__).resolve().parents[1] / "rubrics"
MARGIN = 10.0


def _tol(assignment, item_id, check_name):
    rubric = load_rubric(RUBRICS / f"{assignment}.yaml")
    check = next(c for c in rubric.item(item_id).checks if c.name == check_name)
    p = check.compare.params
    return float(p.get("rtol", 1e-9)), float(p.get("atol", 1e-12))


def _flat(x):
    if isinstance(x, dict):
        return np.concatenate([_flat(x[k]) for k in sorted(x)])
    if isinstance(x, (tuple, list)):
        return np.concatenate([_flat(v) for v in x])
    if isinstance(x, torch.Tensor):
        x = x.detach().double().numpy()
    return np.atleast_1d(np.asarray(x, dtype=float)).ravel()


def _used(alt, ref, rtol, atol):
    """The largest share of the tolerance ``atol + rtol |ref|`` the deviation uses."""
    a, r = _flat(alt), _flat(ref)
    assert a.shape == r.shape
    return float(np.max(np.abs(a - r) / (atol + rtol * np.abs(r))))


def _random(seed, shape, dist="normal", loc=0.0, scale=1.0, low=0.0, high=1.0):
    """As the rubric's ``{random: ...}`` values are drawn."""
    rng = np.random.default_rng(seed)
    return rng.normal(loc, scale, size=shape) if dist == "normal" else rng.uniform(low, high, size=shape)


# --- dln-dynamics -------------------------------------------------------------
def test_a1_einsum_and_reordered_products():
    rtol, atol = _tol("dln-dynamics", "A1", "one step from random weights")

    def alt(w1, w2, dt, tau, sx, syx):
        e = syx - np.einsum("oh,hi,ij->oj", w2, w1, sx)
        return w1 + np.einsum("oh,oi->hi", w2, e) * dt / tau, w2 + dt / tau * e @ w1.T

    for case in [(_random(0, (16, 4), scale=0.1), _random(1, (7, 16), scale=0.1), 0.1, 2.5, dl.SIGMA_X, dl.SIGMA_YX),
                 (_random(2, (16, 4), scale=0.5), _random(3, (7, 16), scale=0.5), 0.05, 1.5,
                  dl._random_sigma_x(4, 0), _random(4, (7, 4)))]:
        assert _used(alt(*case), dl.update_deep_network_weights(*case), rtol, atol) < 1 / MARGIN


@pytest.mark.parametrize("svals", [
    lambda m: torch.linalg.svdvals(torch.tensor(m)).numpy(),
    lambda m: np.sqrt(np.clip(np.linalg.eigvalsh(m.T @ m), 0, None))[::-1],
], ids=["torch.linalg.svdvals", "sqrt eigvalsh(M^T M)"])
def test_a3_other_singular_value_routines(svals):
    rtol, atol = _tol("dln-dynamics", "A3", "deep modes from given initial weights")
    for w1, w2, w, dt, tau, n in [
            (_random(10, (16, 4), scale=0.1), _random(11, (7, 16), scale=0.1), _random(12, (7, 4), scale=0.1), 0.1, 2.5, 150),
            (_random(13, (16, 4), scale=0.3), _random(14, (7, 16), scale=0.3), _random(15, (7, 4), scale=0.3), 0.3, 1.0, 20)]:
        want = dl.simulate_modes(w1, w2, w, dt, tau, dl.SIGMA_X, dl.SIGMA_YX, n)
        deep, shallow = [svals(w2 @ w1)[:4]], [svals(w)[:4]]
        for _ in range(n):
            w1, w2 = dl.update_deep_network_weights(w1, w2, dt, tau, dl.SIGMA_X, dl.SIGMA_YX)
            w = dl.update_shallow_network_weights(w, dt, tau, dl.SIGMA_X, dl.SIGMA_YX)
            deep.append(svals(w2 @ w1)[:4])
            shallow.append(svals(w)[:4])
        assert _used(np.array(deep), want["deep"], rtol, atol) < 1 / MARGIN
        assert _used(np.array(shallow), want["shallow"], rtol, atol) < 1 / MARGIN


def test_a4_the_sheets_forms_of_eqs_4_and_5():
    rtol, atol = _tol("dln-dynamics", "A4", "deep network, eq. (4)")
    t, s = dl._times(0.1, 150), np.array([[7 ** 0.5, 3 ** 0.5, 1.0, 1.0]])
    e = np.exp(2 * s * t / 2.5)
    assert _used(s * e / (e - 1 + s / 0.001), dl.analytic_deep(t, s, 0.001, 2.5), rtol, atol) < 1 / MARGIN
    rtol, atol = _tol("dln-dynamics", "A4", "shallow network, eq. (5)")
    alt = s - (s - 0.001) * np.exp(-t / 2.5)   # b(0) = b0 after a cancellation: the tightest spot
    assert _used(alt, dl.analytic_shallow(t, s, 0.001, 2.5), rtol, atol) < 1 / MARGIN


def test_a7_float32_forward_against_its_float64_recomputation():
    rubric = load_rubric(RUBRICS / "dln-dynamics.yaml")
    check = next(c for c in rubric.item("A7").checks if c.name == "linear network, net(I) is the product of its weights")
    rtol, atol = check.compare.params["rtol"], check.compare.params["atol"]
    torch.manual_seed(0)
    net = dl.DeepLinearNetwork(8, 10, [16, 32, 32, 16])
    h = np.eye(8)
    for p in net.parameters():
        h = h @ p.detach().double().numpy().T
    assert _used(net(torch.eye(8)), h, rtol, atol) < 1 / MARGIN


# --- linear-deep-learning -----------------------------------------------------
def _t64(a):
    return torch.tensor(np.asarray(a, dtype=float), requires_grad=True)


def test_c2_c3_float64_autograd_against_the_hand_gradients():
    rtol, atol = _tol("linear-deep-learning", "C2", "loss_grad")
    w, b, x, y = (_random(s, (8,)) for s in (201, 202, 203, 204))
    wt, bt = _t64(w), _t64(b)
    ((torch.tensor(y) - torch.tanh(wt * torch.tensor(x) + bt)) ** 2).sum().backward()
    assert _used((wt.grad, bt.grad), ab.loss_grad(w, b, x, y), rtol, atol) < 1 / MARGIN

    rtol, atol = _tol("linear-deep-learning", "C3", "graph_backward")
    x, y, z = (_random(301, (5,), "uniform", low=0.1, high=1.5), _random(302, (5,), "uniform", low=0.3, high=2.8),
               _random(303, (5,), "uniform", low=-0.2, high=2.0))
    xt, yt, zt = _t64(x), _t64(y), _t64(z)
    torch.tanh(torch.log(1 + zt * 2 * xt / torch.sin(yt))).sum().backward()
    assert _used((xt.grad, yt.grad, zt.grad), ab.graph_backward(x, y, z), rtol, atol) < 1 / MARGIN


def test_c4_float64_closed_form_against_float32_autograd():
    rtol, atol = _tol("linear-deep-learning", "C4", "gradients after backward")
    for w, b, xs, ys in [(-0.5, 0.5, [2.0], [7.0]), (0.8, -0.3, [2.0, -1.0, 0.3], [0.2, 0.9, -0.4])]:
        g = ab.SimpleGraph(w, b)
        ab.sq_loss(torch.tensor(ys), g.forward(torch.tensor(xs))).sum().backward()
        x, y = np.array(xs), np.array(ys)
        p = np.tanh(w * x + b)
        d = -2 * (y - p) * (1 - p ** 2)
        assert _used(((d * x).sum(), d.sum()), (g.w.grad, g.b.grad), rtol, atol) < 1 / MARGIN


def test_c6_train_with_per_sample_loop_gradients():
    rtol, atol = _tol("linear-deep-learning", "C6", "train")

    class Loop(nn_ref.ShallowNarrowExercise):
        def dloss_dw(self, x, y_true):
            g1 = g2 = 0.0
            for xi, yi in zip(x.tolist(), y_true.tolist()):
                e = yi - self.w1 * self.w2 * xi
                g1 += -2 * self.w2 * xi * e
                g2 += -2 * self.w1 * xi * e
            return g1 / len(x), g2 / len(x)

    x30, y30 = nn_ref.gen_samples(30, 2.0, 0.0)
    for w, x, y, lr, n in [([1.4, -1.6], x30, y30, 0.02, 60),
                           ([0.3, 0.7], _random(604, (25,), "uniform"), _random(605, (25,), loc=1.0), 0.1, 40)]:
        want = nn_ref.ShallowNarrowExercise(list(w)).train(x, y, lr, n)
        assert _used(Loop(list(w)).train(x, y, lr, n), want, rtol, atol) < 1 / MARGIN


def test_c7_the_notebooks_product_over_w_i():
    rtol, atol = _tol("linear-deep-learning", "C7", "dloss_dw")
    x50, y50 = nn_ref.gen_samples(50, 2.0, 0.0)
    for w, x, y in [(np.array([0.9, 1.1, 0.95, 1.05, 1.2]), x50, y50),
                    (np.array([1.3, -0.7]), _random(702, (20,), "uniform"), _random(703, (20,), loc=2.0))]:
        p = np.prod(w)
        alt = -2 * np.mean((y - p * x) * x) * p / w
        assert _used(alt, nn_ref.DeepNarrowLNN(w).dloss_dw(x, y), rtol, atol) < 1 / MARGIN


@pytest.mark.parametrize("depth", [0, 1, 10, 30])
def test_c8_max_stable_lr_from_a_numerical_hessian(depth):
    rtol, atol = _tol("linear-deep-learning", "C8", "max_stable_lr")
    x, y = nn_ref.gen_samples(100, 2.0, 0.0)
    p_star = np.mean(x * y) / np.mean(x * x)
    w = torch.full((depth + 1,), p_star ** (1 / (depth + 1)), dtype=torch.float64)
    xt, yt = torch.tensor(x), torch.tensor(y)
    hess = torch.autograd.functional.hessian(lambda w: ((yt - torch.prod(w) * xt) ** 2).mean(), w)
    alt = 2 / torch.linalg.eigvalsh(hess).max().item()
    assert _used(alt, nn_ref.max_stable_lr(depth, x, y), rtol, atol) < 1 / MARGIN


def test_c9_init_power_through_logarithms():
    rtol, atol = _tol("linear-deep-learning", "C9", "init_power")
    for w, d in [(0.9, 100), (1.1, 100), (1.0, 100), (0.5, 10)]:
        assert _used(np.exp(d * np.log(w)), nn_ref.init_power(w, d), rtol, atol) < 1 / MARGIN


def test_c10_float64_numpy_svd_and_rsm_against_float32_torch():
    torch.manual_seed(0)
    net = nn_ref.LNNet(8, 30, 20)
    u, s, v = nn_ref.ex_net_svd(net, 8)
    w = (net.hid_out.weight @ net.in_hid.weight).detach().double().numpy()
    u2, s2, vh2 = np.linalg.svd(w, full_matrices=False)
    for name, got, want in [("U", u2, u), ("S", s2, s), ("V", vh2.T, v)]:
        rtol, atol = _tol("linear-deep-learning", "C10", f"ex_net_svd {name}")
        want = want.detach().double().numpy()
        if name != "S":
            got = got * np.sign(np.sum(got * want, axis=0))
        assert _used(got, want, rtol, atol) < 1 / MARGIN, name

    rtol, atol = _tol("linear-deep-learning", "C10", "ex_net_rsm")
    h = torch.tensor(_random(1001, (8, 30)), dtype=torch.float32)
    assert _used(h.double() @ h.double().T, nn_ref.ex_net_rsm(h), rtol, atol) < 1 / MARGIN
    assert _used((h[:, None, :] * h[None, :, :]).sum(-1), nn_ref.ex_net_rsm(h), rtol, atol) < 1 / MARGIN


@pytest.mark.parametrize("method", [
    lambda X, Y: Y @ X.T @ np.linalg.inv(X @ X.T),
    lambda X, Y: np.linalg.lstsq(X.T, Y.T, rcond=None)[0].T,
    lambda X, Y: Y @ np.linalg.pinv(X),
], ids=["explicit inverse", "lstsq", "pinv"])
def test_c10_linear_regression_by_inverse_lstsq_or_pinv(method):
    rtol, atol = _tol("linear-deep-learning", "C10", "linear_regression")
    for X, Y in [(_random(1002, (3, 20)), _random(1003, (2, 20))), (_random(1004, (4, 4)), _random(1005, (5, 4))),
                 (np.eye(2), np.array([[1.0, 2.0]]))]:
        assert _used(method(X, Y), nn_ref.linear_regression(X, Y), rtol, atol) < 1 / MARGIN

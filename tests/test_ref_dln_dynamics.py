"""Reference of assignment A (learning dynamics in deep linear networks), checked independently.

Euler updates against a direct transcription of eqs (1)-(3) and against the
gradient of the squared error (torch autograd); eqs (4)-(5) against
``solve_ivp`` of the mode equations and against the Euler simulation as the
step shrinks; the tree sampler's leaf correlations against
``(1 - 2 eps)^(2k)``; the torch networks and the training loop by their
defining properties.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from reference import dln_dynamics as dd
from reference.mistakes import dln_dynamics as md
from reference.mistakes import mistakes_in

torch.set_num_threads(1)
S_SHEET = np.array([np.sqrt(7.0), np.sqrt(3.0), 1.0, 1.0])


def _random_weights(seed, std=0.1):
    rng = np.random.default_rng(seed)
    return rng.normal(0, std, (16, 4)), rng.normal(0, std, (7, 16)), rng.normal(0, std, (7, 4))


# --- the sheet's data -----------------------------------------------------------

def test_sheet_constants():
    assert dd.SIGMA_YX.shape == (7, 4) and np.array_equal(dd.SIGMA_X, np.eye(4))
    assert dd.TAU == 2.5 and dd.DT == 0.1 and dd.N_STEPS == round(dd.T_MAX / dd.DT) == 150
    assert dd.A0 == dd.B0 == 0.001 and dd.INIT_VARIANCE == 0.01
    # singular values: all-ones direction 4 + 2 + 1 = 7, (1,1,-1,-1) 2 + 1 = 3, the rest 1
    np.testing.assert_allclose(np.linalg.svd(dd.SIGMA_YX, compute_uv=False), S_SHEET, rtol=1e-14)


# --- A1, A2: one Euler step --------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deep_update_is_gradient_step_on_squared_error(seed):
    """Eqs (1)-(2) are -dt/tau times the gradient of E = 1/2 tr(S_yy - 2 S_yx W^T + W S_x W^T)."""
    w1, w2, _ = _random_weights(seed)
    sx = dd._random_sigma_x(4, seed)
    syx = np.random.default_rng(seed + 10).normal(size=(7, 4))
    t1 = torch.tensor(w1, requires_grad=True)
    t2 = torch.tensor(w2, requires_grad=True)
    w = t2 @ t1
    energy = 0.5 * torch.trace(w @ torch.tensor(sx) @ w.T) - torch.trace(torch.tensor(syx) @ w.T)
    energy.backward()
    dt, tau = 0.1, 2.5
    n1, n2 = dd.update_deep_network_weights(w1, w2, dt, tau, sx, syx)
    np.testing.assert_allclose(n1, w1 - dt / tau * t1.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(n2, w2 - dt / tau * t2.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_deep_update_uses_old_weights_and_leaves_inputs_alone():
    w1, w2, _ = _random_weights(3)
    c1, c2 = w1.copy(), w2.copy()
    n1, n2 = dd.update_deep_network_weights(w1, w2, 0.1, 2.5, dd.SIGMA_X, dd.SIGMA_YX)
    assert np.array_equal(w1, c1) and np.array_equal(w2, c2)
    err = dd.SIGMA_YX - w2 @ w1
    np.testing.assert_allclose(n2, w2 + 0.04 * err @ w1.T, rtol=1e-13)  # old W1, not n1


def test_fixed_point_does_not_move():
    w1, w2 = dd._fixed_point_weights(dd.SIGMA_YX, 16, seed=4)
    np.testing.assert_allclose(w2 @ w1, dd.SIGMA_YX, atol=1e-13)
    n1, n2 = dd.update_deep_network_weights(w1, w2, 0.1, 2.5, dd.SIGMA_X, dd.SIGMA_YX)
    np.testing.assert_allclose(n1, w1, atol=1e-13)
    np.testing.assert_allclose(n2, w2, atol=1e-13)
    w = dd.update_shallow_network_weights(dd.SIGMA_YX, 0.1, 2.5, dd.SIGMA_X, dd.SIGMA_YX)
    np.testing.assert_allclose(w, dd.SIGMA_YX, atol=1e-15)


def test_shallow_update_by_hand():
    _, _, w = _random_weights(5)
    sx = dd._random_sigma_x(4, 5)
    got = dd.update_shallow_network_weights(w, 0.2, 4.0, sx, dd.SIGMA_YX)
    np.testing.assert_allclose(got, w + 0.05 * (dd.SIGMA_YX - w @ sx), rtol=1e-14)


# --- A3: simulation -------------------------------------------------------------

def test_simulate_modes_shapes_rows_and_limits():
    w1, w2, w = _random_weights(0)
    m = dd.simulate_modes(w1, w2, w, dd.DT, dd.TAU, dd.SIGMA_X, dd.SIGMA_YX, dd.N_STEPS)
    assert m["deep"].shape == m["shallow"].shape == (151, 4)
    np.testing.assert_allclose(m["deep"][0], np.linalg.svd(w2 @ w1, compute_uv=False))
    np.testing.assert_allclose(m["shallow"][0], np.linalg.svd(w, compute_uv=False))
    assert np.all(np.diff(m["deep"], axis=1) <= 1e-12)  # descending
    # row k is after k updates, done by hand
    a1, a2, b = w1, w2, w
    for _ in range(3):
        a1, a2 = dd.update_deep_network_weights(a1, a2, dd.DT, dd.TAU, dd.SIGMA_X, dd.SIGMA_YX)
        b = dd.update_shallow_network_weights(b, dd.DT, dd.TAU, dd.SIGMA_X, dd.SIGMA_YX)
    np.testing.assert_allclose(m["deep"][3], np.linalg.svd(a2 @ a1, compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose(m["shallow"][3], np.linalg.svd(b, compute_uv=False), rtol=1e-12)
    # by T = 15 (6 tau) the shallow modes are within e^-6 of s; the deep ones closer still
    np.testing.assert_allclose(m["shallow"][-1], S_SHEET, atol=0.01)
    np.testing.assert_allclose(m["deep"][-1], S_SHEET, atol=1e-3)


# --- A4: eqs (4) and (5) ----------------------------------------------------------

@pytest.mark.parametrize("s", list(S_SHEET[:3]) + [0.3, 5.0])
def test_analytic_deep_solves_the_mode_equations(s):
    """a = c d with tau c' = d (s - c d), tau d' = c (s - c d), balanced start c = d = sqrt(a0)."""
    tau, a0 = dd.TAU, dd.A0
    rhs = lambda t, y: [y[1] * (s - y[0] * y[1]) / tau, y[0] * (s - y[0] * y[1]) / tau]  # noqa: E731
    sol = solve_ivp(rhs, (0, 15), [np.sqrt(a0)] * 2, method="DOP853", rtol=1e-12, atol=1e-14,
                    dense_output=True)
    t = np.linspace(0, 15, 301)
    c, d = sol.sol(t)
    np.testing.assert_allclose(dd.analytic_deep(t, s, a0, tau), c * d, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("s, b0", [(S_SHEET[0], 0.001), (1.0, 0.5), (0.4, 2.0)])
def test_analytic_shallow_solves_its_mode_equation(s, b0):
    sol = solve_ivp(lambda t, b: (s - b) / dd.TAU, (0, 15), [b0], method="DOP853", rtol=1e-12,
                    atol=1e-14, dense_output=True)
    t = np.linspace(0, 15, 301)
    np.testing.assert_allclose(dd.analytic_shallow(t, s, b0, dd.TAU), sol.sol(t)[0], rtol=1e-9, atol=1e-12)


def test_analytic_forms_match_the_sheet_and_broadcast():
    t = np.linspace(0, 6, 13)
    s, a0, tau = 2.0, 0.01, 2.5
    e = np.exp(2 * s * t / tau)
    np.testing.assert_allclose(dd.analytic_deep(t, s, a0, tau), s * e / (e - 1 + s / a0), rtol=1e-13)
    table = dd.analytic_deep(t[:, None], S_SHEET[None, :], a0, tau)
    assert table.shape == (13, 4)
    np.testing.assert_allclose(table[:, 1], dd.analytic_deep(t, S_SHEET[1], a0, tau))
    assert np.isfinite(dd.analytic_deep(1e4, 2.0, 1e-3, 2.5)) and dd.analytic_deep(1e4, 2.0, 1e-3, 2.5) == 2.0
    assert dd.analytic_shallow(t[:, None], S_SHEET[None, :], 0.001, tau).shape == (13, 4)


def test_euler_simulation_converges_to_eqs_4_and_5_at_first_order():
    """From a small balanced start aligned to SIGMA_YX every mode follows eq. (4) up to O(dt)."""
    s = S_SHEET
    devs = []
    for dt, n in [(0.1, 150), (0.05, 300), (0.025, 600)]:
        w1, w2 = dd._aligned_balanced_init(dd.SIGMA_YX, 16, dd.A0, seed=0)
        w = dd._aligned_shallow_init(dd.SIGMA_YX, dd.B0)
        m = dd.simulate_modes(w1, w2, w, dt, dd.TAU, dd.SIGMA_X, dd.SIGMA_YX, n)
        t = dd._times(dt, n)
        np.testing.assert_allclose(m["deep"][0], dd.A0, rtol=1e-10)
        devs.append((np.abs(m["deep"] - dd.analytic_deep(t, s[None, :], dd.A0, dd.TAU)).max(),
                     np.abs(m["shallow"] - dd.analytic_shallow(t, s[None, :], dd.B0, dd.TAU)).max()))
    devs = np.array(devs)
    assert devs[0, 0] < 0.25 and devs[0, 1] < 0.025  # at the sheet's dt: about 0.20 and 0.020
    np.testing.assert_allclose(devs[:-1] / devs[1:], 2.0, rtol=0.1)  # halving dt halves the error


# --- A6: the tree sampler ------------------------------------------------------------

def test_tree_sampler_shapes_and_values():
    sampler = dd.DiffuseTreeSampler(100, 3, 4, 0.05, rng=np.random.default_rng(0))
    features, items = sampler.sample_data()
    assert features.shape == (64, 100) and np.array_equal(items, np.eye(64))
    assert set(np.unique(features)) == {-1.0, 1.0}
    assert np.linalg.svd(features.T @ items, compute_uv=False)[0] == pytest.approx(61, abs=4)


@pytest.mark.parametrize("eps", [0.05, 0.2])
def test_tree_sampler_leaf_correlations(eps):
    """Leaves whose closest common ancestor is k levels up correlate by (1 - 2 eps)^(2k)."""
    depth, branching, n_features = 3, 2, 40_000
    features, _ = dd.DiffuseTreeSampler(n_features, depth, branching, eps,
                                        rng=np.random.default_rng(1)).sample_data()
    corr = features @ features.T / n_features
    n_items = branching**depth
    for i in range(n_items):
        for j in range(n_items):
            k = next(k for k in range(depth + 1) if i // branching**k == j // branching**k)
            # sd of the estimate is below 1/sqrt(n_features) = 0.005
            assert corr[i, j] == pytest.approx((1 - 2 * eps) ** (2 * k), abs=0.025), (i, j, k)
    # the root sign is +-1 with probability 1/2: feature means near 0
    assert abs(features.mean()) < 0.03


# --- A7: torch networks -----------------------------------------------------------------

def test_deep_linear_network_is_the_product_of_its_weights():
    torch.manual_seed(0)
    net = dd.DeepLinearNetwork(8, 10, [16, 32, 32, 16])
    shapes = [tuple(p.shape) for p in net.parameters()]
    assert shapes == [(16, 8), (32, 16), (32, 32), (16, 32), (10, 16)]  # bias-free
    prod = np.eye(8)
    for p in net.parameters():
        prod = p.detach().double().numpy() @ prod
    out = net(torch.eye(8)).detach().double().numpy()
    np.testing.assert_allclose(out, prod.T, rtol=1e-5, atol=1e-6)


def test_deep_nonlinear_network_has_relus_after_hidden_layers_only():
    torch.manual_seed(0)
    net = dd.DeepNonLinearNetwork(8, 10, [16, 32, 32, 16])
    ws = [p.detach().double().numpy() for p in net.parameters()]
    assert [w.shape for w in ws] == [(16, 8), (32, 16), (32, 32), (16, 32), (10, 16)]
    x = np.random.default_rng(0).normal(size=(20, 8))
    h = x
    for w in ws[:-1]:
        h = np.maximum(h @ w.T, 0.0)
    expected = h @ ws[-1].T
    out = net(torch.tensor(x, dtype=torch.float32)).detach().double().numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert (out < 0).any()  # a linear output layer: the -1 targets are reachable


# --- A8: the training loop ----------------------------------------------------------------

class _Recorder(torch.optim.SGD):
    def __init__(self, params, log, **kw):
        super().__init__(params, **kw)
        self.log = log

    def zero_grad(self, set_to_none=True):
        self.log.append("zero_grad")
        super().zero_grad(set_to_none)

    def step(self, closure=None):
        self.log.append("step")
        return super().step(closure)


def test_train_network_loop_order_and_shuffling():
    targets = dd._tree_targets(30, 3, 2, 0.05, 0)
    log, seen = [], []

    class Loss(torch.nn.MSELoss):
        def forward(self, pred, target):
            seen.append(tuple(target.tolist()))
            log.append("loss")
            return super().forward(pred, target)

    torch.manual_seed(0)
    net = dd.DeepLinearNetwork(8, 30, [32, 32])
    loss, sv = dd.train_network(net, Loss(), _Recorder(net.parameters(), log, lr=0.1), 5, np.eye(8), targets)
    assert loss.shape == (5,) and sv.shape == (5, 8)
    assert log == ["zero_grad", "loss", "step"] * 40
    epochs = [seen[8 * e: 8 * e + 8] for e in range(5)]
    rows = sorted(tuple(r) for r in targets.astype(np.float32).tolist())
    assert all(sorted(e) == rows for e in epochs)  # every sample once per epoch
    assert len({tuple(e) for e in epochs}) > 1  # a new order each epoch
    # reproducible under torch.manual_seed
    torch.manual_seed(0)
    net2 = dd.DeepLinearNetwork(8, 30, [32, 32])
    loss2, sv2 = dd.train_network(net2, torch.nn.MSELoss(), torch.optim.SGD(net2.parameters(), lr=0.1), 5,
                                  np.eye(8), targets)
    np.testing.assert_array_equal(loss, loss2)
    np.testing.assert_array_equal(sv, sv2)


def test_train_network_loss_log_is_the_mean_per_sample_loss():
    """lr = 0: the network does not change, so every epoch's mean loss is the full-data MSE."""
    targets = dd._tree_targets(30, 3, 2, 0.05, 0)
    torch.manual_seed(1)
    net = dd.DeepLinearNetwork(8, 30, [16])
    loss, sv = dd.train_network(net, torch.nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.0), 2,
                                np.eye(8), targets)
    with torch.no_grad():
        out = net(torch.eye(8)).double().numpy()
    np.testing.assert_allclose(loss, np.mean((out - targets) ** 2), rtol=1e-5)
    np.testing.assert_allclose(sv[0], np.linalg.svd(out, compute_uv=False), rtol=1e-6)


def test_train_network_learns_the_tree_modes_at_a_stable_rate():
    """The quick configuration of the rubric (A8): lr 0.1, 400 epochs, 8 items."""
    targets = dd._tree_targets(30, 3, 2, 0.05, 0)
    s = dd._tree_singular_values(30, 3, 2, 0.05, 0)
    torch.manual_seed(0)
    net = dd.DeepLinearNetwork(8, 30, [32, 32])
    loss, sv = dd.train_network(net, torch.nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.1), 400,
                                np.eye(8), targets)
    assert loss[-1] < 1e-3 * loss[0]
    np.testing.assert_allclose(sv[-1], s, rtol=0.02)
    np.testing.assert_allclose(sv[-1][:5], s[:5], rtol=1e-3)
    # modes are learned in order of their singular value (up to near-ties)
    ep = dd.convergence_epochs(sv, s)
    assert ep[0] < ep[1] < ep[2] < ep[5] and (ep >= 0).all()


@pytest.mark.slow
def test_train_network_sheet_configuration_recovers_top_modes():
    """Catalogue A8 note: [64, 128, 128], 64 items x 100 features, lr 0.1, 200 epochs: top 8 within 0.2 %."""
    targets = dd._tree_targets(100, 3, 4, 0.05, 0)
    s = dd._tree_singular_values(100, 3, 4, 0.05, 0)
    assert s[0] == pytest.approx(61, abs=3)
    torch.manual_seed(0)
    net = dd.DeepLinearNetwork(64, 100, [64, 128, 128])
    loss, sv = dd.train_network(net, torch.nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.1), 200,
                                np.eye(64), targets)
    assert sv.shape == (200, 64) and loss[-1] < 0.1 * loss[0]
    np.testing.assert_allclose(sv[-1][:8], s[:8], rtol=2e-3)


# --- A9 -----------------------------------------------------------------------------------

def test_convergence_epochs_by_hand():
    curves = np.array([[0.0, 0.0, 0.0], [0.9, 0.5, 0.1], [1.0, 0.89, 0.1], [1.0, 0.95, 0.1]])
    got = dd.convergence_epochs(curves, np.array([1.0, 1.0, 1.0]))
    assert got.tolist() == [1, 3, -1]  # 0.9 >= 0.9 counts; never -> -1
    assert dd.convergence_epochs(curves, np.array([1.0, 1.0, 1.0]), frac=0.5).tolist() == [1, 1, -1]
    assert dd.convergence_epochs(curves, np.array([2.0, 1.0, 0.1])).tolist() == [-1, 3, 1]
    assert dd.convergence_epochs(curves, np.array([1.0, 1.0, 1.0])).dtype.kind == "i"


# --- mutants ------------------------------------------------------------------------------

def test_every_mutant_names_a_reference_function_and_differs_from_it():
    found = mistakes_in(md)
    assert len(found) >= 20
    for m in found:
        owner, _, attr = m.replaces.rpartition(".")
        target = getattr(getattr(dd, owner), attr) if owner else getattr(dd, attr)
        assert inspect.signature(m.func).parameters.keys() == inspect.signature(target).parameters.keys(), m.name
        assert m.item in {"A1", "A2", "A3", "A4", "A5-figure", "A7", "A8", "A9"}
    w1, w2, w = _random_weights(0)
    sx = dd._random_sigma_x(4, 0)
    for m in found:
        if m.replaces == "update_deep_network_weights":
            ref = dd.update_deep_network_weights(w1, w2, 0.1, 2.5, sx, dd.SIGMA_YX)
            got = m.func(w1, w2, 0.1, 2.5, sx, dd.SIGMA_YX)
            assert not all(np.allclose(a, b) for a, b in zip(ref, got)), m.name
        elif m.replaces in ("analytic_deep", "analytic_shallow"):
            t = np.linspace(0, 10, 11)
            assert not np.allclose(getattr(dd, m.replaces)(t, 2.0, 0.01, 2.5), m.func(t, 2.0, 0.01, 2.5)), m.name
        elif m.replaces == "convergence_epochs":
            curves = np.array([[0.0, 0.0], [0.9, 0.1], [1.0, 0.2]])
            assert dd.convergence_epochs(curves, np.ones(2)).tolist() != m.func(curves, np.ones(2)).tolist()


# --- figures ----------------------------------------------------------------------------

def test_figures_render_to_png(tmp_path):
    from matplotlib.figure import Figure

    from reference.figures import dln_dynamics as fig

    t = dd._times(0.1, 150)[:, 0]
    w1, w2 = dd._aligned_balanced_init(dd.SIGMA_YX, 16, dd.A0, seed=0)
    m = dd.simulate_modes(w1, w2, dd._aligned_shallow_init(dd.SIGMA_YX, dd.B0), 0.1, dd.TAU, dd.SIGMA_X,
                          dd.SIGMA_YX, 150)
    theory = dd.analytic_deep(t[:, None], S_SHEET[None, :], dd.A0, dd.TAU)
    curves = np.cumsum(np.random.default_rng(0).random((30, 8)), axis=0)
    figs = [fig.simulated_vs_analytic(t, m["deep"], theory, S_SHEET),
            fig.deep_vs_shallow(t, m["deep"], m["shallow"], S_SHEET),
            fig.linear_vs_relu(curves, 0.9 * curves, curves[-1], linear_loss=1 / (1 + np.arange(30)),
                               relu_loss=2 / (1 + np.arange(30)))]
    for i, f in enumerate(figs):
        assert isinstance(f, Figure)
        path = fig.save(f, tmp_path / "sub" / f"{i}.png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


# --- the rubric's literal numbers --------------------------------------------------------

def test_rubric_targets_are_the_tree_singular_values():
    """A8 compares with literal singular values of the tree data; they must match the data the case builds."""
    import yaml

    from grader.rubric import rubric_dir

    rubric = yaml.safe_load((rubric_dir() / "dln-dynamics.yaml").read_text())
    a8 = next(i for i in rubric["items"] if i["id"] == "A8")
    for check in a8["checks"]:
        target = (check.get("expected") or {}).get("value") if isinstance(check.get("expected"), dict) else None
        target = target or (check.get("transform") or {}).get("target")
        if target is None:
            continue
        train = next(st for st in check["cases"][0]["steps"] if st.get("call") == "train_network")
        ref = train["args"][-1]
        assert ref["ref"] == "_tree_targets"
        s = dd._tree_singular_values(*ref["args"])
        np.testing.assert_allclose(target, s[: len(target)], rtol=1e-12)

"""Reference of assignment B8-B11 (the deep scalar chain), checked independently.

Gradients against finite differences, fixed points against scipy's root
finder, Euler trajectories against solve_ivp, the balanced regime against the
full chain.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import root

from reference import scalar_chain as sc
from reference.mistakes import mistakes_in
from reference.mistakes import scalar_chain as ms

S = (sc.SIGMA_Y, sc.SIGMA_YX, sc.SIGMA_X)


def _E(w, sy=sc.SIGMA_Y, syx=sc.SIGMA_YX, sx=sc.SIGMA_X):
    """E = <(y - w_tot x)^2> written out independently."""
    t = 1.0
    for v in w:
        t *= v
    return sy - 2 * syx * t + sx * t * t


def _fd_grad(f, w, eps=1e-6):
    w = np.asarray(w, dtype=float)
    g = np.empty_like(w)
    for i in range(w.size):
        wp, wm = w.copy(), w.copy()
        wp[i] += eps
        wm[i] -= eps
        g[i] = (f(wp) - f(wm)) / (2 * eps)
    return g


# --- B8 ------------------------------------------------------------------

def test_sheet_statistics_give_sheet_fixed_point_errors():
    assert sc.chain_fixed_point_errors(*S) == {"minimum": 0.5, "saddle": 4.5}
    # and they are the errors at actual points: on the hyperbola and at the origin
    assert sc.chain_error(np.array([4.0, 0.5]), *S) == 0.5
    assert sc.chain_error(np.zeros(2), *S) == 4.5


def test_chain_error_by_hand():
    assert sc.chain_error(np.array([1.0, 1.0]), *S) == 4.5 - 4.0 + 1.0
    assert sc.chain_error(np.array([3.0]), 1.0, 2.0, 0.5) == 1.0 - 12.0 + 4.5
    for w in ([0.3, -1.2, 2.0], [0.7], [1.1] * 5):
        assert sc.chain_error(np.array(w), 2.0, 0.7, 1.3) == pytest.approx(_E(w, 2.0, 0.7, 1.3))


@pytest.mark.parametrize("n_w", [1, 2, 3, 5])
def test_chain_gradient_matches_finite_differences(n_w):
    rng = np.random.default_rng(n_w)
    stats = (2.0, 0.7, 1.3)
    for _ in range(5):
        w = rng.uniform(-1.5, 1.5, n_w)
        g = sc.chain_gradient(w, *stats)
        assert g.shape == (n_w,)
        np.testing.assert_allclose(g, _fd_grad(lambda v: _E(v, *stats), w), rtol=1e-7, atol=1e-8)


def test_chain_gradient_with_zero_weights():
    # one zero weight: only its own derivative survives; two zeros: all vanish
    np.testing.assert_allclose(sc.chain_gradient(np.array([0.0, 2.0, 3.0]), *S),
                               [2 * (0 - 2.0) * 6.0, 0.0, 0.0])
    np.testing.assert_array_equal(sc.chain_gradient(np.array([0.0, 0.0, 3.0]), *S), 0.0)


def test_chain_gradient_by_hand_at_2_minus_2():
    np.testing.assert_array_equal(sc.chain_gradient(np.array([2.0, -2.0]), *S), [24.0, -24.0])


# --- B9 ------------------------------------------------------------------

def test_fixed_points_from_root_finder_are_minima_or_saddle():
    closed = sc.chain_fixed_point_errors(*S)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(40):
        sol = root(lambda w: sc.chain_gradient(w, *S), rng.uniform(-3, 3, 2), tol=1e-13)
        if not sol.success:
            continue
        w = sol.x
        assert sc.is_fixed_point(w, *S, tol=1e-6)
        if abs(w[0] * w[1] - sc.SIGMA_YX / sc.SIGMA_X) < 1e-7:
            assert sc.chain_error(w, *S) == pytest.approx(closed["minimum"], abs=1e-10)
            seen.add("minimum")
        else:
            np.testing.assert_allclose(w, 0.0, atol=1e-6)
            assert sc.chain_error(w, *S) == pytest.approx(closed["saddle"], abs=1e-10)
            seen.add("saddle")
    assert "minimum" in seen


def test_saddle_found_by_root_finder_from_the_antidiagonal():
    sol = root(lambda w: sc.chain_gradient(w, *S), np.array([0.3, -0.3]), tol=1e-13)
    assert sol.success
    np.testing.assert_allclose(sol.x, 0.0, atol=1e-8)
    assert sc.is_fixed_point(sol.x, *S)


def test_is_fixed_point():
    assert sc.is_fixed_point(np.array([1.0, 2.0]), *S)
    assert sc.is_fixed_point(np.array([-4.0, -0.5]), *S)
    assert sc.is_fixed_point(np.zeros(3), *S)
    assert not sc.is_fixed_point(np.array([1.0, 1.0]), *S)
    assert not sc.is_fixed_point(np.array([1.0, 2.0 + 1e-6]), *S)
    assert sc.is_fixed_point(np.array([1.0, 2.0 + 1e-6]), *S, tol=1e-4)
    assert isinstance(sc.is_fixed_point(np.zeros(2), *S), bool)


def test_closed_forms_for_other_statistics():
    assert sc.chain_fixed_point_errors(3.0, 1.5, 2.0) == pytest.approx(
        {"minimum": 3.0 - 1.125, "saddle": 3.0})


# --- B10 -----------------------------------------------------------------

def _flow(w0, t_end, n_eval):
    """Exact gradient flow dw/dt = -dE/dw for the sheet's statistics (tau = 1)."""
    def rhs(t, w):
        r = 2 * (sc.SIGMA_X * w[0] * w[1] - sc.SIGMA_YX)
        return -np.array([r * w[1], r * w[0]])
    t = np.linspace(0.0, t_end, n_eval)
    sol = solve_ivp(rhs, (0.0, t_end), w0, t_eval=t, rtol=1e-11, atol=1e-12, method="DOP853")
    return sol.y.T


@pytest.mark.parametrize("w0", [(0.5, 1.0), (-1.5, 0.5), (0.1, 0.2)])
def test_euler_close_to_exact_flow_and_first_order(w0):
    exact = _flow(np.array(w0), 10.0, 1001)
    e1 = sc.euler_trajectory(np.array(w0), *S)
    assert e1.shape == (1001, 2)
    err1 = np.abs(e1 - exact).max()
    assert err1 < 0.05
    e2 = sc.euler_trajectory(np.array(w0), *S, dt=0.005, n_steps=2000)[::2]
    err2 = np.abs(e2 - exact).max()
    assert 1.7 < err1 / err2 < 2.3  # global error O(dt)


def test_euler_first_step_by_hand_and_tau():
    np.testing.assert_allclose(sc.euler_trajectory(np.array([2.0, -2.0]), *S, n_steps=1),
                               [[2.0, -2.0], [1.76, -1.76]])
    a = sc.euler_trajectory(np.array([0.5, 1.0]), *S, tau=2.0, dt=0.02, n_steps=10)
    b = sc.euler_trajectory(np.array([0.5, 1.0]), *S, tau=1.0, dt=0.01, n_steps=10)
    np.testing.assert_allclose(a, b, rtol=1e-14)


def test_start_on_antidiagonal_goes_to_saddle():
    traj = sc.euler_trajectory(np.array([2.0, -2.0]), *S)
    np.testing.assert_array_equal(traj[:, 0], -traj[:, 1])  # w1 = -w2 exactly, all along
    assert np.abs(traj[-1]).max() < 1e-12
    assert sc.chain_error(traj[-1], *S) == pytest.approx(4.5)


@pytest.mark.parametrize("w0, branch", [((0.001, 0.001), 1.0), ((2.1, -2.0), 1.0), ((0.5, 1.0), 1.0),
                                        ((-1.5, 0.5), -1.0)])
def test_other_starts_end_on_the_hyperbola(w0, branch):
    traj = sc.euler_trajectory(np.array(w0), *S)
    w = traj[-1]
    assert w[0] * w[1] == pytest.approx(2.0, abs=1e-8)
    assert np.sign(w[0]) == np.sign(w[1]) == branch
    # gradient flow conserves w1^2 - w2^2; Euler drifts by O(dt)
    c = traj[:, 0] ** 2 - traj[:, 1] ** 2
    assert np.abs(c - c[0]).max() < 0.1


def test_euler_starts_are_the_sheets_and_the_rubric_grades_them():
    from grader.pipeline.plan import materialise
    from grader.rubric import get_rubric

    assert sc.EULER_STARTS == ((0.001, 0.001), (2.1, -2.0), (2.0, -2.0))
    check = next(c for c in get_rubric("backprop").item("B10").checks if c.name == "the three starts of part f")
    graded = [tuple(materialise(case.args[0], {}).tolist()) for case in check.cases]
    assert graded == list(sc.EULER_STARTS)
    # (0.001, 0.001) escapes the saddle along w1 = w2 to (sqrt 2, sqrt 2)
    traj = sc.euler_trajectory(np.array([0.001, 0.001]), *S)
    np.testing.assert_array_equal(traj[:, 0], traj[:, 1])
    np.testing.assert_allclose(traj[-1], np.sqrt(2.0), rtol=1e-12)


def _euler_divided(w0, sigma_y, sigma_yx, sigma_x, tau=1.0, dt=0.01, n_steps=1000):
    w, out = np.array(w0, dtype=float), [np.array(w0, dtype=float)]
    for _ in range(n_steps):
        w_tot = np.prod(w)
        w = w - dt / tau * 2 * (sigma_x * w_tot - sigma_yx) * (w_tot / w)
        out.append(w)
    return np.array(out)


def _euler_pair(w0, sigma_y, sigma_yx, sigma_x, tau=1.0, dt=0.01, n_steps=1000):
    (w1, w2), out = w0, [tuple(w0)]
    for _ in range(n_steps):
        g1 = 2 * sigma_x * w1 * w2**2 - 2 * sigma_yx * w2
        g2 = 2 * sigma_x * w2 * w1**2 - 2 * sigma_yx * w1
        w1, w2 = w1 + (-g1) * (dt / tau), w2 + (-g2) * (dt / tau)
        out.append((w1, w2))
    return np.array(out)


@pytest.mark.parametrize("w0", sc.EULER_STARTS)
def test_other_orderings_of_the_euler_step_agree_within_the_rubric_tolerance(w0):
    """B10's tolerance (rtol 1e-9, atol 1e-12) admits every correct ordering of the float64 update."""
    ref = sc.euler_trajectory(np.array(w0), *S)
    for other in (_euler_divided, _euler_pair):
        got = other(w0, *S)
        assert np.all(np.abs(got - ref) <= 1e-12 + 1e-9 * np.abs(ref)), other.__name__
        assert np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-12)) < 1e-12  # a thousand times inside it


def test_sequential_update_mutant_leaves_the_saddle_path():
    traj = ms.euler_trajectory__sequential_update(np.array([2.0, -2.0]), *S)
    ref = sc.euler_trajectory(np.array([2.0, -2.0]), *S)
    np.testing.assert_array_equal(traj[:2, 0], ref[:2, 0])  # w1's first step is the same
    assert traj[1, 1] != ref[1, 1]
    w = traj[-1]
    assert w[0] * w[1] == pytest.approx(2.0, abs=1e-6) and w[0] < 0 and w[1] < 0
    # and it sends (2.1, -2) to the other branch of the hyperbola
    w = ms.euler_trajectory__sequential_update(np.array([2.1, -2.0]), *S)[-1]
    assert w[0] * w[1] == pytest.approx(2.0, abs=1e-6) and w[0] < 0 and w[1] < 0


# --- B11 -----------------------------------------------------------------

@pytest.mark.parametrize("D", [2, 3, 4, 6, 10])
@pytest.mark.parametrize("w", [0.5, 1.0, 1.1, -0.8])
def test_balanced_functions_against_the_full_chain(D, w):
    full = np.full(D - 1, w)
    assert sc.balanced_error(w, D, *S) == pytest.approx(sc.chain_error(full, *S), rel=1e-12)
    # per-weight gradient: perturb one weight of the full chain
    fd_one = _fd_grad(_E, full)
    np.testing.assert_allclose(fd_one, sc.balanced_gradient(w, D, *S), rtol=1e-6, atol=1e-9)
    # derivative of E(w) along the shared w is D-1 times as large
    eps = 1e-6
    fd_shared = (sc.balanced_error(w + eps, D, *S) - sc.balanced_error(w - eps, D, *S)) / (2 * eps)
    assert fd_shared == pytest.approx((D - 1) * sc.balanced_gradient(w, D, *S), rel=1e-6, abs=1e-9)
    if D > 2:
        assert ms.balanced_gradient__shared_w_derivative(w, D, *S) != pytest.approx(
            sc.balanced_gradient(w, D, *S), rel=1e-6)


def test_balanced_functions_broadcast():
    w = np.linspace(-1.0, 1.0, 5)
    E = sc.balanced_error(w, 4, *S)
    g = sc.balanced_gradient(w, 4, *S)
    assert E.shape == g.shape == (5,)
    np.testing.assert_allclose(E, [_E([v] * 3) for v in w])


def test_initial_gradients_table():
    G = sc.initial_gradients(sc.BALANCED_W0S, sc.BALANCED_DEPTHS, *S)
    assert G.shape == (3, 19)
    for i, w0 in enumerate(sc.BALANCED_W0S):
        for j, D in enumerate(sc.BALANCED_DEPTHS):
            assert G[i, j] == pytest.approx(_fd_grad(_E, np.full(D - 1, w0))[0], rel=1e-6, abs=1e-9)
    np.testing.assert_allclose(G[1], -2.0)                   # w0 = 1: depth-independent
    assert abs(G[0, -1]) < 1e-4 * abs(G[0, 0])              # w0 = 0.5: vanishes with depth
    assert G[2, -1] > 10 * abs(G[2, 0])                     # w0 = 1.1: explodes


def test_scalar_chain_mutants_registered():
    names = {m.name: m for m in mistakes_in(ms)}
    assert set(names) == {"euler_trajectory__sequential_update",
                          "balanced_gradient__shared_w_derivative",
                          "_notebook_figure_b12_phase__sequential_update",  # B12's figures (the notebook's)
                          "_notebook_figure_b12_phase__no_trajectories",
                          "_notebook_figure_b12_balanced__d_weights"}
    for m in names.values():
        assert m.name.startswith(m.replaces + "__") and hasattr(sc, m.replaces)


# --- figures -------------------------------------------------------------

def test_chain_figures(tmp_path):
    from matplotlib.figure import Figure

    from reference.figures import backprop as fb

    g = np.linspace(-3, 3, 31)
    E = np.array([[_E([a, b]) for a in g] for b in g])
    trajs = [sc.euler_trajectory(np.array(w0), *S, n_steps=50) for w0 in sc.EULER_STARTS]
    figs = [
        fb.phase_portrait_figure(g, g, E, trajs, {"minimum": 2.0, "saddle": (0, 0)},
                                 path=tmp_path / "p.png"),
        fb.balanced_error_figure(g, {D: sc.balanced_error(g, D, *S) for D in range(2, 7)},
                                 path=tmp_path / "b.png"),
        fb.initial_gradient_figure(sc.BALANCED_DEPTHS,
                                   sc.initial_gradients(sc.BALANCED_W0S, sc.BALANCED_DEPTHS, *S),
                                   sc.BALANCED_W0S, path=tmp_path / "g.png"),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    assert all((tmp_path / n).stat().st_size > 1000 for n in ("p.png", "b.png", "g.png"))


def test_docstring_examples():
    import doctest

    res = doctest.testmod(sc, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0 and res.attempted > 0

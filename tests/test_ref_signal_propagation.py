"""Tests of reference.signal_propagation (assignment D) against independent computations.

Mean-field quantities are checked against ``scipy.integrate.quad`` (adaptive,
so independent of the reference's fixed-node rule) and root-finding on top of
it; random-network quantities against the mean-field values within their
Monte-Carlo spread; the backpropagation against finite differences on a
network rebuilt from the documented order of the ``rng`` draws.
"""
from __future__ import annotations

import ast
import doctest
import inspect
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.optimize import brentq

import reference.signal_propagation as sp
from reference.mistakes import mistakes_in

RUBRIC = Path(__file__).resolve().parent.parent / "rubrics" / "signal-propagation.yaml"


# ----------------------------------------------------------------------------
# independent mean-field computations with scipy.integrate.quad


def _phi_pdf(z):
    return np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)


def quad_expect(f, q, eps=1e-13):
    """``E[f(sqrt(q) z)]`` by adaptive quadrature in ``u = sqrt(q) z`` with breakpoints."""
    if q == 0.0:
        return float(f(0.0))
    s = np.sqrt(q)
    g = lambda u: f(u) * _phi_pdf(u / s) / s  # noqa: E731
    # tanh varies on |u| < ~20, the Gaussian on |u| < 10 s: split there
    pts = sorted({-10.0 * s, 10.0 * s, -20.0, -5.0, -1.0, 0.0, 1.0, 5.0, 20.0})
    pts = [p for p in pts if -10.0 * s <= p <= 10.0 * s]
    return sum(quad(g, a, b, epsabs=eps, epsrel=1e-14, limit=500)[0] for a, b in zip(pts[:-1], pts[1:]))


def tanh2(u):
    return np.tanh(u) ** 2


def dtanh2(u):
    return (1.0 / np.cosh(np.minimum(np.abs(u), 300.0))) ** 4


def quad_q_map(q, sw, sb):
    return sw**2 * quad_expect(tanh2, q) + sb**2


def quad_q_star(sw, sb):
    return brentq(lambda q: quad_q_map(q, sw, sb) - q, 1e-12 if sb == 0 else 0.0, sw**2 + sb**2, xtol=1e-15)


def quad_c_map(c, sw, sb, qs):
    """``(sigma_w^2 E[tanh(u1) tanh(u2)] + sigma_b^2) / q*`` by nested quad."""
    s, r = np.sqrt(qs), np.sqrt(1.0 - c * c)

    def inner(z1):
        if r == 0.0:
            return np.tanh(s * c * z1)
        return quad(lambda z2: np.tanh(s * (c * z1 + r * z2)) * _phi_pdf(z2), -9.0, 9.0,
                    epsabs=1e-14, epsrel=1e-13, limit=200, points=[-(c * z1) / r])[0]

    outer = quad(lambda z1: np.tanh(s * z1) * inner(z1) * _phi_pdf(z1), -9.0, 9.0,
                 epsabs=1e-13, epsrel=1e-13, limit=200, points=[0.0])[0]
    return (sw**2 * outer + sb**2) / qs


# ----------------------------------------------------------------------------
# quadrature


@pytest.mark.parametrize("q", [0.0, 1e-6, 1e-2, 0.3, 1.0, 2.25, 3.0, 10.0, 100.0, 1000.0, 1e4])
def test_gauss_expect_matches_quad_for_all_q(q):
    got = sp._gauss_expect(tanh2, np.array([q]))[0]
    got_d = sp._gauss_expect(lambda u: sp._dtanh(u) ** 2, np.array([q]))[0]
    assert got == pytest.approx(quad_expect(tanh2, q), rel=1e-12, abs=1e-15)
    assert got_d == pytest.approx(quad_expect(dtanh2, q), rel=1e-11, abs=1e-15)


# ----------------------------------------------------------------------------
# D1


def test_q_star_sheet_point_against_quad_fixed_point():
    # q*(sigma_w=2, sigma_b=0.3) = 2.253753376227891 (2.25375337623 to 12 digits):
    # the fixed point of the quad-based length map (epsabs 1e-13) found by brentq.
    ref = quad_q_star(2.0, 0.3)
    assert sp.q_star(2.0, 0.3) == pytest.approx(ref, abs=1e-11)
    assert round(ref, 11) == 2.25375337623
    assert isinstance(sp.q_star(2.0, 0.3), float)


@pytest.mark.parametrize("sw, sb", [(1.0, 0.05), (0.9, 0.1), (1.2, 0.3), (1.5, 0.05), (2.5, 0.3), (4.0, 1.0)])
def test_q_star_against_quad_fixed_point(sw, sb):
    assert sp.q_star(sw, sb) == pytest.approx(quad_q_star(sw, sb), rel=1e-11, abs=1e-13)


@pytest.mark.parametrize("q", [0.0, 1e-3, 0.1, 0.5, 1.0, 2.5, 7.0, 30.0, 300.0])
@pytest.mark.parametrize("sw, sb", [(1.5, 0.2), (0.8, 0.0), (3.0, 1.0)])
def test_q_map_against_quad(q, sw, sb):
    assert sp.q_map(q, sw, sb) == pytest.approx(quad_q_map(q, sw, sb), rel=1e-12, abs=1e-15)


def test_q_map_broadcasts():
    q = np.array([[0.1], [1.0], [10.0]])
    sw = np.array([0.5, 1.0, 2.0, 3.0])
    out = sp.q_map(q, sw, 0.2)
    assert out.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            assert out[i, j] == pytest.approx(sp.q_map(float(q[i, 0]), float(sw[j]), 0.2), rel=1e-14)
    assert isinstance(sp.q_map(1.0, 1.0, 0.0), float)


def test_q_star_vectorised():
    sw = np.array([0.9, 2.0, 1.3])
    sb = np.array([0.1, 0.3, 0.0])
    out = sp.q_star(sw, sb)
    assert out.shape == (3,)
    np.testing.assert_array_equal(out, [sp.q_star(a, b) for a, b in zip(sw, sb)])


def test_q_star_without_bias():
    # ordered phase: the signal dies out; chaotic phase: the positive root, not q = 0
    assert sp.q_star(0.8, 0.0) == 0.0
    assert sp.q_star(1.0, 0.0) == 0.0
    q = sp.q_star(1.3, 0.0)
    assert q == pytest.approx(quad_q_star(1.3, 0.0), rel=1e-11)
    assert q > 0.3
    # continuous in sigma_b -> 0 in the chaotic phase
    assert sp.q_star(1.3, 1e-7) == pytest.approx(q, abs=1e-10)
    # and q* -> 0 continuously as sigma_b -> 0 in the ordered phase
    assert sp.q_star(0.8, 1e-4) < 1e-7


@settings(max_examples=40, deadline=None)
@given(sw=st.floats(0.1, 5.0), sb=st.floats(0.01, 2.0), q1=st.floats(0.0, 50.0), q2=st.floats(0.0, 50.0))
def test_q_map_is_increasing_in_q(sw, sb, q1, q2):
    lo, hi = sorted((q1, q2))
    assert sp.q_map(lo, sw, sb) <= sp.q_map(hi, sw, sb) + 1e-14


@settings(max_examples=40, deadline=None)
@given(sw=st.floats(0.1, 5.0), sb=st.floats(0.0, 2.0))
def test_q_star_is_a_fixed_point_in_its_bracket(sw, sb):
    q = sp.q_star(sw, sb)
    assert abs(sp.q_map(q, sw, sb) - q) <= 1e-13 * (1.0 + q)
    assert sb**2 - 1e-15 <= q <= sw**2 + sb**2
    if sb == 0.0 and sw > 1.0 + 1e-6:
        assert q > 0.0


# ----------------------------------------------------------------------------
# D3, D4


@pytest.mark.parametrize("sw, sb", [(2.0, 0.3), (0.9, 0.1), (1.5, 0.05), (1.3, 0.0)])
def test_chi1_against_quad(sw, sb):
    qs = quad_q_star(sw, sb)
    assert sp.chi1(sw, sb) == pytest.approx(sw**2 * quad_expect(dtanh2, qs), rel=1e-11)


def test_chi1_without_bias_in_ordered_phase_is_sigma_w_squared():
    assert sp.chi1(0.8, 0.0) == pytest.approx(0.64, rel=1e-14)
    assert sp.chi1(1.0, 0.0) == pytest.approx(1.0, rel=1e-14)


def test_edge_of_chaos_has_chi1_one_and_the_given_q_star():
    qs = np.logspace(0.0, 3.0, 25)
    sw, sb = sp.edge_of_chaos(qs)
    assert sw.shape == sb.shape == qs.shape
    # q* is recovered by root-finding on the length map, chi_1 from that root
    np.testing.assert_allclose(sp.q_star(sw, sb), qs, rtol=1e-10)
    np.testing.assert_allclose(sp.chi1(sw, sb), 1.0, rtol=0, atol=1e-10)
    # sigma_w^2 and sigma_b^2 both grow along the line; sigma_w^2 ~ sqrt(q*)
    assert np.all(np.diff(sw) > 0) and np.all(np.diff(sb) > 0)
    assert sw[-1] ** 2 == pytest.approx(np.sqrt(2 * np.pi * 1000.0) * 3 / 4, rel=0.02)


@pytest.mark.parametrize("q", [1.0, 10.0, 100.0, 1000.0])
def test_edge_of_chaos_against_quad(q):
    sw2 = 1.0 / quad_expect(dtanh2, q)
    sb2 = q - sw2 * quad_expect(tanh2, q)
    sw, sb = sp.edge_of_chaos(np.array([q]))
    assert sw[0] ** 2 == pytest.approx(sw2, rel=1e-11)
    assert sb[0] ** 2 == pytest.approx(sb2, rel=1e-11)


def test_edge_of_chaos_separates_the_phases():
    sw, sb = sp.edge_of_chaos(np.array([2.0]))
    assert sp.chi1(sw[0] * 1.05, sb[0]) > 1.0 > sp.chi1(sw[0] * 0.95, sb[0])


# ----------------------------------------------------------------------------
# D5: correlation map and c*


@pytest.mark.parametrize("sw, sb", [(2.0, 0.3), (0.9, 0.1), (1.5, 0.05), (4.0, 0.5)])
def test_c_map_fixed_point_at_one_and_value_at_zero(sw, sb):
    assert sp.c_map(1.0, sw, sb) == pytest.approx(1.0, abs=1e-12)
    # tanh is odd, so E[phi(u1) phi(u2)] = 0 at c = 0
    assert sp.c_map(0.0, sw, sb) == pytest.approx(sb**2 / sp.q_star(sw, sb), rel=1e-12)


@pytest.mark.parametrize("c", [-0.7, 0.3, 0.95])
@pytest.mark.parametrize("sw, sb", [(2.0, 0.3), (1.2, 0.3)])
def test_c_map_against_nested_quad(c, sw, sb):
    qs = quad_q_star(sw, sb)
    assert sp.c_map(c, sw, sb) == pytest.approx(quad_c_map(c, sw, sb, qs), abs=1e-11)


def test_c_map_vectorised_and_increasing():
    c = np.linspace(-1.0, 1.0, 41)
    out = sp.c_map(c, 2.0, 0.3)
    assert out.shape == c.shape
    assert np.all(np.diff(out) > 0)  # dC/dc = sigma_w^2 E[phi'(u1) phi'(u2)] > 0
    assert out[10] == pytest.approx(sp.c_map(float(c[10]), 2.0, 0.3), rel=1e-14)
    # convex on [0, 1] (power series in c with non-negative coefficients)
    pos = out[20:]
    assert np.all(np.diff(pos, 2) > -1e-12)


def test_c_map_slope_at_one_is_chi1():
    eps = 1e-4
    slope = (sp.c_map(1.0, 2.0, 0.3) - sp.c_map(1.0 - eps, 2.0, 0.3)) / eps
    assert slope == pytest.approx(sp.chi1(2.0, 0.3), rel=1e-3)


@pytest.mark.parametrize("sw, sb", [(2.0, 0.3), (1.4, 0.1), (3.0, 0.5)])
def test_c_star_brackets_the_quad_root(sw, sb):
    c = sp.c_star(sw, sb)
    qs = quad_q_star(sw, sb)
    # the quad-based g(c) = C(c) - c changes sign within 1e-8 of the reference's root
    assert quad_c_map(c - 1e-8, sw, sb, qs) - (c - 1e-8) > 0
    assert quad_c_map(c + 1e-8, sw, sb, qs) - (c + 1e-8) < 0


def test_c_star_is_where_deep_iteration_ends():
    # iterating the map is slow but converges to the stable fixed point
    c = 0.5
    for _ in range(400):
        c = sp.c_map(c, 2.0, 0.3)
    assert c == pytest.approx(sp.c_star(2.0, 0.3), abs=1e-12)


def test_c_star_phases():
    assert sp.c_star(0.9, 0.1) == 1.0
    assert sp.c_star(1.2, 0.3) == 1.0
    assert sp.c_star(1.3, 0.0) == 0.0  # chaotic without bias: c = 0 is the stable fixed point
    c = sp.c_star(2.0, 0.3)
    assert 0.0 < c < 1.0 and sp.c_map(c, 2.0, 0.3) == pytest.approx(c, abs=1e-13)
    # just past the edge c* is close to 1 and still found
    sw, sb = sp.edge_of_chaos(np.array([1.0]))
    c_edge = sp.c_star(sw[0] * 1.01, sb[0])
    assert 0.9 < c_edge < 1.0
    assert sp.c_map(c_edge, sw[0] * 1.01, sb[0]) == pytest.approx(c_edge, abs=1e-12)


# ----------------------------------------------------------------------------
# random networks: D2, D5, D6, D7


def test_empirical_q_settles_at_q_star():
    qs = sp.q_star(2.0, 0.3)
    tails = np.array([sp.empirical_q(2.0, 0.3, 400, 12, 4, np.random.default_rng(k))[-5:].mean() for k in range(8)])
    spread = tails.std(ddof=1)
    assert spread < 0.1 * qs
    assert abs(tails.mean() - qs) < 4 * spread / np.sqrt(len(tails)) + 0.01 * qs


@pytest.mark.slow
def test_empirical_q_wide_network_matches_q_star():
    q = sp.empirical_q(2.0, 0.3, 2000, 10, 5, np.random.default_rng(1))
    qs = sp.q_star(2.0, 0.3)
    # one network of width 2000, 5 inputs: relative spread about 1.5 % per layer
    assert abs(q[-5:].mean() - qs) < 0.05 * qs
    assert q.shape == (10,)
    # the first layer is sigma_w^2 |x|^2 / N + sigma_b^2 for x ~ N(0, I)
    assert q[0] == pytest.approx(4.0 + 0.09, rel=0.05)


def test_empirical_q_is_reproducible_and_uses_rng():
    a = sp.empirical_q(1.5, 0.1, 50, 4, 2, np.random.default_rng(3))
    b = sp.empirical_q(1.5, 0.1, 50, 4, 2, np.random.default_rng(3))
    c = sp.empirical_q(1.5, 0.1, 50, 4, 2, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_correlation_trajectory_goes_to_one_in_the_ordered_phase():
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((2, 200))
    c = sp.correlation_trajectory(x1, x2, 0.9, 0.1, 300, 30, rng)
    assert c.shape == (30,)
    assert abs(c[0]) < 0.5 and c[-1] > 0.99


def test_correlation_trajectory_goes_to_c_star_in_the_chaotic_phase():
    cs = sp.c_star(3.0, 0.5)
    tails = []
    for k in range(10):
        rng = np.random.default_rng(k)
        x1, x2 = rng.standard_normal((2, 100))
        x2 = 0.99 * x1 + np.sqrt(1 - 0.99**2) * x2     # start close together: they must decorrelate
        tails.append(sp.correlation_trajectory(x1, x2, 3.0, 0.5, 300, 25, rng)[-10:].mean())
    tails = np.array(tails)
    assert abs(tails.mean() - cs) < 4 * tails.std(ddof=1) / np.sqrt(len(tails))
    assert tails.max() < 0.6


def test_correlation_of_an_input_with_itself_is_one():
    rng = np.random.default_rng(5)
    x = rng.standard_normal(50)
    np.testing.assert_allclose(sp.correlation_trajectory(x, x, 2.0, 0.3, 100, 5, rng), 1.0, rtol=1e-14)


@pytest.mark.parametrize("sw, sb", [(2.0, 0.3), (0.9, 0.1)])
def test_chi1_empirical_within_monte_carlo_error(sw, sb):
    vals = np.array([sp.chi1_empirical(sw, sb, 300, np.random.default_rng(k)) for k in range(40)])
    se = vals.std(ddof=1) / np.sqrt(len(vals))
    assert abs(vals.mean() - sp.chi1(sw, sb)) < 4 * se + 1e-3 * sp.chi1(sw, sb)


def _rebuild_network(sw, sb, width, depth, seed):
    """The documented draw order of layer_gradient_norms: h^0, then (W^l, b^l), then v."""
    rng = np.random.default_rng(seed)
    qs = sp.q_star(sw, sb)
    x0 = np.tanh(np.sqrt(qs) * rng.standard_normal(width))
    ws, bs = [], []
    for _ in range(depth):
        ws.append(rng.normal(0.0, sw / np.sqrt(width), size=(width, width)))
        bs.append(rng.normal(0.0, sb, size=width))
    v = rng.standard_normal(width)
    return x0, ws, bs, v


def _loss(x0, ws, bs, v):
    x = x0
    for w, b in zip(ws, bs):
        h = w @ x + b
        x = np.tanh(h)
    return v @ h


def test_layer_gradient_norms_against_finite_differences():
    sw, sb, width, depth, seed = 1.7, 0.4, 6, 4, 11
    x0, ws, bs, v = _rebuild_network(sw, sb, width, depth, seed)
    eps = 1e-6
    fd_norms = []
    for l in range(depth):
        grad = np.empty((width, width))
        for i in range(width):
            for j in range(width):
                wp = [w.copy() for w in ws]
                wm = [w.copy() for w in ws]
                wp[l][i, j] += eps
                wm[l][i, j] -= eps
                grad[i, j] = (_loss(x0, wp, bs, v) - _loss(x0, wm, bs, v)) / (2 * eps)
        fd_norms.append(np.linalg.norm(grad))
    got = sp.layer_gradient_norms(sw, sb, width, depth, np.random.default_rng(seed))
    np.testing.assert_allclose(got, fd_norms, rtol=1e-7)


@pytest.mark.parametrize("sw, sb", [(0.7, 0.3), (3.0, 0.5)])
def test_gradient_norm_log_slope_is_half_log_chi1(sw, sb):
    slopes = [np.polyfit(np.arange(20), np.log(sp.layer_gradient_norms(sw, sb, 300, 20, np.random.default_rng(k))), 1)[0]
              for k in range(10)]
    expected = -0.5 * np.log(sp.chi1(sw, sb))
    # finite-width spread of one slope is about 0.01-0.02; the mean of 10 is within 0.02
    assert np.mean(slopes) == pytest.approx(expected, abs=0.02)
    assert np.sign(np.mean(slopes)) == np.sign(expected)


def test_layer_gradient_histograms_normalised_and_same_draws():
    e, d = sp.layer_gradient_histograms(1.5, 0.2, 60, 5, np.random.default_rng(2), n_bins=15)
    assert e.shape == (5, 16) and d.shape == (5, 15)
    np.testing.assert_allclose(np.sum(d * np.diff(e, axis=1), axis=1), 1.0, rtol=1e-12)
    # the outermost edges are the largest |entry|; it scales with the layer's gradient norm
    norms = sp.layer_gradient_norms(1.5, 0.2, 60, 5, np.random.default_rng(2))
    assert np.all(e[:, -1] <= norms + 1e-12) and np.all(e[:, -1] > norms / 60)
    np.testing.assert_allclose(e[:, 0], -e[:, -1])


# ----------------------------------------------------------------------------
# docstrings, mutants, rubric


def test_docstring_examples_run():
    failures, _ = doctest.testmod(sp, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0


def test_solution_regions_do_not_leak_private_helpers_into_given_code():
    tree = ast.parse(inspect.getsource(sp))
    src_lines = inspect.getsource(sp).splitlines()
    starts = [node.lineno for node in tree.body] + [len(src_lines) + 1]
    for node, nxt in zip(tree.body, starts[1:]):
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            # up to the next top-level statement: the END marker is a comment after the body
            text = "\n".join(src_lines[node.lineno - 1:nxt - 1])
            assert "### BEGIN SOLUTION" in text, node.name
            outside = text.split("### BEGIN SOLUTION")[0] + text.split("### END SOLUTION")[-1]
            assert "_gauss" not in outside and "_backprop" not in outside, node.name


def _mutated_module(m):
    """The reference with one mutant spliced in, as the grader builds it."""
    src = textwrap.dedent(inspect.getsource(m.func))
    fn = ast.parse(src).body[0]
    fn.decorator_list = []
    fn.name = m.replaces
    ns: dict = {}
    exec(compile(inspect.getsource(sp) + "\n\n" + ast.unparse(fn) + "\n", "<mutant>", "exec"), ns)
    return ns


def _figure_numbers(fig) -> list[float]:
    """What a drawn figure shows, as numbers: its number of axes and every line's, marker set's and bar's data."""
    out = [float(len(fig.axes))]
    for ax in fig.axes:
        for line in ax.get_lines():
            out += [len(line.get_xdata()), *np.asarray(line.get_xdata(), float), *np.asarray(line.get_ydata(), float)]
        for coll in ax.collections:
            out += [len(coll.get_offsets()), *np.asarray(coll.get_offsets(), float).ravel()]
        out += [len(ax.patches), *[p.get_height() for p in ax.patches if hasattr(p, "get_height")]]
    return out


def test_every_mutant_names_a_rubric_item_and_changes_a_value():
    import reference.mistakes.signal_propagation as mod

    rubric = yaml.safe_load(RUBRIC.read_text())
    ids = {item["id"] for item in rubric["items"]}
    probes = {
        "q_map": lambda ns: [ns["q_map"](q, 1.5, 0.2) for q in (0.1, 0.5, 2.0)],
        "q_star": lambda ns: [ns["q_star"](1.0, 0.05)],
        "chi1": lambda ns: [ns["chi1"](1.5, 0.05)],
        "edge_of_chaos": lambda ns: list(np.concatenate(ns["edge_of_chaos"](np.array([1.0, 10.0])))),
        "c_map": lambda ns: [ns["c_map"](c, 1.5, 0.05) for c in (0.3, 0.9)],
        "c_star": lambda ns: [ns["c_star"](1.3, 0.1)],
        "empirical_q": lambda ns: list(ns["empirical_q"](2.0, 0.3, 50, 3, 2, np.random.default_rng(0))),
        "correlation_trajectory": lambda ns: list(ns["correlation_trajectory"](
            np.ones(10), np.arange(10.0), 2.0, 0.3, 50, 3, np.random.default_rng(0))),
        "chi1_empirical": lambda ns: [ns["chi1_empirical"](2.0, 0.3, 50, np.random.default_rng(0))],
        "layer_gradient_norms": lambda ns: list(ns["layer_gradient_norms"](2.0, 0.3, 30, 4, np.random.default_rng(0))),
        "_notebook_figure_d4": lambda ns: _figure_numbers(ns["_notebook_figure_d4"]()),
        "_notebook_figure_d7": lambda ns: _figure_numbers(ns["_notebook_figure_d7"]()),
    }
    found = mistakes_in(mod)
    assert len(found) >= 15
    ref_ns = vars(sp)
    for m in found:
        assert m.item in ids, m.name
        assert m.replaces in ref_ns and m.name.startswith(m.replaces + "__"), m.name
        assert m.feedback.endswith(".") and len(m.feedback) < 300, m.name
        mut = probes[m.replaces](_mutated_module(m))
        ref = probes[m.replaces](ref_ns)
        assert len(mut) != len(ref) or not np.allclose(mut, ref, rtol=1e-6, atol=1e-9), m.name


def test_rubric_points_and_functions_exist():
    rubric = yaml.safe_load(RUBRIC.read_text())
    items = {item["id"]: item for item in rubric["items"]}
    assert {"D0", "D1", "D2", "D3", "D3-proof", "D4", "D5", "D5-prose", "D6", "D6-proof", "D7"} <= set(items)
    assert {i for i, it in items.items() if it.get("visibility") == "public"} == {"D1", "D3", "D4"}
    for item in rubric["items"]:
        for check in item.get("checks", []):
            # a check calls a function of the submission, or judges the executed notebook's figures
            # against a reference drawing function
            drawn = [s["notebook_figures"] for case in check.get("cases", []) for s in case.get("steps", [])
                     if isinstance(s, dict) and "notebook_figures" in s]
            for name in [check["function"]] if "function" in check else drawn:
                assert hasattr(sp, name), name
            assert "function" in check or drawn, check["name"]
    # the sheet's point is checked to 4 decimal places, as the catalogue says
    d1 = next(c for c in items["D1"]["checks"] if c["name"] == "q* at the sheet's point")
    assert d1["cases"][0]["args"] == [2.0, 0.3] and d1["compare"]["atol"] == 5.0e-5


# ----------------------------------------------------------------------------
# figures


@pytest.mark.slow
def test_figures_render_small():
    from reference.figures import signal_propagation as figs

    assert figs.q_map_figure(sigma_ws=(1.0, 2.0), width=60, depth=4).axes
    assert figs.phase_diagram_figure(q_stars=np.logspace(0, 3, 7)).axes
    assert figs.correlation_figure(cases=((0.9, 0.1), (2.0, 0.3)), width=60, depth=5).axes
    g = [sp.layer_gradient_norms(w, 0.3, 40, 6, np.random.default_rng(0)) for w in (0.7, 2.0)]
    assert figs.gradient_norms_figure(g, [sp.chi1(0.7, 0.3), sp.chi1(2.0, 0.3)]).axes
    e, d = sp.layer_gradient_histograms(2.0, 0.3, 40, 6, np.random.default_rng(0))
    assert len(figs.gradient_histograms_figure(e, d).axes) == 6


@pytest.mark.slow
def test_make_reference_figures_writes_pngs(tmp_path):
    from reference.figures import signal_propagation as figs

    paths = figs.make_reference_figures(tmp_path, width=100, depth=10)
    assert len(paths) == 5 and all(p.stat().st_size > 10_000 for p in paths)

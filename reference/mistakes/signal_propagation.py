"""Known mistakes in assignment D, signal propagation (mutants of ``reference.signal_propagation``).

Each function is spliced into the reference module's source under the name in
``replaces`` (so the reference's other functions call it), and ``dlgrade
validate`` proves the rubric's checks of ``item`` catch it. The bodies use the
reference module's names (``_gauss_expect``, ``_gauss_rule``, ``_dtanh``,
``_scalar_out``, ``_random_layer``, ``_backprop_deltas``, ``q_map``,
``q_star``, ``chi1``, ``c_map``, ``np``); the import below only makes this
module importable and callable on its own (tests call the mutants directly).
"""
from __future__ import annotations

import numpy as np  # noqa: F401  (used by the mutant bodies)

from reference.mistakes import mistake
from reference.signal_propagation import (  # noqa: F401  (used by the mutant bodies)
    _backprop_deltas,
    _dtanh,
    _gauss_expect,
    _gauss_rule,
    _plot_edge_of_chaos,
    _random_layer,
    _scalar_out,
    c_map,
    chi1,
    layer_gradient_norms,
    q_map,
    q_star,
)

# ----------------------------------------------------------------------------
# D1: the length map and q*


@mistake(item="D1", replaces="q_map",
         feedback="Your q map uses sigma_w where the length map has sigma_w**2 "
                  "(W_ij has variance sigma_w**2 / N, Poole et al. eq. 3).")
def q_map__sigma_w_not_squared(q, sigma_w, sigma_b):
    q = np.asarray(q, dtype=np.float64)
    e_phi2 = _gauss_expect(lambda u: np.tanh(u) ** 2, q)
    return _scalar_out(np.asarray(sigma_w, dtype=np.float64) * e_phi2 + np.asarray(sigma_b, dtype=np.float64) ** 2)


@mistake(item="D1", replaces="q_map",
         feedback="Your q map adds sigma_b where it should add the bias variance sigma_b**2 (Poole et al. eq. 3).")
def q_map__sigma_b_not_squared(q, sigma_w, sigma_b):
    q = np.asarray(q, dtype=np.float64)
    e_phi2 = _gauss_expect(lambda u: np.tanh(u) ** 2, q)
    return _scalar_out(np.asarray(sigma_w, dtype=np.float64) ** 2 * e_phi2 + np.asarray(sigma_b, dtype=np.float64))


@mistake(item="D1", replaces="q_map",
         feedback="Your q map evaluates tanh(q z) instead of tanh(sqrt(q) z): the pre-activation "
                  "h ~ N(0, q) is sqrt(q) times a standard normal z.")
def q_map__sqrt_missing(q, sigma_w, sigma_b):
    q = np.asarray(q, dtype=np.float64)
    e_phi2 = _gauss_expect(lambda u: np.tanh(u) ** 2, q**2)  # E[f(sqrt(q^2) z)] = E[f(q z)]
    return _scalar_out(np.asarray(sigma_w, dtype=np.float64) ** 2 * e_phi2 + np.asarray(sigma_b, dtype=np.float64) ** 2)


@mistake(item="D1", replaces="q_map",
         feedback="Your Gaussian average is too large by sqrt(2 pi): the weights of "
                  "hermegauss sum to sqrt(2 pi), so divide the weighted sum by sqrt(2 pi).")
def q_map__measure_unnormalised_2pi(q, sigma_w, sigma_b):
    q = np.asarray(q, dtype=np.float64)
    e_phi2 = np.sqrt(2.0 * np.pi) * _gauss_expect(lambda u: np.tanh(u) ** 2, q)
    return _scalar_out(np.asarray(sigma_w, dtype=np.float64) ** 2 * e_phi2 + np.asarray(sigma_b, dtype=np.float64) ** 2)


@mistake(item="D1", replaces="q_map",
         feedback="Your Gaussian average is too large by sqrt(pi): the weights of hermgauss "
                  "(weight exp(-x^2)) sum to sqrt(pi); use E[f(z)] = sum w_k f(sqrt(2) x_k) / sqrt(pi).")
def q_map__measure_unnormalised_pi(q, sigma_w, sigma_b):
    q = np.asarray(q, dtype=np.float64)
    e_phi2 = np.sqrt(np.pi) * _gauss_expect(lambda u: np.tanh(u) ** 2, q)
    return _scalar_out(np.asarray(sigma_w, dtype=np.float64) ** 2 * e_phi2 + np.asarray(sigma_b, dtype=np.float64) ** 2)


@mistake(item="D1", replaces="q_star",
         feedback="Your q* is the length map iterated a fixed number of times, which has not "
                  "converged near the order-chaos transition: iterate until the change is below "
                  "1e-12, or solve q_map(q) = q with a root-finder such as scipy.optimize.brentq.")
def q_star__fixed_iterations(sigma_w, sigma_b):
    q = np.ones(np.broadcast(np.asarray(sigma_w), np.asarray(sigma_b)).shape)
    for _ in range(30):
        q = np.asarray(q_map(q, sigma_w, sigma_b))
    return _scalar_out(q)


# ----------------------------------------------------------------------------
# D2: empirical q


@mistake(item="D2", replaces="empirical_q",
         feedback="You averaged the squared activations x = tanh(h); q^l is the mean squared "
                  "pre-activation h^l = W^l x^{l-1} + b^l (Poole et al. eq. 2).")
def empirical_q__activations(sigma_w, sigma_b, width, depth, n_inputs, rng):
    x = rng.standard_normal((width, n_inputs))
    out = np.empty(depth)
    for l in range(depth):
        w, b = _random_layer(rng, width, width, sigma_w, sigma_b)
        x = np.tanh(w @ x + b[:, None])
        out[l] = np.mean(x**2)
    return out


# ----------------------------------------------------------------------------
# D3: chi_1


@mistake(item="D3", replaces="chi1",
         feedback="Your chi_1 averages phi(sqrt(q*) z)**2; chi_1 = sigma_w**2 E[phi'(sqrt(q*) z)**2] "
                  "uses the derivative phi'(u) = 1 - tanh(u)**2 (sheet eq. 1).")
def chi1__phi_not_derivative(sigma_w, sigma_b):
    sigma_w = np.asarray(sigma_w, dtype=np.float64)
    qs = np.asarray(q_star(sigma_w, sigma_b))
    return _scalar_out(sigma_w**2 * _gauss_expect(lambda u: np.tanh(u) ** 2, qs))


@mistake(item="D3", replaces="chi1",
         feedback="Your chi_1 averages phi'(sqrt(q*) z) without squaring it: chi_1 = "
                  "sigma_w**2 E[phi'(sqrt(q*) z)**2] (sheet eq. 1).")
def chi1__derivative_not_squared(sigma_w, sigma_b):
    sigma_w = np.asarray(sigma_w, dtype=np.float64)
    qs = np.asarray(q_star(sigma_w, sigma_b))
    return _scalar_out(sigma_w**2 * _gauss_expect(_dtanh, qs))


# ----------------------------------------------------------------------------
# D4: the edge of chaos


@mistake(item="D4", replaces="edge_of_chaos",
         feedback="You returned the variances (sigma_w**2, sigma_b**2); edge_of_chaos returns "
                  "the standard deviations (sigma_w, sigma_b), i.e. their square roots.")
def edge_of_chaos__returns_variances(q_stars):
    q = np.asarray(q_stars, dtype=np.float64)
    sw2 = 1.0 / _gauss_expect(lambda u: _dtanh(u) ** 2, q)
    sb2 = q - sw2 * _gauss_expect(lambda u: np.tanh(u) ** 2, q)
    return sw2, sb2


@mistake(item="D4", replaces="edge_of_chaos",
         feedback="Your sigma_b**2 uses E[phi'**2] where the fixed-point condition q* = "
                  "sigma_w**2 E[phi(sqrt(q*) z)**2] + sigma_b**2 needs E[phi**2].")
def edge_of_chaos__derivative_in_bias(q_stars):
    q = np.asarray(q_stars, dtype=np.float64)
    e_d2 = _gauss_expect(lambda u: _dtanh(u) ** 2, q)
    sw2 = 1.0 / e_d2
    return np.sqrt(sw2), np.sqrt(q - sw2 * e_d2)


# ----------------------------------------------------------------------------
# D5: the correlation map


@mistake(item="D5", replaces="c_map",
         feedback="Your c map returns the covariance q12 = sigma_w**2 E[phi(u1) phi(u2)] + sigma_b**2; "
                  "the correlation is q12 / q* (Poole et al. eqs. 5-6).")
def c_map__covariance_not_correlation(c, sigma_w, sigma_b):
    c = np.asarray(c, dtype=np.float64)
    qs = q_star(sigma_w, sigma_b)
    z, w = _gauss_rule(np.sqrt(qs))
    s = np.sqrt(qs)
    u1 = s * z[:, None]
    u2 = s * (c[..., None, None] * z[:, None] + np.sqrt(1.0 - c[..., None, None] ** 2) * z)
    e12 = np.einsum("i,j,...ij->...", w, w, np.tanh(u1) * np.tanh(u2))
    return _scalar_out(sigma_w**2 * e12 + sigma_b**2)


@mistake(item="D5", replaces="c_map",
         feedback="Your second pre-activation uses c z1 + (1 - c**2) z2; it needs "
                  "sqrt(1 - c**2) z2 to have variance q* (Poole et al. eq. 5).")
def c_map__sqrt_missing_in_u2(c, sigma_w, sigma_b):
    c = np.asarray(c, dtype=np.float64)
    qs = q_star(sigma_w, sigma_b)
    z, w = _gauss_rule(np.sqrt(qs))
    s = np.sqrt(qs)
    u1 = s * z[:, None]
    u2 = s * (c[..., None, None] * z[:, None] + (1.0 - c[..., None, None] ** 2) * z)
    e12 = np.einsum("i,j,...ij->...", w, w, np.tanh(u1) * np.tanh(u2))
    return _scalar_out((sigma_w**2 * e12 + sigma_b**2) / qs)


@mistake(item="D5", replaces="c_star",
         feedback="Your c* is the correlation after a fixed number of layers (c_map iterated from c = 0), "
                  "not the fixed point: near the edge of chaos the iterates are still far from it; "
                  "solve c_map(c) = c for the root in [0, 1) (1 in the ordered phase).")
def c_star__fixed_layers(sigma_w, sigma_b):
    c = 0.0
    for _ in range(20):
        c = float(c_map(c, sigma_w, sigma_b))
    return c


@mistake(item="D5", replaces="correlation_trajectory",
         feedback="Your trajectory returns the covariance q12^l; the correlation divides it by "
                  "sqrt(q11^l q22^l) (Poole et al. eq. 5).")
def correlation_trajectory__covariance(x1, x2, sigma_w, sigma_b, width, depth, rng):
    x = np.stack([np.asarray(x1, dtype=np.float64), np.asarray(x2, dtype=np.float64)], axis=1)
    out = np.empty(depth)
    n_in = x.shape[0]
    for l in range(depth):
        w, b = _random_layer(rng, width, n_in, sigma_w, sigma_b)
        h = w @ x + b[:, None]
        out[l] = h[:, 0] @ h[:, 1] / width
        x = np.tanh(h)
        n_in = width
    return out


@mistake(item="D5", replaces="correlation_trajectory",
         feedback="Your trajectory correlates the activations x^l = tanh(h^l); c^l is the correlation of the "
                  "pre-activations h^l = W^l x^{l-1} + b^l (Poole et al. eq. 5).")
def correlation_trajectory__activations(x1, x2, sigma_w, sigma_b, width, depth, rng):
    x = np.stack([np.asarray(x1, dtype=np.float64), np.asarray(x2, dtype=np.float64)], axis=1)
    out = np.empty(depth)
    n_in = x.shape[0]
    for l in range(depth):
        w, b = _random_layer(rng, width, n_in, sigma_w, sigma_b)
        h = w @ x + b[:, None]
        a = np.tanh(h)
        q = a.T @ a / width
        out[l] = q[0, 1] / np.sqrt(q[0, 0] * q[1, 1])
        x = a
        n_in = width
    return out


@mistake(item="D5", replaces="correlation_trajectory",
         feedback="Your network leaves out the biases b^l: h^l = W^l x^{l-1} + b^l with b_i ~ N(0, sigma_b**2) "
                  "(the shared bias is what keeps c* above 0 in the chaotic phase).")
def correlation_trajectory__no_bias(x1, x2, sigma_w, sigma_b, width, depth, rng):
    x = np.stack([np.asarray(x1, dtype=np.float64), np.asarray(x2, dtype=np.float64)], axis=1)
    out = np.empty(depth)
    n_in = x.shape[0]
    for l in range(depth):
        w, b = _random_layer(rng, width, n_in, sigma_w, sigma_b)
        h = w @ x
        q = h.T @ h / width
        out[l] = q[0, 1] / np.sqrt(q[0, 0] * q[1, 1])
        x = np.tanh(h)
        n_in = width
    return out


# ----------------------------------------------------------------------------
# D6: chi_1 from a Jacobian


@mistake(item="D6", replaces="chi1_empirical",
         feedback="Your Jacobian leaves out D = diag(phi'(h)): the layer's Jacobian is D W, "
                  "and (1/N) Tr(W^T W) alone is just sigma_w**2.")
def chi1_empirical__missing_d(sigma_w, sigma_b, width, rng):
    q = q_star(sigma_w, sigma_b)
    x = np.tanh(np.sqrt(q) * rng.standard_normal(width))  # noqa: F841 - drawn: the rng stream stays the reference's
    w, b = _random_layer(rng, width, width, sigma_w, sigma_b)
    return float(np.sum(w**2) / width)


# ----------------------------------------------------------------------------
# D7: gradients through depth


@mistake(item="D7", replaces="layer_gradient_norms",
         feedback="You returned the squared Frobenius norms ||dL/dW^l||**2, which change by chi_1 per "
                  "layer; return the norms themselves (factor sqrt(chi_1) per layer).")
def layer_gradient_norms__squared(sigma_w, sigma_b, width, depth, rng):
    deltas, inputs = _backprop_deltas(sigma_w, sigma_b, width, depth, rng)
    return np.array([np.sum(d**2) * np.sum(x**2) for d, x in zip(deltas, inputs)])


@mistake(item="D7", replaces="layer_gradient_norms",
         feedback="Your backward pass leaves out phi'(h^l): dL/dh^l = phi'(h^l) * (W^{l+1})^T dL/dh^{l+1}, "
                  "so the gradients shrink or grow by sqrt(chi_1), not sigma_w, per layer.")
def layer_gradient_norms__no_derivative(sigma_w, sigma_b, width, depth, rng):
    q = q_star(sigma_w, sigma_b)
    x = np.tanh(np.sqrt(q) * rng.standard_normal(width))
    weights, inputs = [], []
    for _ in range(depth):
        w, b = _random_layer(rng, width, width, sigma_w, sigma_b)
        weights.append(w)
        inputs.append(x)
        x = np.tanh(w @ x + b)
    delta = rng.standard_normal(width)
    deltas = [delta]
    for l in range(depth - 1, 0, -1):
        delta = weights[l].T @ delta
        deltas.append(delta)
    return np.array([np.linalg.norm(d) * np.linalg.norm(x) for d, x in zip(deltas[::-1], inputs)])


# ----------------------------------------------------------------------------
# D4-figure, D7-figure: the notebook's figures (each mutant is the figure a notebook with that mistake draws)


@mistake(item="D4-figure", replaces="_notebook_figure_d4",
         feedback="Your edge-of-chaos curve is not the critical line chi_1 = 1: it matches the curve drawn with "
                  "E[tanh(h)^2] where chi_1 has the derivative, chi_1 = sigma_w**2 E[tanh'(h)^2] with "
                  "tanh' = 1 - tanh**2 (sheet eq. 1).")
def _notebook_figure_d4__tanh_not_derivative():
    q = np.logspace(-3.0, 3.0, 241)
    sw2 = 1.0 / _gauss_expect(lambda u: np.tanh(u) ** 2, q)
    sb2 = q - sw2 * _gauss_expect(lambda u: np.tanh(u) ** 2, q)
    ok = sb2 > 0
    return _plot_edge_of_chaos(np.sqrt(sw2[ok]), np.sqrt(sb2[ok]))


@mistake(item="D4-figure", replaces="_notebook_figure_d4",
         feedback="Your notebook draws no edge-of-chaos curve: plot sigma_b against sigma_w (or their squares, "
                  "as Poole et al. do) along edge_of_chaos(q_stars) for q* in [1, 1000], in a cell that runs.")
def _notebook_figure_d4__no_curve():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 4.0))
    ax = fig.subplots()
    ax.set_xlabel(r"$\sigma_w$")
    ax.set_ylabel(r"$\sigma_b$")
    return fig


@mistake(item="D7-figure", replaces="_notebook_figure_d7",
         feedback="Your notebook draws no histograms of the gradient entries: the sheet asks for one histogram "
                  "per layer of the entries of dL/dW^l (plt.hist, ax.bar, or np.histogram then plot), in a cell "
                  "that runs.")
def _notebook_figure_d7__no_histograms():
    from matplotlib.figure import Figure

    g = layer_gradient_norms(3.0, 0.5, 300, 6, np.random.default_rng(0))
    fig = Figure(figsize=(5.0, 4.0))
    ax = fig.subplots()
    ax.semilogy(np.arange(1, 7), g, "o-")
    ax.set_xlabel("layer")
    ax.set_ylabel("gradient norm")
    return fig

"""Signal propagation in deep tanh networks at initialisation (D1-D7).

Sheet D (Tanner, Theories of Deep Learning, Problem Sheet 2), after Poole,
Lahiri, Raghu, Sohl-Dickstein & Ganguli, "Exponential expressivity in deep
neural networks through transient chaos", NeurIPS 2016. Equation numbers
``(P3)`` etc. below are those of the paper; the sheet's own numbering is only
used where the exercise catalogue fixes it (``chi_1`` is the sheet's eq. (1)).

The network is

    h^l = W^l x^{l-1} + b^l,   x^l = phi(h^l),   phi = tanh,            (P1)

with ``W^l_ij ~ N(0, sigma_w^2 / N)`` and ``b^l_i ~ N(0, sigma_b^2)``
independent. ``sigma_w`` and ``sigma_b`` are *standard deviations* (the
sheet's point ``(2, 0.3)`` means ``sigma_w^2 = 4``, ``sigma_b^2 = 0.09``).
``z``, ``z1``, ``z2`` denote independent standard normal variables and
``E`` the expectation over them (the paper's Gaussian measure ``Dz``).

    q^l   = (1/N) sum_i (h_i^l)^2                                         (P2)
          = sigma_w^2 E[phi(sqrt(q^{l-1}) z)^2] + sigma_b^2  for large N  (P3)
    q12^l = sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2,                       (P5)
            u1 = sqrt(q11) z1,  u2 = sqrt(q22) (c z1 + sqrt(1 - c^2) z2)
    c^l   = q12^l / sqrt(q11^l q22^l)                                       (P5)
    chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]                 (P7; sheet eq. 1)

Quadrature
----------
Every Gaussian expectation here is a sum over fixed nodes, vectorised over
any number of ``q`` (or ``c``) at once. Gauss-Hermite is the textbook rule,
and is what the skeleton suggests to students, but it cannot reach the
reference's accuracy: its nodes near ``z = 0`` are about ``pi / sqrt(n)``
apart, while ``tanh(sqrt(q) z)`` changes on the scale ``1 / sqrt(q)``.
Measured against ``scipy.integrate.quad``, ``hermegauss(100)`` gives
``E[tanh(sqrt(q) z)^2]`` with error 7e-12 at ``q = 1``, 6e-7 at ``q = 3`` and
4e-2 at ``q = 100`` (and ``edge_of_chaos`` needs ``q`` up to 1000). The
reference therefore uses the trapezoidal rule in ``z`` on ``[-9, 9]`` with a
step ``min(0.5, 0.2 / sqrt(q_max))``: for an integrand analytic in a strip
(``tanh`` has its poles at ``+-i pi / 2``) the trapezoidal rule converges
exponentially, like Gauss-Hermite does for smooth integrands, and the step
resolves ``tanh``'s own scale whatever ``q``. Its relative error is below
4e-14 for every ``q`` in ``[0, 10^4]`` (measured against ``scipy.integrate.quad``
for ``tanh^2`` and ``phi'^2``; tested in ``tests/test_ref_signal_propagation.py``).
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

_Z_MAX = 9.0
"""Half-width of the quadrature grid in ``z`` (the normal mass beyond is 2e-19)."""
_TANH_STEP = 0.2
"""Largest quadrature step in units of ``sqrt(q) z``, i.e. of tanh's own scale."""
_MAX_GRID = 4_000_000
"""Largest number of grid values evaluated at once by ``c_map`` (memory cap)."""


# ----------------------------------------------------------------------------
# private helpers (not in the skeleton)


def _gauss_rule(scale):
    """Nodes and weights for ``E[f(s z)]``, ``z ~ N(0, 1)``, for every ``|s| <= scale``.

    Parameters
    ----------
    scale : float
        Largest ``|s|`` the rule must resolve (``sqrt(q_max)``).

    Returns
    -------
    z, w : ndarray, shape (n,)
        ``sum(w * f(s * z))`` approximates ``E[f(s z)]`` (trapezoidal rule on
        ``[-9, 9]``; ``sum(w) = 1`` to rounding).
    """
    scale = float(scale)
    step = 0.5 if scale * 0.5 <= _TANH_STEP else _TANH_STEP / scale
    n = int(np.ceil(_Z_MAX / step))
    z = np.linspace(-_Z_MAX, _Z_MAX, 2 * n + 1)
    w = (_Z_MAX / n) * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    return z, w


def _gauss_expect(f, q):
    """``E[f(sqrt(q) z)]`` for every entry of ``q >= 0`` (broadcast), ``z ~ N(0, 1)``."""
    q = np.asarray(q, dtype=np.float64)
    s = np.sqrt(q)
    z, w = _gauss_rule(np.max(s) if s.size else 0.0)
    return np.sum(w * f(s[..., None] * z), axis=-1)


def _dtanh(u):
    """``phi'(u) = 1 - tanh(u)^2 = sech(u)^2``."""
    return 1.0 - np.tanh(u) ** 2


def _scalar_out(x):
    """A 0-d result as a Python float, anything else unchanged."""
    x = np.asarray(x, dtype=np.float64)
    return float(x) if x.ndim == 0 else x


def _random_layer(rng, n_out, n_in, sigma_w, sigma_b):
    """One layer's ``W ~ N(0, sigma_w^2 / n_in)`` (n_out, n_in) and ``b ~ N(0, sigma_b^2)`` (n_out,)."""
    w = rng.normal(0.0, abs(sigma_w) / np.sqrt(n_in), size=(n_out, n_in))
    b = rng.normal(0.0, abs(sigma_b), size=n_out)
    return w, b


def _backprop_deltas(sigma_w, sigma_b, width, depth, rng):
    """Forward and backward pass of one deep tanh network with its input at q*.

    The input is ``x^0 = tanh(h^0)`` with ``h^0 ~ N(0, q* I)``, so every layer
    is at the fixed point; the loss is the random linear readout
    ``L = v . h^depth`` with ``v ~ N(0, I)`` drawn after the weights.

    Returns
    -------
    deltas : list of ndarray (width,)
        ``dL/dh^l`` for l = 1..depth.
    inputs : list of ndarray (width,)
        ``x^{l-1}`` for l = 1..depth, so ``dL/dW^l = outer(deltas[l-1], inputs[l-1])``.
    """
    q = q_star(sigma_w, sigma_b)
    x = np.tanh(np.sqrt(q) * rng.standard_normal(width))
    weights, inputs, pre = [], [], []
    for _ in range(depth):
        w, b = _random_layer(rng, width, width, sigma_w, sigma_b)
        h = w @ x + b                                  # Poole et al. eq. (1)
        weights.append(w)
        inputs.append(x)
        pre.append(h)
        x = np.tanh(h)
    delta = rng.standard_normal(width)                 # dL/dh^depth = v
    deltas = [delta]
    for l in range(depth - 1, 0, -1):                  # backprop: d^{l} = phi'(h^l) * W^{l+1}^T d^{l+1}
        delta = _dtanh(pre[l - 1]) * (weights[l].T @ delta)
        deltas.append(delta)
    return deltas[::-1], inputs


# ----------------------------------------------------------------------------
# D1: the length map and its fixed point


def q_map(q, sigma_w, sigma_b):
    """Length map ``q -> sigma_w^2 E[tanh(sqrt(q) z)^2] + sigma_b^2`` (Poole et al. eq. 3).

    The mean squared pre-activation of layer ``l`` of a wide random tanh
    network, given that of layer ``l - 1``.

    Parameters
    ----------
    q : float or ndarray, any shape
        Squared length ``q^{l-1} >= 0`` of the previous layer's pre-activations.
    sigma_w, sigma_b : float or ndarray
        Standard deviations of the weights (times ``sqrt(N)``) and of the
        biases; broadcast against ``q``.

    Returns
    -------
    float or ndarray
        ``q^l``, shape of ``broadcast(q, sigma_w, sigma_b)`` (a float for scalars).

    Notes
    -----
    ``q^l = sigma_w^2 int Dz tanh(sqrt(q^{l-1}) z)^2 + sigma_b^2`` with ``Dz``
    the standard Gaussian measure. With Gauss-Hermite nodes ``x_k`` and weights
    ``w_k`` from ``numpy.polynomial.hermite_e.hermegauss(n)`` (weight function
    ``exp(-x^2/2)``), ``E[f(z)] ~ sum_k w_k f(x_k) / sqrt(2 pi)``; about 100
    nodes give 1e-11 for ``q <= 1`` but only 1e-6 at ``q = 3``: check
    your rule against ``scipy.integrate.quad`` where ``q`` is large.

    Examples
    --------
    >>> round(q_map(0.0, 2.0, 0.3), 12)
    0.09
    >>> round(q_map(1.0, 1.0, 0.0), 6)
    0.394294
    """
    ### BEGIN SOLUTION
    q = np.asarray(q, dtype=np.float64)
    sigma_w = np.asarray(sigma_w, dtype=np.float64)
    sigma_b = np.asarray(sigma_b, dtype=np.float64)
    e_phi2 = _gauss_expect(lambda u: np.tanh(u) ** 2, q)
    return _scalar_out(sigma_w**2 * e_phi2 + sigma_b**2)  # Poole et al. eq. (3)
    ### END SOLUTION


def _q_star_one(sigma_w, sigma_b):
    """``q_star`` for one scalar pair (see :func:`q_star`)."""
    sw2, sb2 = float(sigma_w) ** 2, float(sigma_b) ** 2
    if sb2 > 0.0:
        # V(0) - 0 = sb2 > 0 and V(q) < sw2 + sb2 for every q: a sign change on [0, sw2 + sb2]
        return brentq(lambda q: q_map(q, sigma_w, sigma_b) - q, 0.0, sw2 + sb2,
                      xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)
    if sw2 <= 1.0 + 1e-12:
        return 0.0  # ordered phase without bias: q = 0 is the only (stable) fixed point
    # chaotic, no bias: root of V(q)/q - 1, which is sw2 - 1 > 0 as q -> 0 and < 0 at q = sw2
    return brentq(lambda q: q_map(q, sigma_w, 0.0) / q - 1.0, 1e-100, sw2,
                  xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)


def q_star(sigma_w, sigma_b):
    """Fixed point ``q* = q_map(q*)`` of the length map (Poole et al. eq. 3).

    Parameters
    ----------
    sigma_w, sigma_b : float or ndarray
        Weight and bias standard deviations (broadcast together).

    Returns
    -------
    float or ndarray
        ``q* >= 0`` (a float for scalar arguments).

    Notes
    -----
    ``V(q) = q_map(q)`` is increasing and concave with ``V(0) = sigma_b^2``,
    ``V'(0) = sigma_w^2`` and ``V < sigma_w^2 + sigma_b^2``, so:

    * ``sigma_b > 0``: exactly one fixed point, in ``(0, sigma_w^2 +
      sigma_b^2)``, and it is stable (``V'(q*) < 1``); found by Brent's method
      on ``V(q) - q``. Iterating ``V`` also converges, but only at the rate
      ``V'(q*)``, which tends to 1 as ``sigma_b -> 0`` near ``sigma_w = 1``.
    * ``sigma_b = 0`` and ``sigma_w <= 1``: ``q* = 0`` (the signal dies out).
    * ``sigma_b = 0`` and ``sigma_w > 1``: ``q = 0`` is still a fixed point but
      an unstable one; ``q*`` is the positive, stable root (of ``V(q)/q - 1``).

    Examples
    --------
    >>> round(q_star(2.0, 0.3), 8)
    2.25375338
    >>> q_star(0.8, 0.0)
    0.0
    """
    ### BEGIN SOLUTION
    out = np.vectorize(_q_star_one, otypes=[np.float64])(sigma_w, sigma_b)
    return _scalar_out(out)
    ### END SOLUTION


# ----------------------------------------------------------------------------
# D2: the length map in a real network


def empirical_q(sigma_w, sigma_b, width, depth, n_inputs, rng):
    """Mean squared pre-activation ``q^l`` (Poole et al. eq. 2) of a real random tanh network.

    One network of ``depth`` layers of ``width`` units is drawn and
    ``n_inputs`` inputs ``x^0 ~ N(0, I)`` (shape ``(width,)`` each) are
    propagated through it.

    Parameters
    ----------
    sigma_w, sigma_b : float
        Weight and bias standard deviations.
    width : int
        Units per layer ``N`` (also the input dimension).
    depth : int
        Number of layers.
    n_inputs : int
        Number of inputs averaged over.
    rng : numpy.random.Generator
        Draws the inputs (a ``(width, n_inputs)`` array), then ``W^l``,
        ``b^l`` for l = 1..depth.

    Returns
    -------
    ndarray, shape (depth,)
        ``q^l = (1/N) sum_i (h_i^l)^2`` for l = 1..depth, averaged over the inputs.

    Notes
    -----
    For wide layers ``q^l`` follows the length map from ``q^1 ~ sigma_w^2 +
    sigma_b^2`` and settles at ``q*`` (within a few layers in the chaotic
    phase, more slowly in the ordered phase, where ``q_map'(q*)`` is close to
    ``chi_1``); its spread between networks is of order ``q* / sqrt(N)``.

    Examples
    --------
    >>> q = empirical_q(2.0, 0.3, 1000, 10, 5, np.random.default_rng(0))
    >>> q.shape, bool(abs(q[-1] - 2.254) < 0.1)
    ((10,), True)
    """
    ### BEGIN SOLUTION
    x = rng.standard_normal((width, n_inputs))
    out = np.empty(depth)
    for l in range(depth):
        w, b = _random_layer(rng, width, width, sigma_w, sigma_b)
        h = w @ x + b[:, None]                     # Poole et al. eq. (1)
        out[l] = np.mean(h**2)                     # eq. (2), then the mean over inputs
        x = np.tanh(h)
    return out
    ### END SOLUTION


# ----------------------------------------------------------------------------
# D3: chi_1


def chi1(sigma_w, sigma_b):
    """Slope of the correlation map at ``c = 1``, ``chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]`` (sheet eq. 1).

    ``chi_1 < 1``: ordered phase (nearby inputs converge); ``chi_1 > 1``:
    chaotic phase (they decorrelate); ``chi_1 = 1``: the edge of chaos.

    Parameters
    ----------
    sigma_w, sigma_b : float or ndarray
        Weight and bias standard deviations (broadcast together).

    Returns
    -------
    float or ndarray
        ``chi_1`` (a float for scalar arguments).

    Notes
    -----
    Poole et al. eq. (7), with ``phi' = 1 - tanh^2`` and ``q* = q_star(sigma_w, sigma_b)``.
    Without bias in the ordered phase ``q* = 0`` and ``chi_1 = sigma_w^2``.

    Examples
    --------
    >>> round(chi1(1.0, 0.0), 12)
    1.0
    >>> round(chi1(2.0, 0.3), 6)
    1.32707
    """
    ### BEGIN SOLUTION
    return _chi1_at_q(sigma_w, sigma_b, q_star(sigma_w, sigma_b))
    ### END SOLUTION


def _chi1_at_q(sigma_w, sigma_b, q):
    """``chi_1 = sigma_w^2 E[phi'(sqrt(q) z)^2]`` (sheet eq. 1; Poole et al. eq. 7) at a *given* length ``q``.

    :func:`chi1` is this at ``q = q_star(sigma_w, sigma_b)``. The grader's
    follow-through credit evaluates it at the student's own ``q*`` (D3 judged
    with the ``q_star`` of D1); ``sigma_b`` enters only through ``q`` and is
    accepted so the call takes the arguments of :func:`chi1` plus ``q``.

    Parameters
    ----------
    sigma_w, sigma_b : float or ndarray
        Weight and bias standard deviations (broadcast against ``q``).
    q : float or ndarray
        Squared length ``q >= 0`` of the pre-activations.

    Returns
    -------
    float or ndarray
        ``chi_1`` at ``q`` (a float for scalars).

    Examples
    --------
    >>> round(_chi1_at_q(2.0, 0.3, q_star(2.0, 0.3)), 6)
    1.32707
    >>> _chi1_at_q(0.9, 0.1, 0.0)   # E[phi'(0)^2] = 1
    0.81
    """
    sigma_w = np.asarray(sigma_w, dtype=np.float64)
    qs = np.asarray(q, dtype=np.float64)
    return _scalar_out(sigma_w**2 * _gauss_expect(lambda u: _dtanh(u) ** 2, qs))  # sheet eq. (1)


# ----------------------------------------------------------------------------
# D4: the edge of chaos


def edge_of_chaos(q_stars):
    """Points ``(sigma_w, sigma_b)`` with ``chi_1 = 1`` and fixed point ``q*`` (sheet D4).

    Parameters
    ----------
    q_stars : float or ndarray, any shape
        Fixed points ``q* > 0`` parametrising the critical line (the sheet
        uses ``q*`` in ``[1, 1000]``).

    Returns
    -------
    sigma_w, sigma_b : ndarray
        Standard deviations, each of the shape of ``q_stars``.

    Notes
    -----
    ``chi_1 = 1`` fixes ``sigma_w^2 = 1 / E[phi'(sqrt(q*) z)^2]`` (sheet eq. 1);
    then ``q* = q_map(q*)`` (Poole et al. eq. 3) fixes ``sigma_b^2 = q* -
    sigma_w^2 E[phi(sqrt(q*) z)^2]``. No root-finding is needed. For large
    ``q*``, ``E[phi'^2] ~ (4/3) / sqrt(2 pi q*)``, so ``sigma_w^2`` grows like
    ``sqrt(q*)``: at ``q* = 1000`` the integrand is a spike of width 0.03 in
    ``z`` that a 100-node Gauss-Hermite rule misses entirely.

    Examples
    --------
    >>> sw, sb = edge_of_chaos(np.array([1.0]))
    >>> np.round(sw**2, 6), np.round(sb**2, 6)
    (array([2.153303]), array([0.150965]))
    """
    ### BEGIN SOLUTION
    q = np.asarray(q_stars, dtype=np.float64)
    sw2 = 1.0 / _gauss_expect(lambda u: _dtanh(u) ** 2, q)          # chi_1 = 1, sheet eq. (1)
    sb2 = q - sw2 * _gauss_expect(lambda u: np.tanh(u) ** 2, q)     # q* = V(q*), eq. (3)
    return np.sqrt(sw2), np.sqrt(sb2)
    ### END SOLUTION


# ----------------------------------------------------------------------------
# D5: the correlation map


def c_map(c, sigma_w, sigma_b):
    """Correlation map at the fixed length q*, ``c^{l-1} -> c^l`` (Poole et al. eqs. 5-6).

    ``c^l = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q*``.

    Parameters
    ----------
    c : float or ndarray, any shape
        Correlation ``c^{l-1}`` in ``[-1, 1]`` of two inputs' pre-activations.
    sigma_w, sigma_b : float or ndarray
        Weight and bias standard deviations (broadcast against ``c``).

    Returns
    -------
    float or ndarray
        ``c^l`` (a float for scalars).

    Notes
    -----
    Both inputs are at the fixed length ``q* = q_star(sigma_w, sigma_b)``:
    ``u1 = sqrt(q*) z1``, ``u2 = sqrt(q*) (c z1 + sqrt(1 - c^2) z2)`` with
    ``z1, z2`` independent standard normal, so the expectation is a 2-D
    Gaussian integral (a tensor product of 1-D rules). ``c_map(1) = 1`` for
    every ``sigma_w, sigma_b`` because then ``q12 = q_map(q*) = q*``.
    Undefined where ``q* = 0`` (``sigma_b = 0``, ``sigma_w <= 1``).

    Examples
    --------
    >>> round(c_map(1.0, 2.0, 0.3), 12)
    1.0
    >>> round(c_map(0.0, 2.0, 0.3), 6)    # sigma_b^2 / q*: tanh is odd
    0.039933
    """
    ### BEGIN SOLUTION
    return _c_map_at_q(c, sigma_w, sigma_b, q_star(sigma_w, sigma_b))
    ### END SOLUTION


def _c_map_at_q(c, sigma_w, sigma_b, q):
    """Correlation map (Poole et al. eqs. 5-6) with both inputs at a *given* length ``q``.

    ``c^l = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q`` with
    ``u1 = sqrt(q) z1``, ``u2 = sqrt(q) (c z1 + sqrt(1 - c^2) z2)``.
    :func:`c_map` is this at ``q = q_star(sigma_w, sigma_b)``; the grader's
    follow-through credit evaluates it at the student's own ``q*`` (D5
    judged with the ``q_star`` of D1).

    Parameters
    ----------
    c : float or ndarray, any shape
        Correlation ``c^{l-1}`` in ``[-1, 1]``.
    sigma_w, sigma_b : float or ndarray
        Weight and bias standard deviations (broadcast against ``c``).
    q : float or ndarray
        The fixed length ``q > 0`` (broadcast against ``c``).

    Returns
    -------
    float or ndarray
        ``c^l`` (a float for scalars).

    Examples
    --------
    >>> round(_c_map_at_q(0.0, 2.0, 0.3, 0.9), 12)    # sigma_b^2 / q: tanh is odd
    0.1
    """
    c = np.clip(np.asarray(c, dtype=np.float64), -1.0, 1.0)
    qs = np.asarray(q, dtype=np.float64)
    sw2 = np.asarray(sigma_w, dtype=np.float64) ** 2
    sb2 = np.asarray(sigma_b, dtype=np.float64) ** 2
    c, qs, sw2, sb2 = np.broadcast_arrays(c, qs, sw2, sb2)
    z, w = _gauss_rule(np.sqrt(np.max(qs)) if qs.size else 0.0)
    flat = [a.ravel() for a in (c, qs, sw2, sb2)]
    out = np.empty(flat[0].size)
    chunk = max(1, _MAX_GRID // z.size**2)
    for start in range(0, out.size, chunk):
        cc, qq, s2w, s2b = (a[start:start + chunk, None, None] for a in flat)
        s = np.sqrt(qq)
        u1 = s * z[:, None]                                       # (k, z1, 1)
        u2 = s * (cc * z[:, None] + np.sqrt(1.0 - cc**2) * z)     # (k, z1, z2)
        e12 = np.einsum("i,j,kij->k", w, w, np.tanh(u1) * np.tanh(u2))
        q12 = s2w[:, 0, 0] * e12 + s2b[:, 0, 0]                   # Poole et al. eq. (5)
        out[start:start + chunk] = q12 / qq[:, 0, 0]               # eq. (6)
    return _scalar_out(out.reshape(c.shape))


def c_star(sigma_w, sigma_b):
    """Stable fixed point ``c*`` of the correlation map (sheet D5): the root, not an iterate.

    Parameters
    ----------
    sigma_w, sigma_b : float
        Weight and bias standard deviations.

    Returns
    -------
    float
        ``1`` in the ordered phase and on the edge (``chi_1 <= 1``);
        otherwise the root of ``c_map(c) = c`` in ``[0, 1)``.

    Notes
    -----
    By the Hermite expansion of tanh, ``q12`` is a power series in ``c`` with
    non-negative coefficients, so ``g(c) = c_map(c) - c`` is convex on
    ``[0, 1]`` with ``g(1) = 0``, ``g'(1) = chi_1 - 1`` and ``g(0) =
    sigma_b^2 / q* >= 0``. Hence ``chi_1 < 1`` leaves ``c = 1`` as the only
    fixed point in ``[0, 1]`` (and a stable one), and ``chi_1 > 1`` gives
    exactly one more, ``c* in [0, 1)``, which is stable while ``c = 1`` is
    not. It is found by Brent's method on ``g(c) / (1 - c)`` (whose value at
    ``c = 1`` is ``1 - chi_1``, so the root at 1 is divided out). With
    ``sigma_b = 0``, ``g(0) = 0`` and ``c* = 0`` in the chaotic phase.
    Iterating ``c_map`` from some start for a fixed number of layers is *not*
    ``c*``: near the edge the iterates converge very slowly.

    Examples
    --------
    >>> round(c_star(2.0, 0.3), 8)
    0.26389478
    >>> c_star(0.8, 0.3)
    1.0
    """
    ### BEGIN SOLUTION
    chi = chi1(sigma_w, sigma_b)
    if chi <= 1.0:
        return 1.0
    if float(sigma_b) == 0.0:
        return 0.0

    def g(c):
        if c >= 1.0:
            return 1.0 - chi
        return (c_map(c, sigma_w, sigma_b) - c) / (1.0 - c)

    return float(brentq(g, 0.0, 1.0, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200))
    ### END SOLUTION


def _c_star_at_q(sigma_w, sigma_b, q):
    """Stable fixed point of the correlation map at a *given* length ``q`` (sheet D5, as :func:`c_star`).

    :func:`c_star` with ``chi_1`` (sheet eq. 1) and the correlation map
    (Poole et al. eqs. 5-6) both evaluated at ``q`` instead of
    ``q_star(sigma_w, sigma_b)``: :func:`_chi1_at_q` and :func:`_c_map_at_q`.
    At ``q = q_star(sigma_w, sigma_b)`` it is :func:`c_star`. The grader's
    follow-through credit evaluates it at the student's own ``q*`` (D5's
    ``c_star`` judged with the ``q_star`` of D1).

    Parameters
    ----------
    sigma_w, sigma_b : float
        Weight and bias standard deviations.
    q : float
        The fixed length ``q > 0``.

    Returns
    -------
    float
        ``1`` when ``chi_1(q) <= 1``, otherwise the root of ``c_map(c) = c`` in ``[0, 1)``.

    Examples
    --------
    >>> round(_c_star_at_q(2.0, 0.3, q_star(2.0, 0.3)), 8)
    0.26389478
    """
    chi = _chi1_at_q(sigma_w, sigma_b, q)
    if chi <= 1.0:
        return 1.0
    if float(sigma_b) == 0.0:
        return 0.0

    def g(c):
        if c >= 1.0:
            return 1.0 - chi
        return (_c_map_at_q(c, sigma_w, sigma_b, q) - c) / (1.0 - c)

    return float(brentq(g, 0.0, 1.0, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200))


def correlation_trajectory(x1, x2, sigma_w, sigma_b, width, depth, rng):
    """Correlation ``c^l`` (Poole et al. eq. 5) of two inputs through one real random tanh network.

    Parameters
    ----------
    x1, x2 : ndarray, shape (n0,)
        The two inputs (any dimension ``n0``; the first layer's weights have
        variance ``sigma_w^2 / n0``).
    sigma_w, sigma_b : float
        Weight and bias standard deviations.
    width : int
        Units per layer ``N``.
    depth : int
        Number of layers.
    rng : numpy.random.Generator
        Draws ``W^l`` then ``b^l`` for each layer in turn.

    Returns
    -------
    ndarray, shape (depth,)
        ``c^l = q12^l / sqrt(q11^l q22^l)`` with ``q_ab^l = (1/N) sum_i
        h_i^l(x_a) h_i^l(x_b)``, for l = 1..depth.

    Notes
    -----
    In the ordered phase (``chi_1 < 1``) ``c^l -> 1``; in the chaotic phase it
    tends to ``c_star(sigma_w, sigma_b) < 1``, up to fluctuations of order
    ``1 / sqrt(N)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x1, x2 = rng.standard_normal((2, 500))
    >>> c = correlation_trajectory(x1, x2, 2.0, 0.3, 500, 30, rng)
    >>> c.shape, bool(abs(c[-1] - 0.264) < 0.1)
    ((30,), True)
    """
    ### BEGIN SOLUTION
    x = np.stack([np.asarray(x1, dtype=np.float64), np.asarray(x2, dtype=np.float64)], axis=1)
    out = np.empty(depth)
    n_in = x.shape[0]
    for l in range(depth):
        w, b = _random_layer(rng, width, n_in, sigma_w, sigma_b)
        h = w @ x + b[:, None]                      # Poole et al. eq. (1)
        q = h.T @ h / width                          # q_ab^l, 2 x 2
        out[l] = q[0, 1] / np.sqrt(q[0, 0] * q[1, 1])  # eq. (5)
        x = np.tanh(h)
        n_in = width
    return out
    ### END SOLUTION


# ----------------------------------------------------------------------------
# D6: chi_1 from the Jacobian of a real layer


def chi1_empirical(sigma_w, sigma_b, width, rng):
    """``(1/N) Tr((D W)^T D W)`` for one random layer at the fixed point (sheet D6).

    Parameters
    ----------
    sigma_w, sigma_b : float
        Weight and bias standard deviations (``q* > 0`` required).
    width : int
        Units ``N`` in the layer and in its input.
    rng : numpy.random.Generator
        Draws ``h^{l-1} ~ N(0, q* I)``, then ``W``, then ``b``.

    Returns
    -------
    float
        The normalised squared Frobenius norm of the layer's Jacobian
        ``J = dx^l / dx^{l-1} = D W`` with ``D = diag(phi'(h^l))``,
        ``h^l = W tanh(h^{l-1}) + b``.

    Notes
    -----
    ``(1/N) ||D W||_F^2 = (1/N) sum_i phi'(h_i)^2 sum_j W_ij^2``. For large
    ``N`` each row sum is ``sigma_w^2`` and ``h_i ~ N(0, q*)``, so the mean is
    ``sigma_w^2 E[phi'(sqrt(q*) z)^2] = chi_1`` (sheet eq. 1); the spread of
    one draw is about ``chi_1 / sqrt(N)``.

    Examples
    --------
    >>> v = chi1_empirical(2.0, 0.3, 1000, np.random.default_rng(0))
    >>> bool(abs(v - 1.327) < 0.2)
    True
    """
    ### BEGIN SOLUTION
    q = q_star(sigma_w, sigma_b)
    x = np.tanh(np.sqrt(q) * rng.standard_normal(width))
    w, b = _random_layer(rng, width, width, sigma_w, sigma_b)
    h = w @ x + b
    jac = _dtanh(h)[:, None] * w                     # J = D W
    return float(np.sum(jac**2) / width)             # sheet D6: (1/N) Tr(J^T J)
    ### END SOLUTION


# ----------------------------------------------------------------------------
# D7: gradients through depth


def layer_gradient_norms(sigma_w, sigma_b, width, depth, rng):
    """Frobenius norm of ``dL/dW^l`` for every layer of a deep random tanh network (sheet D7).

    Parameters
    ----------
    sigma_w, sigma_b : float
        Weight and bias standard deviations (``q* > 0`` required).
    width : int
        Units per layer ``N`` (also the input dimension).
    depth : int
        Number of layers.
    rng : numpy.random.Generator
        Draws the input ``h^0 ~ N(0, q* I)`` (``x^0 = tanh(h^0)``), then
        ``W^l``, ``b^l`` for l = 1..depth, then the readout ``v ~ N(0, I)``.

    Returns
    -------
    ndarray, shape (depth,)
        ``||dL/dW^l||_F`` for l = 1..depth (not squared), for the loss
        ``L = v . h^depth``, a random linear readout of the last layer.

    Notes
    -----
    With ``delta^l = dL/dh^l``: ``delta^depth = v``, ``delta^l = phi'(h^l) *
    (W^{l+1})^T delta^{l+1}`` and ``dL/dW^l = delta^l (x^{l-1})^T``, so
    ``||dL/dW^l||_F = ||delta^l|| ||x^{l-1}||``. At the fixed point
    ``||x^{l-1}||`` is the same for every layer, and in mean field
    ``||delta^l||^2 = chi_1 ||delta^{l+1}||^2``: going down one layer the norm
    is multiplied by ``sqrt(chi_1)``, i.e. ``log ||dL/dW^l||`` has slope
    ``-log(chi_1) / 2`` in ``l``. A readout independent of the weights keeps
    this clean from the top layer on (with ``L = ||h^depth||^2 / 2`` the top
    layer's backward signal is correlated with its own forward pass).

    Examples
    --------
    >>> g = layer_gradient_norms(2.0, 0.3, 500, 20, np.random.default_rng(0))
    >>> slope = np.polyfit(np.arange(20), np.log(g), 1)[0]
    >>> g.shape, bool(abs(slope + 0.5 * np.log(1.327)) < 0.05)
    ((20,), True)
    """
    ### BEGIN SOLUTION
    deltas, inputs = _backprop_deltas(sigma_w, sigma_b, width, depth, rng)
    return np.array([np.linalg.norm(d) * np.linalg.norm(x) for d, x in zip(deltas, inputs)])
    ### END SOLUTION


def layer_gradient_histograms(sigma_w, sigma_b, width, depth, rng, n_bins=41):
    """Histograms of the entries of ``dL/dW^l`` per layer (sheet D7, the figure).

    Same network, input and loss as :func:`layer_gradient_norms` (same
    ``rng`` draws, so the same seed gives the gradients whose norms that
    function returns).

    Parameters
    ----------
    sigma_w, sigma_b : float
        Weight and bias standard deviations (``q* > 0`` required).
    width, depth : int
        Units per layer and number of layers.
    rng : numpy.random.Generator
    n_bins : int, optional
        Bins per layer.

    Returns
    -------
    edges : ndarray, shape (depth, n_bins + 1)
        Bin edges of layer l (row l-1), symmetric about 0 and spanning the
        largest ``|entry|`` of that layer.
    density : ndarray, shape (depth, n_bins)
        Normalised histogram (integrates to 1 over each row's bins).

    Examples
    --------
    >>> e, d = layer_gradient_histograms(2.0, 0.3, 200, 5, np.random.default_rng(0))
    >>> e.shape, d.shape, bool(np.allclose(np.sum(d * np.diff(e), axis=1), 1))
    ((5, 42), (5, 41), True)
    """
    ### BEGIN SOLUTION
    deltas, inputs = _backprop_deltas(sigma_w, sigma_b, width, depth, rng)
    edges = np.empty((depth, n_bins + 1))
    density = np.empty((depth, n_bins))
    for l, (d, x) in enumerate(zip(deltas, inputs)):
        g = np.outer(d, x)                           # dL/dW^l
        top = np.max(np.abs(g))
        density[l], edges[l] = np.histogram(g, bins=n_bins, range=(-top, top), density=True)
    return edges, density
    ### END SOLUTION


# ----------------------------------------------------------------------------
# The figures the sheet asks for (D4, D7), as the figure items D4-figure and D7-figure compare a notebook's
# figures with them. Private, so not in the skeleton: a student draws their own, in any style. The plotting
# helpers are pure (numbers in, a ``Figure`` out, no pyplot state, nothing computed inside); the
# ``_notebook_figure_*`` functions compute with the functions above and call them. The grader calls those
# (``{notebook_figures: _notebook_figure_d4}``) for the reference's side of the comparison and the report.


def _plot_edge_of_chaos(sigma_w, sigma_b):
    """The critical line ``chi_1 = 1``: ``sigma_b`` against ``sigma_w`` (a ``matplotlib.figure.Figure``)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 4.0))
    ax = fig.subplots()
    ax.plot(sigma_w, sigma_b, "k-", label=r"$\chi_1 = 1$")
    ax.set_xlabel(r"$\sigma_w$")
    ax.set_ylabel(r"$\sigma_b$")
    ax.set_title(r"Edge of chaos, $q^* \in [10^{-3}, 10^3]$")
    ax.legend()
    fig.tight_layout()
    return fig


def _notebook_figure_d4():
    """D4's figure: the edge of chaos for ``q*`` from 1e-3 to 1e3 (wider than the sheet's [1, 1000], so a
    notebook that sweeps ``sigma_b`` from 0 or draws Poole et al.'s window is judged on the same curve)."""
    sigma_w, sigma_b = edge_of_chaos(np.logspace(-3.0, 3.0, 241))
    return _plot_edge_of_chaos(sigma_w, sigma_b)


def _plot_gradient_histograms(edges, density):
    """One histogram per layer of the entries of ``dL/dW^l`` (rows of ``edges``, ``density``), one axes each."""
    from matplotlib.figure import Figure

    depth = edges.shape[0]
    n_col = min(3, depth)
    n_row = -(-depth // n_col)
    fig = Figure(figsize=(3.0 * n_col, 2.4 * n_row))
    axes = np.atleast_1d(fig.subplots(n_row, n_col)).ravel()
    for l, ax in enumerate(axes):
        if l >= depth:
            ax.set_visible(False)
            continue
        ax.stairs(density[l], edges[l], fill=True)
        ax.set_title(f"layer {l + 1}", fontsize=9)
        ax.set_xlabel(r"entries of $\partial L / \partial W^l$", fontsize=8)
    fig.tight_layout()
    return fig


def _notebook_figure_d7():
    """D7's figure: per-layer histograms of the gradient entries of a chaotic network (they widen going down)."""
    edges, density = layer_gradient_histograms(3.0, 0.5, 300, 6, np.random.default_rng(0))
    return _plot_gradient_histograms(edges, density)

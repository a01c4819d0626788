"""Assignment E: hyperbolic learning dynamics and optimal learning rates.

Source: Saxe, McClelland & Ganguli, "Exact solutions to the nonlinear
dynamics of learning in deep linear neural networks", supplementary
material. The source states no exercises; each function below is one of
its results, derived again here (see each Notes section).

Conventions
-----------
One mode of a three-layer linear network has strengths ``a`` (first layer)
and ``b`` (second layer) with ``tau da/dt = b (s - a b)`` and
``tau db/dt = a (s - a b)``. A chain of ``N_l`` layers has ``N_l - 1``
scalar weights ``a_1 ... a_{N_l-1}`` and error eq. (5).

Two defects of the source text, and how this module handles them:

1. **Eq. (5) lacks its square.** The error whose derivatives eqs (6)-(13)
   give is ``E = (1 / 2 tau) (s - prod_k a_k)^2``; that is what
   :func:`chain_loss` computes.
2. **Factor 2 between the coordinates of eqs (1)-(2) and eq. (3).** The
   hyperbola ``a^2 - b^2 = c0`` (conserved by the flow) is parametrised by
   ``a = sqrt(c0) cosh(theta/2)``, ``b = sqrt(c0) sinh(theta/2)``, for which
   ``a b = (c0/2) sinh(theta)``, not ``c0 sinh(theta)``. Substituting gives
   ``tau dtheta/dt = 2 s - c0 sinh(theta) = 2 (s - (c0/2) sinh(theta))``:
   eq. (3) holds exactly with ``c0`` read as ``(a^2 - b^2) / 2`` and in the
   time ``t' = 2 t``. This module takes eq. (3),
   ``tau dtheta/dt = s - c0 sinh(theta)``, as the *definition* of the theta
   dynamics (so ``a b = c0 sinh(theta)`` at the fixed point
   ``sinh(theta*) = s / c0``), and every theta function is consistent
   with it.
"""
from __future__ import annotations

import numpy as np


# --- E1: eq. (3) and its solution eq. (4) ----------------------------------
def theta_rhs(theta, s, c0, tau):
    """Right-hand side of the hyperbolic-angle dynamics, eq. (3), divided by tau.

    Parameters
    ----------
    theta : float or ndarray
        Hyperbolic angle.
    s : float or ndarray
        Singular value of the mode (input-output correlation).
    c0 : float or ndarray
        Hyperbola constant in the convention of eq. (3) (``a b = c0 sinh
        theta``).
    tau : float
        Time constant.

    Returns
    -------
    dtheta_dt : float or ndarray
        ``(s - c0 sinh(theta)) / tau``, broadcast over the arguments.

    Notes
    -----
    ``tau dtheta/dt = s - c0 sinh(theta)``          (3)

    Eq. (3) is taken as the definition of the theta dynamics. The source's
    coordinates (eqs (1)-(2)), ``a = sqrt(c0) cosh(theta/2)``,
    ``b = sqrt(c0) sinh(theta/2)`` with ``c0 = a^2 - b^2``, give
    ``a b = (c0/2) sinh(theta)`` and, from ``tau da/dt = b (s - a b)``,
    ``tau db/dt = a (s - a b)``, the exact dynamics
    ``tau dtheta/dt = 2 s - c0 sinh(theta)``: that is eq. (3) with ``c0``
    halved and time doubled (``t' = 2 t``), a factor 2 the source drops.

    The only fixed point is ``sinh(theta*) = s / c0``
    (:func:`theta_fixed_point`); for ``c0 > 0`` (the case of eqs (1)-(2),
    ``a^2 > b^2``) it is stable since the right-hand side decreases in
    ``theta``.

    Examples
    --------
    >>> float(theta_rhs(0.0, 2.0, 1.0, 4.0))
    0.5
    """
    ### BEGIN SOLUTION
    return (s - c0 * np.sinh(theta)) / tau  # sheet E, eq. (3)
    ### END SOLUTION


def learning_time(theta0, theta_f, s, c0, tau):
    """Time for eq. (3) to carry theta from ``theta0`` to ``theta_f``, eq. (4).

    Parameters
    ----------
    theta0, theta_f : float or ndarray
        Initial and final hyperbolic angles, both on the same side of the
        fixed point ``asinh(s / c0)`` (the time to reach it is infinite).
    s : float or ndarray
        Singular value, ``s > 0``.
    c0 : float or ndarray
        Hyperbola constant (convention of eq. (3)); any sign.
    tau : float
        Time constant.

    Returns
    -------
    t : float or ndarray
        The learning time, in the time of eq. (3).

    Notes
    -----
    With ``u = tanh(theta/2)``: ``sinh(theta) = 2u / (1 - u^2)`` and
    ``dtheta = 2 du / (1 - u^2)``, so
    ``dt = tau dtheta / (s - c0 sinh theta) = -2 tau du / (s u^2 + 2 c0 u - s)``.
    The quadratic has roots ``u+- = (-c0 +- r) / s`` with
    ``r = sqrt(c0^2 + s^2)``, and partial fractions give

        t = tau / r [ ln((r + c0 + s tanh(theta/2))
                         / (r - c0 - s tanh(theta/2))) ]_{theta0}^{theta_f}   (4)

    The fixed point is where the denominator (``c0 > 0``) or the numerator
    (``c0 < 0``) vanishes. Eq. (4) as the source prints it has no absolute
    value: on the side of the fixed point where the argument of the
    logarithm is positive (below it for ``c0 > 0``, above it for ``c0 < 0``)
    the printed form and this one are the same function. This module takes
    the logarithm of the absolute value, which extends eq. (4) to
    trajectories coming from the other side of the fixed point (the printed
    form is a logarithm of a negative number there); both forms are
    accepted where they agree. For ``c0 = 0`` it reduces to
    ``tau (theta_f - theta0) / s``.

    Examples
    --------
    >>> round(float(learning_time(0.0, 1.0, 2.0, 0.0, 1.0)), 12)   # c0 = 0: tau dtheta / s
    0.5
    >>> round(float(learning_time(0.0, 1.0, 2.0, 1.0, 1.0)), 6)   # quad(1/(2 - sinh), 0, 1)
    0.728265
    """
    ### BEGIN SOLUTION
    r = np.sqrt(np.square(c0) + np.square(s))

    def antiderivative(theta):
        u = np.tanh(np.asarray(theta, dtype=float) / 2.0)
        return np.log(np.abs((r + c0 + s * u) / (r - c0 - s * u)))

    return tau / r * (antiderivative(theta_f) - antiderivative(theta0))  # sheet E, eq. (4)
    ### END SOLUTION


# --- E2: fixed point and end of learning -----------------------------------
def theta_fixed_point(s, c0):
    """Fixed point of eq. (3): ``sinh(theta*) = s / c0``.

    Parameters
    ----------
    s : float or ndarray
        Singular value.
    c0 : float or ndarray
        Hyperbola constant (convention of eq. (3)), nonzero.

    Returns
    -------
    theta_star : float or ndarray
        ``asinh(s / c0)``.

    Notes
    -----
    In the coordinates of eqs (1)-(2) (``a b = (c0/2) sinh theta``) the
    fixed point ``a b = s`` would sit at ``asinh(2 s / c0)``; this module
    uses eq. (3)'s convention throughout (see :func:`theta_rhs`).

    Examples
    --------
    >>> round(float(theta_fixed_point(1.0, 1.0)), 6)   # asinh(1) = ln(1 + sqrt 2)
    0.881374
    """
    ### BEGIN SOLUTION
    return np.arcsinh(np.asarray(s, dtype=float) / c0)
    ### END SOLUTION


def theta_final(s, c0, eps):
    """Angle at which learning counts as done: ``sinh(theta_f) = (1 - eps) s / c0``.

    Parameters
    ----------
    s : float or ndarray
        Singular value.
    c0 : float or ndarray
        Hyperbola constant (convention of eq. (3)), nonzero.
    eps : float or ndarray
        Remaining fraction of ``s``, ``0 < eps < 1``.

    Returns
    -------
    theta_f : float or ndarray
        ``asinh((1 - eps) s / c0)``, short of the fixed point (the time to
        reach the fixed point itself is infinite).

    Examples
    --------
    >>> round(float(theta_final(2.0, 1.0, 0.5)), 6)   # asinh(1)
    0.881374
    """
    ### BEGIN SOLUTION
    return np.arcsinh((1.0 - eps) * np.asarray(s, dtype=float) / c0)
    ### END SOLUTION


# --- E3: the deep scalar chain, eqs (5)-(13) -------------------------------
def _products_without_one(a):
    """``prod_{k != i} a_k`` for every ``i`` (no division, so zeros are fine)."""
    a = np.asarray(a, dtype=float)
    before = np.concatenate(([1.0], np.cumprod(a)[:-1]))
    after = np.concatenate((np.cumprod(a[::-1])[::-1][1:], [1.0]))
    return before * after


def chain_loss(a, s, tau):
    """Error of a deep scalar chain, eq. (5) with its square restored.

    Parameters
    ----------
    a : ndarray, shape (N_l - 1,)
        The chain's weights (a network of ``N_l`` layers).
    s : float
        Target (singular value of the mode).
    tau : float
        Time constant: gradient descent with unit step on this error is the
        Euler discretisation of the flow with time constant ``tau``.

    Returns
    -------
    E : float
        ``(1 / 2 tau) (s - prod_k a_k)^2``.

    Notes
    -----
    The source prints eq. (5) without the square; eqs (6)-(13) are the
    derivatives of the squared error, which is what is computed here.

    Examples
    --------
    >>> chain_loss(np.array([1.0, 2.0]), 3.0, 0.5)
    1.0
    """
    ### BEGIN SOLUTION
    return float((s - np.prod(a)) ** 2 / (2.0 * tau))  # sheet E, eq. (5), squared
    ### END SOLUTION


def chain_grad(a, s, tau):
    """Gradient of the chain error, eq. (6).

    Parameters
    ----------
    a : ndarray, shape (N_l - 1,)
        Weights.
    s : float
        Target.
    tau : float
        Time constant.

    Returns
    -------
    grad : ndarray, shape (N_l - 1,)
        ``dE/da_i = -(1/tau) (s - prod_k a_k) prod_{k != i} a_k``.

    Examples
    --------
    >>> chain_grad(np.array([1.0, 2.0]), 3.0, 1.0)
    array([-2., -1.])
    """
    ### BEGIN SOLUTION
    a = np.asarray(a, dtype=float)
    return -(s - np.prod(a)) * _products_without_one(a) / tau  # sheet E, eq. (6)
    ### END SOLUTION


def chain_hessian(a, s, tau):
    """Hessian of the chain error, eqs (7)-(9).

    Parameters
    ----------
    a : ndarray, shape (N_l - 1,)
        Weights.
    s : float
        Target.
    tau : float
        Time constant.

    Returns
    -------
    hessian : ndarray, shape (N_l - 1, N_l - 1)
        Symmetric.

    Notes
    -----
    Writing ``P = prod_k a_k``, ``P_i = prod_{k != i} a_k`` and
    ``P_ij = prod_{k != i, j} a_k``, differentiate eq. (6) once more:

        d2E/da_i^2     = (1/tau) P_i^2                               (7)
        d2E/da_i da_j  = (1/tau) (P_i P_j - (s - P) P_ij),  i != j   (8)-(9)

    (``dP/da_j = P_j`` and ``dP_i/da_j = P_ij``; ``P_i`` does not depend on
    ``a_i``). On the symmetric manifold ``a_k = a`` these become eqs (11)-(13):
    diagonal ``a^(2 N_l - 4) / tau``, off-diagonal
    ``(2 a^(2 N_l - 4) - s a^(N_l - 3)) / tau`` and gradient
    ``-(s - a^(N_l - 1)) a^(N_l - 2) / tau``.

    Examples
    --------
    >>> chain_hessian(np.array([1.0, 2.0]), 3.0, 1.0)
    array([[4., 1.],
           [1., 1.]])
    """
    ### BEGIN SOLUTION
    a = np.asarray(a, dtype=float)
    n = a.size
    residual = s - np.prod(a)
    p_i = _products_without_one(a)
    p_ij = np.empty((n, n))
    for i in range(n):
        without_i = a.copy()
        without_i[i] = 1.0
        p_ij[i] = _products_without_one(without_i)  # prod over k != i, j
    p_ij = np.triu(p_ij) + np.triu(p_ij, 1).T  # exactly symmetric (rounding differs by row)
    hessian = np.outer(p_i, p_i) - residual * p_ij  # sheet E, eqs (8)-(9)
    np.fill_diagonal(hessian, p_i**2)  # sheet E, eq. (7)
    return hessian / tau
    ### END SOLUTION


# --- E4: the symmetric manifold, eqs (14)-(19) -----------------------------
def lambda1(a, s, n_layers, tau):
    """Top Hessian eigenvalue on the symmetric manifold, eq. (15).

    Parameters
    ----------
    a : float or ndarray
        Common value of the ``N_l - 1`` weights, ``a > 0``.
    s : float
        Target.
    n_layers : int
        ``N_l >= 2``, the number of layers (``N_l - 1`` weights).
    tau : float
        Time constant.

    Returns
    -------
    lam : float or ndarray
        ``((2 N_l - 3) a^(2 N_l - 4) - (N_l - 2) s a^(N_l - 3)) / tau``, the
        eigenvalue for the eigenvector ``(1, ..., 1)``.

    Notes
    -----
    On the symmetric manifold the Hessian is ``(d - o) I + o 1 1^T`` with
    ``d``, ``o`` the diagonal and off-diagonal entries of eqs (11)-(12).
    Its eigenvalues are ``d + (N_l - 2) o`` (eigenvector ``1``, eq. (15))
    and ``d - o = a^(N_l - 3) (s - a^(N_l - 1)) / tau`` (multiplicity
    ``N_l - 2``). At the optimum ``a^(N_l - 1) = s`` the second is 0 (the
    rescaling symmetries of the chain) and eq. (15) is the only nonzero
    eigenvalue, :func:`lambda1_opt`; it is the largest whenever
    ``a^(N_l - 1) >= s / 2``.

    Examples
    --------
    >>> float(lambda1(1.0, 1.0, 3, 1.0))   # (3 - 1) = 2 at the optimum of N_l = 3
    2.0
    """
    ### BEGIN SOLUTION
    a = np.asarray(a, dtype=float)
    n = n_layers
    return ((2 * n - 3) * a ** (2 * n - 4) - (n - 2) * s * a ** (n - 3)) / tau  # sheet E, eq. (15)
    ### END SOLUTION


def newton_step(a, s, n_layers, tau):
    """One Newton step on the symmetric manifold: the new weight ``a^{t+1}``, eq. (18).

    Parameters
    ----------
    a : float or ndarray
        Common value ``a^t`` of the ``N_l - 1`` weights, ``a > 0`` (dimensionless).
    s : float
        Target.
    n_layers : int
        ``N_l``.
    tau : float
        Time constant (it cancels).

    Returns
    -------
    a_next : float or ndarray
        The common value of the weights after the step, shaped like ``a``:
        ``a^{t+1} = a^t + a^t (s - a^(N_l-1)) / ((2 N_l - 3) a^(N_l-1) - (N_l - 2) s)``
        (the new weight, not the change ``a^{t+1} - a^t``).

    Notes
    -----
    On the manifold the gradient (eq. (13)) is along ``(1, ..., 1)``, an
    eigenvector of the Hessian with eigenvalue ``lambda1`` (eq. (15)), so
    the full Newton step ``a <- a - H^{-1} grad`` moves every weight to

        a^{t+1} = a^t - (dE/da_i) / lambda1
                = a^t + (s - a^(N_l-1)) a^(N_l-2) / ((2N_l-3) a^(2N_l-4) - (N_l-2) s a^(N_l-3))   (18)

    i.e. Newton's method is gradient descent with learning rate
    ``1 / lambda1``. For ``N_l = 2`` (one weight, a quadratic error) it
    lands on ``a = s`` in one step.

    Examples
    --------
    >>> float(newton_step(0.5, 1.0, 2, 1.0))   # one weight: the quadratic is solved in one step
    1.0
    """
    ### BEGIN SOLUTION
    a = np.asarray(a, dtype=float)
    n = n_layers
    u = a ** (n - 1)
    return a + a * (s - u) / ((2 * n - 3) * u - (n - 2) * s)  # sheet E, eq. (18)
    ### END SOLUTION


def lambda1_opt(s, n_layers, tau):
    """Eq. (15) at the optimum ``a = s^(1/(N_l-1))``, eq. (19).

    Parameters
    ----------
    s : float or ndarray
        Target, ``s > 0``.
    n_layers : int
        ``N_l >= 2``.
    tau : float
        Time constant.

    Returns
    -------
    lam : float or ndarray
        ``(N_l - 1) s^(2 - 2/(N_l - 1)) / tau``.

    Notes
    -----
    With ``a^(N_l-1) = s``:
    ``(2N_l-3) s^((2N_l-4)/(N_l-1)) - (N_l-2) s s^((N_l-3)/(N_l-1))
    = (N_l - 1) s^((2N_l-4)/(N_l-1))`` and ``(2N_l-4)/(N_l-1) = 2 - 2/(N_l-1)``.

    Examples
    --------
    >>> float(lambda1_opt(4.0, 3, 2.0))   # 2 * 4 / 2
    4.0
    """
    ### BEGIN SOLUTION
    return (n_layers - 1) * np.asarray(s, dtype=float) ** (2.0 - 2.0 / (n_layers - 1)) / tau  # sheet E, eq. (19)
    ### END SOLUTION


# --- E5 ----------------------------------------------------------------------
def optimal_lr(s, n_layers, tau):
    """Optimal learning rate near the optimum, ``1 / lambda1_opt``.

    Parameters
    ----------
    s : float or ndarray
        Target, ``s > 0``.
    n_layers : int
        ``N_l >= 2``.
    tau : float
        Time constant of eq. (5).

    Returns
    -------
    lr : float or ndarray
        ``tau / ((N_l - 1) s^(2 - 2/(N_l-1)))``: gradient descent on eq. (5)
        with this step is Newton's method at the optimum. It is
        ``O(1 / (N_l s^2))``: ``lr * N_l s^2 / tau -> 1`` as ``N_l -> inf``
        (``s^(2/(N_l-1)) -> 1``).

    Examples
    --------
    >>> float(optimal_lr(4.0, 3, 2.0))
    0.25
    """
    ### BEGIN SOLUTION
    return 1.0 / lambda1_opt(s, n_layers, tau)
    ### END SOLUTION


def _optimal_lr_at(s, n_layers, tau, lambda1_opt):
    """``1 / lambda1_opt`` (the optimal learning rate, E5) for a *given* eigenvalue at the optimum.

    :func:`optimal_lr` is this with ``lambda1_opt`` from eq. (19). The
    grader's follow-through credit evaluates it with the student's own
    ``lambda1_opt`` (E5 judged with the value of E4); ``s``, ``n_layers`` and
    ``tau`` enter only through it and are accepted so the call takes the
    arguments of :func:`optimal_lr` plus ``lambda1_opt``.

    Examples
    --------
    >>> float(_optimal_lr_at(4.0, 3, 2.0, 4.0))
    0.25
    """
    return 1.0 / np.asarray(lambda1_opt, dtype=float)


# --- E6: learning time at the optimal rate, eqs (20)-(23) -------------------
def t3(u0, uf, s, c):
    """Learning time of a three-layer network at a scaled optimal rate, eq. (21).

    Parameters
    ----------
    u0, uf : float or ndarray
        Initial and final input-output strength ``u = prod_k a_k``,
        ``0 < u0 < uf < s``.
    s : float or ndarray
        Target.
    c : float
        Proportionality constant of the learning rate: the rate is
        ``optimal_lr(s, N_l, tau) / c``. The time is counted in iterations.

    Returns
    -------
    t : float or ndarray
        ``c ln(uf (s - u0) / (u0 (s - uf)))``.

    Notes
    -----
    Balanced weights ``a_k = u^(1/(N_l-1))`` stay balanced under gradient
    descent with rate ``lr``; in the continuous-iteration limit
    ``da/dk = (lr / tau) (s - u) a^(N_l-2)``, so

        du/dk = (lr / tau) (N_l - 1) u^(2 - 2/(N_l-1)) (s - u)       (20)

    With ``lr = tau / (c (N_l - 1) s^(2 - 2/(N_l-1)))`` this is
    ``du/dk = (u/s)^(2 - 2/(N_l-1)) (s - u) / c``. For ``N_l = 3`` the
    exponent is 1 and ``c s du / (u (s - u))`` integrates to eq. (21).

    Examples
    --------
    >>> round(float(t3(0.5, 1.5, 2.0, 1.0)), 6)   # ln 9
    2.197225
    """
    ### BEGIN SOLUTION
    return c * np.log(uf * (s - u0) / (u0 * (s - uf)))  # sheet E, eq. (21)
    ### END SOLUTION


def t_inf(u0, uf, s, c):
    """Learning time of an infinitely deep network at a scaled optimal rate, eq. (22).

    Parameters
    ----------
    u0, uf : float or ndarray
        Initial and final strength, ``0 < u0 < uf < s``.
    s : float or ndarray
        Target.
    c : float
        Proportionality constant of the learning rate (as in :func:`t3`).

    Returns
    -------
    t : float or ndarray
        ``c (ln(uf (s - u0) / (u0 (s - uf))) + s/u0 - s/uf)``.

    Notes
    -----
    As ``N_l -> inf`` the exponent of eq. (20) tends to 2, and
    ``s^2 / (u^2 (s - u)) = s / u^2 + 1 / u + 1 / (s - u)`` integrates to
    eq. (22). The difference to eq. (21) is

        t_inf - t3 = c (s/u0 - s/uf)  ~  c s / eps                   (23)

    for ``u0 = eps``, ``uf = s - eps``, ``eps -> 0``: finite, and
    independent of depth.

    Examples
    --------
    >>> round(float(t_inf(0.5, 1.5, 2.0, 1.0) - t3(0.5, 1.5, 2.0, 1.0)), 6)   # 4 - 4/3
    2.666667
    """
    ### BEGIN SOLUTION
    return c * (np.log(uf * (s - u0) / (u0 * (s - uf))) + s / u0 - s / uf)  # sheet E, eq. (22)
    ### END SOLUTION


# --- E7: the discrete check ---------------------------------------------------
def balanced_learning_time(s, n_layers, u0, eps, lr_scale=1.0, tau=1.0):
    """Iterations of gradient descent on eq. (5) from a balanced start.

    Parameters
    ----------
    s : float
        Target, ``s > 0``.
    n_layers : int
        ``N_l >= 2`` (``N_l - 1`` weights).
    u0 : float
        Initial strength, ``0 < u0 < (1 - eps) s``; every weight starts at
        ``u0^(1/(N_l-1))``.
    eps : float
        Learning stops once ``prod_k a_k >= (1 - eps) s``.
    lr_scale : float
        Learning rate ``lr_scale / lambda1_opt(s, n_layers, tau)``
        (``lr_scale = 1/c`` of :func:`t3`, :func:`t_inf`).
    tau : float
        Time constant of eq. (5) (it cancels from the iteration).

    Returns
    -------
    n_iter : int
        Number of updates ``a <- a - lr * chain_grad(a, s, tau)`` until
        ``prod_k a_k >= (1 - eps) s`` (0 if it already holds).

    Notes
    -----
    The count tends to a finite limit as ``N_l`` grows (for small
    ``lr_scale`` it approaches :func:`t_inf` with ``c = 1 / lr_scale``):
    with the learning rate scaled as ``O(1/(N_l s^2))`` depth costs no time.
    Raises ``RuntimeError`` after 10^7 updates (a learning rate that does
    not converge).

    Examples
    --------
    >>> balanced_learning_time(1.0, 2, 0.1, 0.01)   # one weight, Newton's step
    1
    """
    ### BEGIN SOLUTION
    return _balanced_learning_time_at(s, n_layers, u0, eps, lr_scale, tau, lambda1_opt=lambda1_opt(s, n_layers, tau))
    ### END SOLUTION


def _balanced_learning_time_at(s, n_layers, u0, eps, lr_scale=1.0, tau=1.0, *, lambda1_opt):
    """:func:`balanced_learning_time` with a *given* eigenvalue at the optimum (eq. 19).

    Gradient descent ``a <- a - lr * chain_grad(a, s, tau)`` (eq. 6) from
    the balanced start with ``lr = lr_scale / lambda1_opt``; the count of
    updates until ``prod_k a_k >= (1 - eps) s``. :func:`balanced_learning_time`
    is this with ``lambda1_opt`` from eq. (19); the grader's follow-through
    credit evaluates it with the student's own ``lambda1_opt`` (E7 judged with
    the value of E4). Raises ``RuntimeError`` after 10^7 updates or when the
    weights stop being finite (a learning rate that does not converge).

    Examples
    --------
    >>> _balanced_learning_time_at(1.0, 2, 0.1, 0.01, lambda1_opt=1.0)   # one weight, Newton's step
    1
    """
    a = np.full(n_layers - 1, float(u0) ** (1.0 / (n_layers - 1)))
    lr = lr_scale / lambda1_opt
    target = (1.0 - eps) * s
    n_iter = 0
    while np.prod(a) < target:
        a = a - lr * chain_grad(a, s, tau)
        n_iter += 1
        if n_iter > 10_000_000 or not np.all(np.isfinite(a)):
            raise RuntimeError(f"no convergence after {n_iter} updates (lr_scale={lr_scale})")
    return n_iter

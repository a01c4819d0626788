"""A deep scalar linear chain: error surface, fixed points, gradient flow, depth (B8-B11).

Sheet B, second part. A chain of ``D`` scalar units with ``D-1`` weights maps
``x`` to ``yhat = w_tot x`` with ``w_tot = w_1 w_2 ... w_{D-1}``. With the
input-output statistics ``sigma_y = <y^2>``, ``sigma_yx = <y x>`` and
``sigma_x = <x^2>`` the error ``E = <(y - w_tot x)^2>`` is

    E(w) = sigma_y - 2 sigma_yx w_tot + sigma_x w_tot^2.        (sheet B, eq. E)

Every function takes the three statistics explicitly, in this order, after
its own arguments.

The sheet's data
----------------
The sheet's statistics are ``sigma_y = 4.5``, ``sigma_yx = 2``,
``sigma_x = 1`` (``SIGMA_Y``, ``SIGMA_YX``, ``SIGMA_X`` below). They give the
errors it quotes at the fixed points, ``E_min = sigma_y - sigma_yx^2 /
sigma_x = 0.5`` at the global minima (the hyperbola ``w_1 w_2 = 2`` for
``D = 3``) and ``E_saddle = sigma_y = 4.5`` at the saddle (the origin).

Part f's three starting points are the sheet's, ``EULER_STARTS``:

- ``(0.001, 0.001)``, next to the saddle on ``w_1 = w_2``: a long plateau,
  then it escapes along the diagonal to ``(sqrt 2, sqrt 2)``;
- ``(2.1, -2)``: ``w_1^2 - w_2^2 = 0.41`` is conserved, so ``w_1`` never
  crosses zero and the flow ends on the positive branch of the hyperbola
  (a sequential update sends it to the negative one);
- ``(2, -2)`` lies on ``w_1 = -w_2``, a line the flow never leaves, and
  runs into the saddle at the origin.
"""
from __future__ import annotations

import numpy as np

SIGMA_Y = 4.5
SIGMA_YX = 2.0
SIGMA_X = 1.0
EULER_STARTS = ((0.001, 0.001), (2.1, -2.0), (2.0, -2.0))
BALANCED_W0S = (0.5, 1.0, 1.1)
BALANCED_DEPTHS = tuple(range(2, 21))


def _prod_except(w):
    """``prod_{j != i} w_j`` for every i, without dividing (safe at zeros)."""
    w = np.asarray(w, dtype=np.float64)
    before = np.concatenate(([1.0], np.cumprod(w[:-1])))
    after = np.concatenate((np.cumprod(w[::-1][:-1])[::-1], [1.0]))
    return before * after


def chain_error(w, sigma_y, sigma_yx, sigma_x):
    """Error of the chain, ``E = sigma_y - 2 sigma_yx w_tot + sigma_x w_tot^2`` (sheet B, part a).

    Parameters
    ----------
    w : ndarray, shape (D-1,)
        The weights ``w_1 ... w_{D-1}``.
    sigma_y, sigma_yx, sigma_x : float
        ``<y^2>``, ``<y x>``, ``<x^2>``.

    Returns
    -------
    float

    Examples
    --------
    >>> chain_error(np.array([1.0, 2.0]), 4.5, 2.0, 1.0)
    0.5
    """
    ### BEGIN SOLUTION
    w_tot = float(np.prod(w))
    return float(sigma_y - 2.0 * sigma_yx * w_tot + sigma_x * w_tot**2)  # sheet B, eq. E
    ### END SOLUTION


def chain_gradient(w, sigma_y, sigma_yx, sigma_x):
    """Gradient ``dE/dw_i = 2 (sigma_x w_tot - sigma_yx) prod_{j != i} w_j`` (sheet B, part b).

    Parameters
    ----------
    w : ndarray, shape (D-1,)
    sigma_y, sigma_yx, sigma_x : float

    Returns
    -------
    ndarray, shape (D-1,)

    Examples
    --------
    >>> chain_gradient(np.array([2.0, -2.0]), 4.5, 2.0, 1.0)
    array([ 24., -24.])
    """
    ### BEGIN SOLUTION
    w = np.asarray(w, dtype=np.float64)
    w_tot = np.prod(w)
    return 2.0 * (sigma_x * w_tot - sigma_yx) * _prod_except(w)
    ### END SOLUTION


def chain_fixed_point_errors(sigma_y, sigma_yx, sigma_x):
    """Error at the global minima and at the saddle of the chain (sheet B, part d).

    Parameters
    ----------
    sigma_y, sigma_yx, sigma_x : float

    Returns
    -------
    dict
        ``minimum``: ``sigma_y - sigma_yx^2 / sigma_x`` (any ``w`` with
        ``w_tot = sigma_yx / sigma_x``); ``saddle``: ``sigma_y`` (``w_tot = 0``,
        e.g. the origin, a fixed point whenever ``D - 1 >= 2``).

    Examples
    --------
    >>> chain_fixed_point_errors(4.5, 2.0, 1.0)
    {'minimum': 0.5, 'saddle': 4.5}
    """
    ### BEGIN SOLUTION
    return {"minimum": float(sigma_y - sigma_yx**2 / sigma_x), "saddle": float(sigma_y)}
    ### END SOLUTION


def is_fixed_point(w, sigma_y, sigma_yx, sigma_x, tol=1e-8):
    """Whether ``w`` is a fixed point of gradient descent: ``||dE/dw|| < tol`` (sheet B, part d).

    Parameters
    ----------
    w : ndarray, shape (D-1,)
    sigma_y, sigma_yx, sigma_x : float
    tol : float, default 1e-8
        Bound on the Euclidean norm of the gradient.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_fixed_point(np.array([1.0, 2.0]), 4.5, 2.0, 1.0), is_fixed_point(np.array([1.0, 1.0]), 4.5, 2.0, 1.0)
    (True, False)
    """
    ### BEGIN SOLUTION
    return bool(np.linalg.norm(chain_gradient(w, sigma_y, sigma_yx, sigma_x)) < tol)
    ### END SOLUTION


def euler_trajectory(w0, sigma_y, sigma_yx, sigma_x, tau=1.0, dt=0.01, n_steps=1000):
    """Forward-Euler gradient flow ``tau dw/dt = -dE/dw`` (sheet B, part f).

    Parameters
    ----------
    w0 : ndarray, shape (D-1,)
        Initial weights.
    sigma_y, sigma_yx, sigma_x : float
    tau : float, default 1
        Time constant.
    dt : float, default 0.01
        Euler step.
    n_steps : int, default 1000

    Returns
    -------
    ndarray, shape (n_steps + 1, D-1)
        Row ``k`` holds the weights after ``k`` steps (row 0 is ``w0``). Every
        step updates all weights at once from the old values:
        ``w <- w - (dt / tau) dE/dw(w)``.

    Examples
    --------
    >>> euler_trajectory(np.array([2.0, -2.0]), 4.5, 2.0, 1.0, n_steps=1)
    array([[ 2.  , -2.  ],
           [ 1.76, -1.76]])
    """
    ### BEGIN SOLUTION
    traj = np.empty((n_steps + 1, np.size(w0)))
    traj[0] = w0
    for k in range(n_steps):
        traj[k + 1] = traj[k] - (dt / tau) * chain_gradient(traj[k], sigma_y, sigma_yx, sigma_x)
    return traj
    ### END SOLUTION


def balanced_error(w, D, sigma_y, sigma_yx, sigma_x):
    """Error with all ``D-1`` weights equal to ``w``: ``E = sigma_y - 2 sigma_yx w^(D-1) + sigma_x w^(2(D-1))`` (sheet B, part g).

    Parameters
    ----------
    w : float or ndarray
        Common value of the weights (broadcasts).
    D : int
        Number of units in the chain (``D-1`` weights), ``D >= 2``.
    sigma_y, sigma_yx, sigma_x : float

    Returns
    -------
    float or ndarray, shaped like ``w``

    Examples
    --------
    >>> balanced_error(1.0, 3, 4.5, 2.0, 1.0)
    1.5
    """
    ### BEGIN SOLUTION
    w_tot = np.power(np.asarray(w, dtype=np.float64), D - 1)
    E = sigma_y - 2.0 * sigma_yx * w_tot + sigma_x * w_tot**2
    return float(E) if np.ndim(E) == 0 else E
    ### END SOLUTION


def balanced_gradient(w, D, sigma_y, sigma_yx, sigma_x):
    """Per-weight gradient in the balanced regime, ``dE/dw_i`` at ``w_1 = ... = w_{D-1} = w`` (sheet B, part g).

    Parameters
    ----------
    w : float or ndarray
        Common value of the weights (broadcasts).
    D : int
        Number of units (``D-1`` weights).
    sigma_y, sigma_yx, sigma_x : float

    Returns
    -------
    float or ndarray
        ``2 (sigma_x w^(D-1) - sigma_yx) w^(D-2)``: the gradient that drives
        each single weight. It is ``1/(D-1)`` of ``d/dw`` of
        :func:`balanced_error` (the derivative with respect to the shared
        value moves all ``D-1`` weights at once).

    Examples
    --------
    >>> balanced_gradient(0.5, 3, 4.5, 2.0, 1.0)
    -1.75
    """
    ### BEGIN SOLUTION
    w = np.asarray(w, dtype=np.float64)
    g = 2.0 * (sigma_x * np.power(w, D - 1) - sigma_yx) * np.power(w, D - 2)
    return float(g) if np.ndim(g) == 0 else g
    ### END SOLUTION


def initial_gradients(w0s, depths, sigma_y, sigma_yx, sigma_x):
    """Per-weight gradient at balanced starts, for each start and depth (sheet B, part g).

    Parameters
    ----------
    w0s : sequence of float
        Balanced initial values (the sheet: 0.5, 1, 1.1).
    depths : sequence of int
        Chain sizes ``D`` (the sheet: 2..20).
    sigma_y, sigma_yx, sigma_x : float

    Returns
    -------
    ndarray, shape (len(w0s), len(depths))
        Entry ``[i, j]`` is ``balanced_gradient(w0s[i], depths[j], ...)``
        (signed; plot its magnitude on a log scale).

    Examples
    --------
    >>> initial_gradients([1.0], [2, 5], 4.5, 2.0, 1.0)
    array([[-2., -2.]])
    """
    ### BEGIN SOLUTION
    w = np.asarray(w0s, dtype=np.float64)[:, None]
    D = np.asarray(depths)[None, :]
    return 2.0 * (sigma_x * w ** (D - 1) - sigma_yx) * w ** (D - 2)
    ### END SOLUTION


# ----------------------------------------------------------------------------
# The figures of part f and g (B12), as the figure items B12-phase and B12-balanced compare a notebook's
# figures with them. Private, so not in the skeleton: a student draws their own, in any style. The plotting
# helpers are pure (numbers in, a ``Figure`` out, no pyplot state, nothing computed inside); the
# ``_notebook_figure_*`` functions compute with the functions above and call them. The grader calls those
# (``{notebook_figures: _notebook_figure_b12_phase}``) for the reference's side and the report.


def _plot_phase_portrait(w1, w2, E, trajectories, branches, saddle):
    """The error surface ``E`` on the grid ``w1 x w2`` (filled contours), the trajectories (one curve each,
    in order: the first curves of the figure, a dot at each start), the global minima (``branches``: the
    two branches of the hyperbola, ``(n, 2)`` each) and the saddle (a point)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 4.6))
    ax = fig.subplots()
    cs = ax.contourf(w1, w2, E, levels=np.linspace(0.0, 20.0, 41), cmap="viridis", extend="max")
    fig.colorbar(cs, ax=ax, label="E")
    for k, traj in enumerate(trajectories):
        ax.plot(traj[:, 0], traj[:, 1], "-", color=f"C{k + 1}", lw=1.8, label=f"from ({traj[0, 0]:g}, {traj[0, 1]:g})")
        ax.plot(traj[0, 0], traj[0, 1], "o", color=f"C{k + 1}", ms=4)
    for b in branches:
        ax.plot(b[:, 0], b[:, 1], "--", color="r", lw=1, label="_minima")
    ax.scatter([saddle[0]], [saddle[1]], marker="x", color="r", s=40, label="saddle", zorder=3)
    ax.set_xlim(w1.min(), w1.max())
    ax.set_ylim(w2.min(), w2.max())
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("Gradient flow on E (D = 3); dashed: the minima $w_1 w_2 = 2$", fontsize=9)
    fig.tight_layout()
    return fig


def _notebook_figure_b12_phase():
    """B12's phase portrait: E of the two-weight chain (D = 3), the minima and the saddle, and part f's three
    Euler trajectories (dt = 0.01, 1000 steps)."""
    g = np.linspace(-3.0, 3.0, 121)
    w1, w2 = np.meshgrid(g, g)
    E = SIGMA_Y - 2.0 * SIGMA_YX * w1 * w2 + SIGMA_X * (w1 * w2) ** 2
    trajectories = [euler_trajectory(np.array(w0), SIGMA_Y, SIGMA_YX, SIGMA_X) for w0 in EULER_STARTS]
    c = SIGMA_YX / SIGMA_X
    u = np.linspace(c / 3.0, 3.0, 200)
    branches = [np.column_stack([u, c / u]), np.column_stack([-u, -c / u])]
    return _plot_phase_portrait(w1, w2, E, trajectories, branches, (0.0, 0.0))


def _plot_balanced_errors(w, depths, errors):
    """``E(w)`` of the balanced chain, one curve per depth (rows of ``errors``), labelled ``D = ...``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 4.0))
    ax = fig.subplots()
    for D, E in zip(depths, errors):
        ax.plot(w, E, label=f"D = {D}")
    ax.set_ylim(0.0, 12.0)
    ax.set_xlabel("w (all D - 1 weights)")
    ax.set_ylabel("E(w)")
    ax.set_title("Balanced chain")
    ax.legend()
    fig.tight_layout()
    return fig


def _notebook_figure_b12_balanced():
    """B12's balanced-regime figure: ``E(w)`` for D = 2..6, w in [-1.5, 1.5]."""
    w = np.linspace(-1.5, 1.5, 601)
    depths = range(2, 7)
    return _plot_balanced_errors(w, depths, [balanced_error(w, D, SIGMA_Y, SIGMA_YX, SIGMA_X) for D in depths])

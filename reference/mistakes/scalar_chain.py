"""Known wrong versions of ``reference.scalar_chain`` (B10-B11), one function each.

Each body is self-contained source: it is spliced into the reference module in
place of ``replaces``, so it may use any name of ``reference.scalar_chain``.
The imports below only make the mutants callable directly (in the tests).
"""
from __future__ import annotations

import numpy as np

from reference.mistakes import mistake
from reference.scalar_chain import (  # noqa: F401  (used by the mutant bodies)
    EULER_STARTS,
    SIGMA_X,
    SIGMA_Y,
    SIGMA_YX,
    _plot_balanced_errors,
    _plot_phase_portrait,
    chain_gradient,
)


@mistake(item="B10", replaces="euler_trajectory",
         feedback="Update all weights simultaneously from the old values: computing w2's "
                  "step from the already-updated w1 breaks the w1 = -w2 symmetry, so "
                  "(2, -2) ends on a branch of the hyperbola instead of the saddle.")
def euler_trajectory__sequential_update(w0, sigma_y, sigma_yx, sigma_x, tau=1.0, dt=0.01,
                                        n_steps=1000):
    traj = np.empty((n_steps + 1, np.size(w0)))
    traj[0] = w0
    w = np.array(w0, dtype=np.float64)
    for k in range(n_steps):
        for i in range(w.size):
            w[i] -= (dt / tau) * chain_gradient(w, sigma_y, sigma_yx, sigma_x)[i]
        traj[k + 1] = w
    return traj


@mistake(item="B11", replaces="balanced_gradient",
         feedback="balanced_gradient is dE/dw_i for one weight at w_i = w; the derivative "
                  "of E(w) with respect to the shared w is D-1 times too large.")
def balanced_gradient__shared_w_derivative(w, D, sigma_y, sigma_yx, sigma_x):
    w = np.asarray(w, dtype=np.float64)
    g = (D - 1) * 2.0 * (sigma_x * np.power(w, D - 1) - sigma_yx) * np.power(w, D - 2)
    return float(g) if np.ndim(g) == 0 else g


# ----------------------------------------------------------------------------
# B12-phase, B12-balanced: the notebook's figures (each mutant is the figure a notebook with that mistake draws)


@mistake(item="B12-phase", replaces="_notebook_figure_b12_phase",
         feedback="Your trajectories end where a sequential update takes them (w2 stepped from the already-"
                  "updated w1): (2.1, -2) ends on the negative branch of the hyperbola and (2, -2) on a branch "
                  "instead of the saddle. Update both weights at once from the old values.")
def _notebook_figure_b12_phase__sequential_update():
    g = np.linspace(-3.0, 3.0, 121)
    w1, w2 = np.meshgrid(g, g)
    E = SIGMA_Y - 2.0 * SIGMA_YX * w1 * w2 + SIGMA_X * (w1 * w2) ** 2
    trajectories = []
    for w0 in EULER_STARTS:
        w = np.array(w0, dtype=np.float64)
        traj = [w.copy()]
        for _ in range(1000):
            for i in range(w.size):
                w[i] -= 0.01 * chain_gradient(w, SIGMA_Y, SIGMA_YX, SIGMA_X)[i]
            traj.append(w.copy())
        trajectories.append(np.array(traj))
    c = SIGMA_YX / SIGMA_X
    u = np.linspace(c / 3.0, 3.0, 200)
    return _plot_phase_portrait(w1, w2, E, trajectories, [np.column_stack([u, c / u]), np.column_stack([-u, -c / u])],
                                (0.0, 0.0))


@mistake(item="B12-phase", replaces="_notebook_figure_b12_phase",
         feedback="Your notebook draws no trajectory from part f's starts (0.001, 0.001), (2.1, -2), (2, -2): "
                  "plot w2 against w1 along each euler_trajectory over the error surface, in a cell that runs.")
def _notebook_figure_b12_phase__no_trajectories():
    from matplotlib.figure import Figure

    g = np.linspace(-3.0, 3.0, 121)
    w1, w2 = np.meshgrid(g, g)
    fig = Figure(figsize=(5.0, 4.0))
    ax = fig.subplots()
    ax.contourf(w1, w2, SIGMA_Y - 2.0 * SIGMA_YX * w1 * w2 + SIGMA_X * (w1 * w2) ** 2, levels=30)
    ax.scatter([0.0], [0.0], marker="x", color="r")
    return fig


@mistake(item="B12-balanced", replaces="_notebook_figure_b12_balanced",
         feedback="Your E(w) curves use D weights for a chain of D units: it has D - 1 weights, so "
                  "E(w) = sigma_y - 2 sigma_yx w^(D-1) + sigma_x w^(2(D-1)); your curve for D is the one for D + 1.")
def _notebook_figure_b12_balanced__d_weights():
    w = np.linspace(-1.5, 1.5, 601)
    depths = range(2, 7)
    return _plot_balanced_errors(w, depths, [SIGMA_Y - 2.0 * SIGMA_YX * w**D + SIGMA_X * w ** (2 * D) for D in depths])

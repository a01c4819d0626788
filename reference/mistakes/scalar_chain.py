"""Known wrong versions of ``reference.scalar_chain`` (B10-B11), one function each.

Each body is self-contained source: it is spliced into the reference module in
place of ``replaces``, so it may use any name of ``reference.scalar_chain``.
The imports below only make the mutants callable directly (in the tests).
"""
from __future__ import annotations

import numpy as np

from reference.mistakes import mistake
from reference.scalar_chain import chain_gradient


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

"""Figures of assignment A (learning dynamics in deep linear networks).

Every function takes arrays (the outputs of :mod:`reference.dln_dynamics`)
and returns a :class:`matplotlib.figure.Figure`; :func:`save` writes one as
a PNG. No computation happens here beyond indexing, so a figure shows
exactly the numbers it is given. The Agg backend is used: no display needed.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def _mode_colours(n):
    return plt.cm.viridis(np.linspace(0.0, 0.85, n))


def simulated_vs_analytic(t, simulated, analytic, s=None, title="Deep network: simulation vs eq. (4)"):
    """Simulated mode strengths (solid) over the analytic ones (dashed).

    Parameters
    ----------
    t : ndarray, shape (n_times,)
        Times of the rows.
    simulated, analytic : ndarray, shape (n_times, n_modes)
        E.g. ``simulate_modes(...)["deep"]`` and ``analytic_deep(t[:, None], s[None, :], a0, tau)``.
    s : ndarray, shape (n_modes,), optional
        Targets, drawn as dotted horizontal lines.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = np.asarray(t).ravel()
    simulated, analytic = np.asarray(simulated), np.asarray(analytic)
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot()
    for i, c in enumerate(_mode_colours(simulated.shape[1])):
        ax.plot(t, simulated[:, i], color=c, lw=2, label=f"mode {i + 1} simulated")
        ax.plot(t, analytic[:, i], color=c, lw=1.2, ls="--", label=f"mode {i + 1} theory")
        if s is not None:
            ax.axhline(np.asarray(s)[i], color=c, lw=0.6, ls=":")
    ax.set_xlabel("time t")
    ax.set_ylabel("mode strength (singular value)")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def deep_vs_shallow(t, deep, shallow, s=None, title="Deep vs shallow network"):
    """Mode strengths of the deep network (solid) and the shallow one (dash-dot).

    Parameters
    ----------
    t : ndarray, shape (n_times,)
    deep, shallow : ndarray, shape (n_times, n_modes)
        ``simulate_modes(...)["deep"]`` and ``["shallow"]`` (or eqs (4)/(5)).
    s : ndarray, shape (n_modes,), optional
        Targets, drawn as dotted lines.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = np.asarray(t).ravel()
    deep, shallow = np.asarray(deep), np.asarray(shallow)
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.add_subplot()
    for i, c in enumerate(_mode_colours(deep.shape[1])):
        ax.plot(t, deep[:, i], color=c, lw=2, label=f"deep, mode {i + 1}")
        ax.plot(t, shallow[:, i], color=c, lw=1.2, ls="-.", label=f"shallow, mode {i + 1}")
        if s is not None:
            ax.axhline(np.asarray(s)[i], color=c, lw=0.6, ls=":")
    ax.set_xlabel("time t")
    ax.set_ylabel("mode strength (singular value)")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def linear_vs_relu(linear_sv, relu_sv, s, n_modes=8, linear_loss=None, relu_loss=None,
                   title="Linear vs ReLU network on the tree data"):
    """Singular values of the input-output map per epoch, linear vs ReLU.

    Parameters
    ----------
    linear_sv, relu_sv : ndarray, shape (num_epochs, k)
        ``train_network(...)[1]`` for a :class:`DeepLinearNetwork` and a
        :class:`DeepNonLinearNetwork`.
    s : ndarray, shape (>= n_modes,)
        Singular values of ``SIGMA_YX`` (dotted lines).
    n_modes : int
        How many of the top modes to draw.
    linear_loss, relu_loss : ndarray, shape (num_epochs,), optional
        Loss curves, drawn in a second panel (log scale) when given.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    linear_sv, relu_sv = np.asarray(linear_sv), np.asarray(relu_sv)
    with_loss = linear_loss is not None or relu_loss is not None
    fig = Figure(figsize=(10.5 if with_loss else 6.4, 4.2))
    axes = fig.subplots(1, 2 if with_loss else 1, squeeze=False)[0]
    ax = axes[0]
    epochs = np.arange(linear_sv.shape[0])
    k = min(n_modes, linear_sv.shape[1], relu_sv.shape[1])
    for i, c in enumerate(_mode_colours(k)):
        ax.plot(epochs, linear_sv[:, i], color=c, lw=2, label="linear" if i == 0 else None)
        ax.plot(np.arange(relu_sv.shape[0]), relu_sv[:, i], color=c, lw=1.2, ls="--",
                label="ReLU" if i == 0 else None)
        ax.axhline(np.asarray(s)[i], color=c, lw=0.6, ls=":")
    ax.set_xlabel("epoch")
    ax.set_ylabel("singular value of the input-output map")
    ax.set_title(title)
    ax.legend(fontsize=8)
    if with_loss:
        ax2 = axes[1]
        if linear_loss is not None:
            ax2.semilogy(np.arange(len(linear_loss)), linear_loss, lw=2, label="linear")
        if relu_loss is not None:
            ax2.semilogy(np.arange(len(relu_loss)), relu_loss, lw=1.2, ls="--", label="ReLU")
        ax2.set_xlabel("epoch")
        ax2.set_ylabel("mean per-sample loss")
        ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def save(fig, path, dpi=120):
    """Write ``fig`` as a PNG to ``path`` (parent folders created); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def make_reference_figures(out_dir, seed=0, num_epochs=300) -> dict[str, Path]:
    """The three reference figures of assignment A as PNGs in ``out_dir`` (for the HTML report).

    The sheet's setup (eta 0.4, dt 0.1, 150 updates, init variance 0.01) for
    the simulated/analytic and deep/shallow plots; for linear vs ReLU, the
    grader's quick tree data set (8 items x 30 features, hidden [32, 32],
    per-sample SGD at lr 0.1) for ``num_epochs`` epochs.
    """
    import torch

    from reference import dln_dynamics as A

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_out, n_in = A.SIGMA_YX.shape
    std = np.sqrt(A.INIT_VARIANCE)
    w1 = rng.normal(0, std, (A.HIDDEN_DIM, n_in))
    w2 = rng.normal(0, std, (n_out, A.HIDDEN_DIM))
    w = rng.normal(0, std, (n_out, n_in))
    modes = A.simulate_modes(w1, w2, w, A.DT, A.TAU, A.SIGMA_X, A.SIGMA_YX, A.N_STEPS)
    t = np.arange(A.N_STEPS + 1) * A.DT
    s = np.linalg.svd(A.SIGMA_YX, compute_uv=False)
    a0 = modes["deep"][0]
    analytic = A.analytic_deep(t[:, None], s[None, :], a0[None, :], A.TAU)
    paths = {"simulated_vs_analytic": out / "A4_simulated_vs_analytic.png",
             "deep_vs_shallow": out / "A3_deep_vs_shallow.png",
             "linear_vs_relu": out / "A9_linear_vs_relu.png"}
    save(simulated_vs_analytic(t, modes["deep"], analytic, s), paths["simulated_vs_analytic"])
    save(deep_vs_shallow(t, modes["deep"], modes["shallow"], s), paths["deep_vs_shallow"])
    targets = A._tree_targets(30, 3, 2, 0.05, seed)
    inputs = A._tree_inputs(targets.shape[0])
    curves = {}
    for name, cls in (("linear", A.DeepLinearNetwork), ("relu", A.DeepNonLinearNetwork)):
        torch.manual_seed(seed)
        net = cls(inputs.shape[1], targets.shape[1], [32, 32])
        curves[name] = A.train_network(net, torch.nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.1),
                                       num_epochs, inputs, targets)
    s_tree = A._tree_singular_values(30, 3, 2, 0.05, seed)
    save(linear_vs_relu(curves["linear"][1], curves["relu"][1], s_tree, linear_loss=curves["linear"][0],
                        relu_loss=curves["relu"][0]), paths["linear_vs_relu"])
    return paths

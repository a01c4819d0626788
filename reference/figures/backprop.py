"""Figures of assignment B (backprop and the deep scalar chain), B12.

Every function takes arrays (computed by ``reference.backprop`` /
``reference.scalar_chain`` or by a student) and returns a
``matplotlib.figure.Figure``; pass ``path`` to also save it as PNG. Figures are
made with ``matplotlib.figure.Figure`` directly (Agg canvas, no pyplot
state), so nothing needs a display and nothing accumulates.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

__all__ = [
    "make_reference_figures",
    "balanced_error_figure",
    "initial_gradient_figure",
    "learning_curves_figure",
    "phase_portrait_figure",
]


def _finish(fig: Figure, path: str | Path | None) -> Figure:
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def phase_portrait_figure(w1_grid, w2_grid, E, trajectories, fixed_points=None,
                          labels=None, path=None) -> Figure:
    """Error surface of the two-weight chain with fixed points and Euler trajectories.

    Parameters
    ----------
    w1_grid, w2_grid : ndarray, shape (n1,), (n2,)
        Axis values.
    E : ndarray, shape (n2, n1)
        ``E[j, i]`` = chain error at ``(w1_grid[i], w2_grid[j])``.
    trajectories : sequence of ndarray, each shape (n_steps + 1, 2)
        From ``euler_trajectory``.
    fixed_points : dict, optional
        ``{"minimum": w_tot_star, "saddle": (0, 0)}``-style: the hyperbola
        ``w1 w2 = minimum`` is drawn and the saddle marked.
    labels : sequence of str, optional
        One per trajectory.
    path : str or Path, optional
        Save as PNG there.
    """
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    W1, W2 = np.meshgrid(w1_grid, w2_grid)
    levels = np.quantile(E, np.linspace(0.0, 0.95, 25))
    cs = ax.contourf(W1, W2, E, levels=np.unique(levels), cmap="viridis")
    fig.colorbar(cs, ax=ax, label="E")
    if fixed_points is not None:
        w_star = fixed_points.get("minimum")
        if w_star is not None:
            for sign in (1.0, -1.0):
                x = sign * np.geomspace(abs(w_star) / max(abs(w2_grid).max(), 1e-12),
                                        max(abs(w1_grid).max(), 1e-12), 200)
                ax.plot(x, w_star / x, "w--", lw=1)
        saddle = fixed_points.get("saddle")
        if saddle is not None:
            ax.plot(*saddle, "rx", ms=10, mew=2, label="saddle")
    for k, traj in enumerate(trajectories):
        traj = np.asarray(traj)
        lab = labels[k] if labels is not None else "start (" + ", ".join(f"{v:g}" for v in traj[0]) + ")"
        (line,) = ax.plot(traj[:, 0], traj[:, 1], lw=2, label=lab)
        ax.plot(traj[0, 0], traj[0, 1], "o", color=line.get_color())
        ax.plot(traj[-1, 0], traj[-1, 1], "s", color=line.get_color())
    ax.set_xlim(w1_grid[0], w1_grid[-1])
    ax.set_ylim(w2_grid[0], w2_grid[-1])
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title("Error surface and gradient flow")
    ax.legend(loc="lower left", fontsize=8)
    return _finish(fig, path)


def learning_curves_figure(curves: Mapping[str, Mapping[str, np.ndarray]] | Mapping[str, np.ndarray],
                           n_train=None, n_test=None, path=None) -> Figure:
    """Loss and accuracy against iteration, train and test (sheet B, part b).

    Parameters
    ----------
    curves : dict
        Either one ``train`` result (keys ``train_loss``, ``test_loss``,
        ``train_acc``, ``test_acc``) or ``{label: result}`` for several runs
        (e.g. one per weight scale).
    n_train, n_test : int, optional
        If given, the losses are divided by them (loss per example).
    path : str or Path, optional
    """
    if "train_loss" in curves:
        curves = {"": curves}
    fig = Figure(figsize=(10, 4))
    ax_l, ax_a = fig.subplots(1, 2)
    for label, c in curves.items():
        it = np.arange(len(c["train_loss"]))
        tl = np.asarray(c["train_loss"]) / (n_train or 1)
        vl = np.asarray(c["test_loss"]) / (n_test or 1)
        pre = f"{label} " if label else ""
        (l1,) = ax_l.plot(it, tl, label=pre + "train")
        ax_l.plot(it, vl, "--", color=l1.get_color(), label=pre + "test")
        (l2,) = ax_a.plot(it, c["train_acc"], label=pre + "train")
        ax_a.plot(it, c["test_acc"], "--", color=l2.get_color(), label=pre + "test")
    ax_l.set_yscale("log")
    ax_l.set_xlabel("iteration")
    ax_l.set_ylabel("loss per example" if n_train else "loss (sum)")
    ax_a.set_xlabel("iteration")
    ax_a.set_ylabel("accuracy")
    ax_a.set_ylim(0.4, 1.01)
    for ax in (ax_l, ax_a):
        ax.legend(fontsize=8)
    return _finish(fig, path)


def balanced_error_figure(w, errors: Mapping[int, np.ndarray], ylim=None, path=None) -> Figure:
    """Error ``E(w)`` along the balanced line for several depths (sheet B, part g).

    Parameters
    ----------
    w : ndarray, shape (n,)
    errors : dict
        ``{D: balanced_error(w, D, ...)}``, e.g. for D = 2..6.
    ylim : (float, float), optional
        Default: 0 to twice the error at the ``w`` closest to 0 (the saddle).
    path : str or Path, optional
    """
    fig = Figure(figsize=(5.5, 4))
    ax = fig.subplots()
    for D, E in errors.items():
        ax.plot(w, E, label=f"D = {D}")
    if ylim is None:
        i0 = int(np.argmin(np.abs(np.asarray(w))))
        top = 2.0 * max(float(np.asarray(E)[i0]) for E in errors.values())
        ylim = (0.0, top if top > 0 else None)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$w$ (all weights equal)")
    ax.set_ylabel("E")
    ax.set_title("Balanced chain: error against the shared weight")
    ax.legend(fontsize=8)
    return _finish(fig, path)


def initial_gradient_figure(depths: Sequence[int], grads, w0s: Sequence[float], path=None) -> Figure:
    """Magnitude of the per-weight gradient at a balanced start against depth (sheet B, part g).

    Parameters
    ----------
    depths : sequence of int, length m
    grads : ndarray, shape (len(w0s), m)
        From ``initial_gradients``.
    w0s : sequence of float
    path : str or Path, optional
    """
    grads = np.asarray(grads)
    fig = Figure(figsize=(5.5, 4))
    ax = fig.subplots()
    for w0, g in zip(w0s, grads):
        ax.semilogy(depths, np.abs(g), "o-", label=f"$w_0$ = {w0}")
    ax.set_xlabel("D (units in the chain)")
    ax.set_ylabel(r"$|\partial E / \partial w_i|$ at start")
    ax.set_title("Vanishing and exploding gradients with depth")
    ax.legend(fontsize=8)
    return _finish(fig, path)


def make_reference_figures(out_dir, n_iter=5000, seed=0) -> dict[str, Path]:
    """Compute the reference results and save the four figures of B12 as PNGs.

    Parameters
    ----------
    out_dir : str or Path
        Created if missing.
    n_iter : int, default 5000
        Training iterations for the learning curves (both weight scales).
    seed : int, default 0
        Seed of ``numpy.random.default_rng`` for the initial weights.

    Returns
    -------
    dict
        Figure name -> path of the PNG written.
    """
    from reference import backprop as bp
    from reference import scalar_chain as sc
    from reference.data import load_mnist_sevens_nines

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stats = (sc.SIGMA_Y, sc.SIGMA_YX, sc.SIGMA_X)
    paths = {}

    g = np.linspace(-3.0, 3.0, 241)
    E = np.array([[sc.chain_error(np.array([a, b]), *stats) for a in g] for b in g])
    trajs = [sc.euler_trajectory(np.array(w0), *stats) for w0 in sc.EULER_STARTS]
    fp = {"minimum": sc.SIGMA_YX / sc.SIGMA_X, "saddle": (0.0, 0.0)}
    paths["phase_portrait"] = out / "phase_portrait.png"
    phase_portrait_figure(g, g, E, trajs, fp, path=paths["phase_portrait"])

    d = load_mnist_sevens_nines()
    # the same two runs as B12's key figure (remembered by _sheet_runs: drawing both trains once)
    runs = bp._sheet_runs(d["X_train"], d["y_train"], d["X_test"], d["y_test"], n_iter=n_iter, seed=seed)
    paths["learning_curves"] = out / "learning_curves.png"
    learning_curves_figure(runs, n_train=d["X_train"].shape[1], n_test=d["X_test"].shape[1],
                           path=paths["learning_curves"])

    w = np.linspace(-1.6, 1.6, 321)
    errs = {D: sc.balanced_error(w, D, *stats) for D in range(2, 7)}
    paths["balanced_error"] = out / "balanced_error.png"
    balanced_error_figure(w, errs, path=paths["balanced_error"])

    grads = sc.initial_gradients(sc.BALANCED_W0S, sc.BALANCED_DEPTHS, *stats)
    paths["initial_gradients"] = out / "initial_gradients.png"
    initial_gradient_figure(sc.BALANCED_DEPTHS, grads, sc.BALANCED_W0S,
                            path=paths["initial_gradients"])
    return paths

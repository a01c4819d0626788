"""Figures of assignment D, signal propagation (D2, D4, D5, D7).

Every function returns a ``matplotlib.figure.Figure`` (Agg canvas, no pyplot
state); pass ``path`` to also save it as PNG. The functions compute what they
show from ``reference.signal_propagation`` with explicit seeds, so a figure is
reproducible; the ``*_figure`` functions that draw student data take arrays.
``make_reference_figures(outdir)`` writes them all.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from reference import signal_propagation as sp

__all__ = [
    "make_reference_figures",
    "q_map_figure",
    "phase_diagram_figure",
    "correlation_figure",
    "gradient_norms_figure",
    "gradient_histograms_figure",
]


def _finish(fig: Figure, path: str | Path | None) -> Figure:
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def q_map_figure(sigma_ws=(1.0, 1.5, 2.0, 3.0), sigma_b=0.3, width=1000, depth=12, seed=0,
                 path=None) -> Figure:
    """The length map and its fixed points (a), and ``q^l`` in real networks vs mean field (b).

    Parameters
    ----------
    sigma_ws : sequence of float
        Weight standard deviations, one curve each.
    sigma_b : float
        Bias standard deviation.
    width, depth : int
        Size of the random networks of panel (b) (``empirical_q``, 4 inputs).
    seed : int
        Seed of the networks.
    path : str or Path, optional
    """
    fig = Figure(figsize=(10, 4))
    ax1, ax2 = fig.subplots(1, 2)
    q = np.linspace(0.0, 1.1 * (max(sigma_ws) ** 2 + sigma_b**2), 300)
    ax1.plot(q, q, "k:", lw=1, label="$q^l = q^{l-1}$")
    layers = np.arange(1, depth + 1)
    for sw in sigma_ws:
        (line,) = ax1.plot(q, sp.q_map(q, sw, sigma_b), label=rf"$\sigma_w = {sw:g}$")
        qs = sp.q_star(sw, sigma_b)
        ax1.plot(qs, qs, "o", color=line.get_color())
        emp = sp.empirical_q(sw, sigma_b, width, depth, 4, np.random.default_rng(seed))
        ax2.plot(layers, emp, "o", color=line.get_color(), ms=4)
        # mean field from the same start: q^1 = sigma_w^2 + sigma_b^2 for x ~ N(0, I)
        mf = [sw**2 + sigma_b**2]
        for _ in range(depth - 1):
            mf.append(sp.q_map(mf[-1], sw, sigma_b))
        ax2.plot(layers, mf, "-", color=line.get_color(), lw=1)
        ax2.axhline(qs, color=line.get_color(), ls=":", lw=0.8)
    ax1.set_xlabel("$q^{l-1}$")
    ax1.set_ylabel("$q^l$")
    ax1.set_title(rf"(a) length map, $\sigma_b = {sigma_b:g}$; dots: $q^*$")
    ax1.legend(fontsize=8)
    ax2.set_xlabel("layer $l$")
    ax2.set_ylabel("$q^l$")
    ax2.set_title(f"(b) random networks (dots, N = {width}) vs mean field")
    return _finish(fig, path)


def phase_diagram_figure(q_stars=None, points=((2.0, 0.3), (0.9, 0.1), (1.5, 0.05), (3.0, 0.5), (0.7, 0.3)),
                         path=None) -> Figure:
    """The edge of chaos ``chi_1 = 1`` in the ``(sigma_w^2, sigma_b^2)`` plane (D4).

    Parameters
    ----------
    q_stars : ndarray, optional
        Parametrisation of the critical line (default ``q*`` in ``[1, 1000]``,
        the sheet's range), panel (a), log axes.
    points : sequence of (sigma_w, sigma_b)
        Marked in panel (b), coloured by phase.
    path : str or Path, optional
    """
    if q_stars is None:
        q_stars = np.logspace(0.0, 3.0, 61)
    fig = Figure(figsize=(10, 4))
    ax1, ax2 = fig.subplots(1, 2)
    sw, sb = sp.edge_of_chaos(q_stars)
    ax1.loglog(sw**2, sb**2, "k-")
    for q in (1.0, 10.0, 100.0, 1000.0):
        a, b = sp.edge_of_chaos(np.array([q]))
        ax1.plot(a**2, b**2, "ko", ms=4)
        ax1.annotate(f"$q^* = {q:g}$", (a[0] ** 2, b[0] ** 2), textcoords="offset points", xytext=(6, -10),
                     fontsize=8)
    ax1.xaxis.set_minor_formatter(NullFormatter())
    ax1.set_xlabel(r"$\sigma_w^2$")
    ax1.set_ylabel(r"$\sigma_b^2$")
    ax1.set_title(r"(a) $\chi_1 = 1$ for $q^* \in [1, 1000]$")
    # panel (b): the usual window, small q* near (1, 0)
    x_max = max(4.5, 1.1 * max(w for w, _ in points) ** 2)
    y_max = min(0.7, max(0.3, 1.3 * max(b for _, b in points) ** 2))
    sw, sb = sp.edge_of_chaos(np.logspace(-4.0, 0.4, 80))
    line_w, line_b = np.r_[1.0, sw**2], np.r_[0.0, sb**2]
    ax2.plot(line_w, line_b, "k-", label=r"$\chi_1 = 1$")
    ax2.fill_betweenx(line_b, 0.0, line_w, color="tab:blue", alpha=0.15, label=r"ordered ($\chi_1 < 1$)")
    ax2.fill_betweenx(line_b, line_w, x_max, color="tab:red", alpha=0.15, label=r"chaotic ($\chi_1 > 1$)")
    for w, b in points:
        chi = sp.chi1(w, b)
        ax2.plot(w**2, b**2, "o", color="tab:red" if chi > 1 else "tab:blue", mec="k")
        ax2.annotate(rf"$\chi_1$={chi:.2f}", (w**2, b**2), textcoords="offset points", xytext=(5, 4), fontsize=7)
    ax2.set_xlim(0.0, x_max)
    ax2.set_ylim(0.0, y_max)
    ax2.set_xlabel(r"$\sigma_w^2$")
    ax2.set_ylabel(r"$\sigma_b^2$")
    ax2.set_title("(b) phases of the tanh network")
    ax2.legend(fontsize=8, loc="upper left")
    return _finish(fig, path)


def correlation_figure(cases=((0.9, 0.1), (1.5, 0.05), (2.0, 0.3), (3.0, 0.5)), width=500, depth=30, seed=0,
                       path=None) -> Figure:
    """Correlation maps with their fixed points (a) and ``c^l`` in real networks (b) (D5).

    Parameters
    ----------
    cases : sequence of (sigma_w, sigma_b)
    width, depth : int
        Networks of panel (b); the two inputs start at correlation 0.9.
    seed : int
    path : str or Path, optional
    """
    fig = Figure(figsize=(10, 4))
    ax1, ax2 = fig.subplots(1, 2)
    c = np.linspace(0.0, 1.0, 101)
    ax1.plot(c, c, "k:", lw=1)
    layers = np.arange(1, depth + 1)
    rng = np.random.default_rng(seed)
    x1, x2 = rng.standard_normal((2, width))
    x2 = 0.9 * x1 + np.sqrt(1.0 - 0.81) * x2
    for w, b in cases:
        chi = sp.chi1(w, b)
        (line,) = ax1.plot(c, sp.c_map(c, w, b), label=rf"$\sigma_w={w:g}, \sigma_b={b:g}$ ($\chi_1$={chi:.2f})")
        cs = sp.c_star(w, b)
        ax1.plot(cs, cs, "o", color=line.get_color())
        traj = sp.correlation_trajectory(x1, x2, w, b, width, depth, np.random.default_rng(seed + 1))
        ax2.plot(layers, traj, "o", ms=3, color=line.get_color())
        ax2.axhline(cs, color=line.get_color(), ls=":", lw=0.8)
    ax1.set_xlabel("$c^{l-1}$")
    ax1.set_ylabel("$c^l$")
    ax1.set_title("(a) correlation map; dots: $c^*$")
    ax1.legend(fontsize=7)
    ax2.set_xlabel("layer $l$")
    ax2.set_ylabel("$c^l$")
    ax2.set_title(f"(b) two inputs through random networks (N = {width})")
    return _finish(fig, path)


def gradient_norms_figure(norms_by_case, chi1s, labels=None, path=None) -> Figure:
    """``||dL/dW^l||`` against the layer, with the predicted rate ``sqrt(chi_1)`` per layer (D7).

    Parameters
    ----------
    norms_by_case : sequence of ndarray, each shape (depth,)
        From ``layer_gradient_norms``.
    chi1s : sequence of float
        ``chi_1`` of each case (the dashed lines have slope ``-log(chi_1)/2``,
        anchored at the last layer).
    labels : sequence of str, optional
    path : str or Path, optional
    """
    fig = Figure(figsize=(5.5, 4))
    ax = fig.subplots()
    for k, (g, chi) in enumerate(zip(norms_by_case, chi1s)):
        g = np.asarray(g)
        layers = np.arange(1, len(g) + 1)
        lab = labels[k] if labels is not None else rf"$\chi_1$ = {chi:.3g}"
        (line,) = ax.semilogy(layers, g, "o", ms=4, label=lab)
        ax.semilogy(layers, g[-1] * chi ** ((len(g) - layers) / 2.0), "--", color=line.get_color(), lw=1)
    ax.set_xlabel("layer $l$")
    ax.set_ylabel(r"$\|\partial L / \partial W^l\|_F$")
    ax.set_title(r"Gradient norms; dashed: factor $\sqrt{\chi_1}$ per layer")
    ax.legend(fontsize=8)
    return _finish(fig, path)


def gradient_histograms_figure(edges, density, layers=None, title="", path=None) -> Figure:
    """Per-layer histograms of the entries of ``dL/dW^l`` (D7), as returned by ``layer_gradient_histograms``.

    Parameters
    ----------
    edges : ndarray, shape (depth, n_bins + 1)
    density : ndarray, shape (depth, n_bins)
    layers : sequence of int, optional
        1-based layers to draw (default: about six spread over the depth).
    title : str, optional
    path : str or Path, optional
    """
    edges, density = np.asarray(edges), np.asarray(density)
    depth = edges.shape[0]
    if layers is None:
        layers = sorted(set(np.linspace(1, depth, min(depth, 6)).round().astype(int).tolist()))
    n_col = min(3, len(layers))
    n_row = int(np.ceil(len(layers) / n_col))
    fig = Figure(figsize=(3.2 * n_col, 2.6 * n_row))
    axes = np.atleast_1d(fig.subplots(n_row, n_col)).ravel()
    for ax, l in zip(axes, layers):
        e, d = edges[l - 1], density[l - 1]
        centres = 0.5 * (e[1:] + e[:-1])
        std = np.sqrt(np.sum(d * np.diff(e) * centres**2))
        ax.stairs(d, e, fill=True, alpha=0.6)
        ax.set_title(f"layer {l}: std {std:.3g}", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.ticklabel_format(axis="both", style="sci", scilimits=(-2, 3))
    for ax in axes[len(layers):]:
        ax.set_visible(False)
    fig.suptitle(title or r"Entries of $\partial L / \partial W^l$ per layer", fontsize=10)
    return _finish(fig, path)


def make_reference_figures(outdir, width=300, depth=20, seed=0) -> list[Path]:
    """Write every figure of assignment D as PNG into ``outdir``; return the paths."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "D1_q_map.png", out / "D4_phase_diagram.png", out / "D5_correlations.png",
             out / "D7_gradient_norms.png", out / "D7_gradient_histograms.png"]
    q_map_figure(width=max(width, 300), path=paths[0])
    phase_diagram_figure(path=paths[1])
    correlation_figure(width=max(width, 300), path=paths[2])
    sw_edge, sb_edge = sp.edge_of_chaos(np.array([0.5]))
    cases = [(0.7, 0.3), (float(sw_edge[0]), float(sb_edge[0])), (3.0, 0.5)]
    norms = [sp.layer_gradient_norms(w, b, width, depth, np.random.default_rng(seed)) for w, b in cases]
    gradient_norms_figure(norms, [sp.chi1(w, b) for w, b in cases],
                          labels=[rf"$\sigma_w={w:.3g}, \sigma_b={b:.3g}$, $\chi_1$={sp.chi1(w, b):.3g}"
                                  for w, b in cases], path=paths[3])
    e, d = sp.layer_gradient_histograms(3.0, 0.5, width, depth, np.random.default_rng(seed))
    gradient_histograms_figure(e, d, title=r"Chaotic ($\sigma_w=3, \sigma_b=0.5$): entries grow going down",
                               path=paths[4])
    return paths

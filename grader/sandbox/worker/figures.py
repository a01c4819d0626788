"""Figures as plain data: what a call (or a notebook cell) drew with matplotlib.

:func:`capture` describes every open pyplot figure (and any figure passed in
``extra``, e.g. one a plotting function returned) as plain data the wire can
carry: numbers, strings, lists and numpy arrays, never a pickle or an object.
Per figure: a PNG (``uint8`` array, at most :data:`MAX_PNG_BYTES`, rendered at a
modest dpi) and per axes its lines, scatter offsets, images (shape and extent
only), histogram bars, title, labels, scales, limits and legend texts. Every
count is capped (:data:`MAX_FIGURES`, :data:`MAX_AXES`, ...); a line with more
points than its share is downsampled evenly (its first and last point kept)
and flagged, a list that was cut is flagged ``truncated``.

Runs inside the sandbox (and in the trusted grader for the reference) with the
Agg backend; imports nothing of ``grader``, and matplotlib only when a figure
is asked for.
"""
from __future__ import annotations

import io
import sys

import numpy as np

MAX_FIGURES = 6
MAX_AXES = 16
"""Per figure (a colorbar is an axes too)."""
MAX_LINES = 32
"""Per axes: ``Line2D`` objects (``plot``, ``axhline``, markers)."""
MAX_COLLECTIONS = 16
"""Per axes: scatter sets and other collections (contours, fills)."""
MAX_BAR_GROUPS = 16
"""Per axes: histograms / bar charts (one per ``hist``/``bar``/``stairs`` call)."""
MAX_BARS = 1000
"""Bars in one group."""
MAX_IMAGES = 8
MAX_POINTS = 2000
"""Points of one line or one scatter set (more are downsampled evenly)."""
POINT_BUDGET = 100_000
"""Points of one capture in total, over every line and scatter set."""
MAX_TEXT = 200
"""Characters of one title, label or legend entry."""
MAX_LEGEND = 32
MAX_PNG_BYTES = 200_000
PNG_DPIS = (72, 50, 36)
"""Tried in turn until the PNG fits :data:`MAX_PNG_BYTES`."""
MAX_PIXELS = 1600 * 1200
MAX_SIDE = 2400
MIN_DPI = 20
"""Below it text cannot be rendered: a figure that needs less is described without a PNG."""


def _pyplot():
    """pyplot if the code imported it (and used it: the zygote registers it lazily, unexecuted until used)."""
    plt = sys.modules.get("matplotlib.pyplot")
    return None if plt is None or type(plt).__name__ == "_Deferred" else plt


def use_agg() -> None:
    """Make pyplot use the Agg backend if it is not imported yet (nothing can open a window)."""
    if _pyplot() is None:
        import matplotlib

        matplotlib.use("Agg")


def close_all() -> None:
    """Close every open pyplot figure (before a call whose figures are captured)."""
    plt = _pyplot()
    if plt is not None:
        plt.close("all")


def capture(close: bool = True, *, extra=()) -> list[dict]:
    """Every open pyplot figure (then the figures in ``extra`` not among them) as plain data.

    ``close`` closes the pyplot figures afterwards, so the next call (or cell)
    starts with none. A figure whose description fails becomes
    ``{"error": ...}`` and the others are still described.
    """
    plt = _pyplot()
    figs = []
    if plt is not None:
        figs = [plt.figure(n) for n in plt.get_fignums()]
    for f in extra:
        if not any(f is g for g in figs):
            figs.append(f)
    budget = [POINT_BUDGET]
    out = []
    for f in figs[:MAX_FIGURES]:
        try:
            out.append(describe(f, budget))
        except Exception as exc:  # noqa: BLE001 - a broken figure must not hide the others
            out.append({"error": _text(f"{type(exc).__name__}: {exc}")})
    if len(figs) > MAX_FIGURES and out:
        out[-1]["more_figures"] = len(figs) - MAX_FIGURES
    if close and plt is not None:
        plt.close("all")
    return out


def figures_in(value, depth: int = 0) -> list:
    """Figures a call returned: a ``Figure``, an ``Axes``, or such objects in a tuple, list, dict or array."""
    mpl_figure = sys.modules.get("matplotlib.figure")
    mpl_axes = sys.modules.get("matplotlib.axes")
    if mpl_figure is None or depth > 2:
        return []
    if isinstance(value, mpl_figure.Figure):
        return [value]
    if mpl_axes is not None and isinstance(value, mpl_axes.Axes):
        return [value.figure]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, np.ndarray) and value.dtype == object:
        value = list(value.ravel()[:64])
    found = []
    if isinstance(value, (list, tuple)):
        for v in list(value)[:64]:
            for f in figures_in(v, depth + 1):
                if not any(f is g for g in found):
                    found.append(f)
    return found


# ----------------------------------------------------------------------------
# one figure


def describe(fig, budget: list | None = None) -> dict:
    """One matplotlib figure as plain data (see the module docstring)."""
    budget = budget if budget is not None else [POINT_BUDGET]
    all_axes = list(fig.get_axes())
    axes = []
    for i, ax in enumerate(all_axes[:MAX_AXES]):
        try:
            axes.append(_axes(ax, i, budget))
        except Exception as exc:  # noqa: BLE001
            axes.append({"index": i, "error": _text(f"{type(exc).__name__}: {exc}")})
    w, h = (float(v) for v in fig.get_size_inches())
    sup = getattr(fig, "_suptitle", None)
    legends = [_text(t.get_text()) for leg in list(getattr(fig, "legends", []))[:4] for t in leg.get_texts()]
    out = {"size_in": [w, h], "suptitle": _text(sup.get_text()) if sup is not None else "",
           "axes": axes, "n_axes": len(all_axes), "truncated": len(all_axes) > MAX_AXES,
           "legend": legends[:MAX_LEGEND]}
    out.update(_png(fig, w, h))
    return out


def _png(fig, w, h) -> dict:
    """The figure as a PNG of at most MAX_PNG_BYTES (lower dpi until it fits); None with a note if it cannot be."""
    last = 0
    for dpi in PNG_DPIS:
        px_w, px_h = w * dpi, h * dpi
        if px_w * px_h > MAX_PIXELS or max(px_w, px_h) > MAX_SIDE:
            scale = min((MAX_PIXELS / max(px_w * px_h, 1.0)) ** 0.5, MAX_SIDE / max(px_w, px_h, 1.0))
            dpi = int(dpi * scale)
        if dpi < MIN_DPI:
            return _no_png(f"the figure is {w:g} x {h:g} inches, too large to render")
        buf = io.BytesIO()
        try:
            fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        except Exception as exc:  # noqa: BLE001 - the data is still worth having
            return _no_png(_text(f"the figure could not be rendered ({type(exc).__name__}: {exc})"))
        data = buf.getvalue()
        if len(data) <= MAX_PNG_BYTES:
            return {"png": np.frombuffer(data, dtype=np.uint8).copy(), "png_dpi": int(dpi), "png_note": ""}
        last = len(data)
    return _no_png(f"the image was {last} bytes at dpi {PNG_DPIS[-1]}, more than the {MAX_PNG_BYTES} allowed")


def _no_png(note: str) -> dict:
    return {"png": None, "png_dpi": None, "png_note": note}


def _axes(ax, index, budget) -> dict:
    role = "colorbar" if ax.get_label() == "<colorbar>" else "axes"
    titles = [ax.get_title(loc) for loc in ("left", "center", "right")]
    lines, n_lines = [], 0
    for line in ax.get_lines():
        n_lines += 1
        if len(lines) < MAX_LINES:
            lines.append(_line(ax, line, budget))
    scatter, others, n_coll = [], [], 0
    for coll in ax.collections:
        n_coll += 1
        if len(scatter) + len(others) >= MAX_COLLECTIONS:
            continue
        if type(coll).__name__ == "PathCollection":
            scatter.append(_scatter(coll, budget))
        else:
            others.append({"type": _text(type(coll).__name__, 60)})
    bars = _bars(ax)
    images = []
    for im in list(ax.get_images())[:MAX_IMAGES]:
        arr = im.get_array()
        images.append({"shape": [int(n) for n in np.shape(arr)][:4],
                       "extent": [float(v) for v in im.get_extent()][:4]})
    leg = ax.get_legend()
    legend = [_text(t.get_text()) for t in leg.get_texts()][:MAX_LEGEND] if leg is not None else []
    return {"index": index, "role": role, "visible": bool(ax.get_visible()),
            "title": _text(" | ".join(t for t in titles if t)),
            "xlabel": _text(ax.get_xlabel()), "ylabel": _text(ax.get_ylabel()),
            "xscale": _text(ax.get_xscale(), 20), "yscale": _text(ax.get_yscale(), 20),
            "xlim": [float(v) for v in ax.get_xlim()], "ylim": [float(v) for v in ax.get_ylim()],
            "legend": legend, "lines": lines, "scatter": scatter, "collections": others, "bars": bars,
            "images": images, "n_lines": n_lines, "n_collections": n_coll,
            "truncated": n_lines > MAX_LINES or n_coll > MAX_COLLECTIONS}


def _floats(values) -> np.ndarray:
    a = np.ma.filled(np.ma.asarray(values, dtype=float), np.nan)
    return np.asarray(a, dtype=float).ravel()


def _take(n: int, budget: list) -> np.ndarray | None:
    """Indices of at most min(MAX_POINTS, what the budget has left) points of ``n``, evenly spread."""
    cap = max(2, min(MAX_POINTS, budget[0]))
    if n <= cap:
        budget[0] -= n
        return None
    budget[0] -= cap
    return np.unique(np.linspace(0, n - 1, cap).round().astype(int))


def _line(ax, line, budget) -> dict:
    x, y = _floats(line.get_xdata()), _floats(line.get_ydata())
    n = min(x.size, y.size)
    x, y = x[:n], y[:n]
    idx = _take(n, budget)
    if idx is not None:
        x, y = x[idx], y[idx]
    marker = line.get_marker()
    return {"x": x, "y": y, "n": int(n), "downsampled": idx is not None, "label": _text(line.get_label()),
            "marker": _text("" if marker is None else str(marker), 20),
            "linestyle": _text(str(line.get_linestyle()), 20),
            "coords": "data" if line.get_transform() == ax.transData else "other",
            "visible": bool(line.get_visible())}


def _scatter(coll, budget) -> dict:
    off = np.ma.filled(np.ma.asarray(coll.get_offsets(), dtype=float), np.nan)
    off = np.asarray(off, dtype=float).reshape(-1, 2) if np.size(off) % 2 == 0 else np.zeros((0, 2))
    n = off.shape[0]
    idx = _take(n, budget)
    if idx is not None:
        off = off[idx]
    return {"offsets": off, "n": int(n), "downsampled": idx is not None, "label": _text(coll.get_label()),
            "visible": bool(coll.get_visible())}


def _bars(ax) -> list[dict]:
    """Histogram and bar groups: one per container (``hist``, ``bar``), per ``stairs`` patch, plus loose rectangles."""
    import matplotlib.patches as mpatches

    groups, seen = [], set()
    for cont in getattr(ax, "containers", []):
        rects = [p for p in getattr(cont, "patches", []) or [] if isinstance(p, mpatches.Rectangle)]
        if rects:
            seen.update(id(p) for p in rects)
            groups.append(_rect_group(rects, "bar", _text(cont.get_label())))
    loose = []
    for p in ax.patches:
        if id(p) in seen:
            continue
        if isinstance(p, mpatches.Rectangle):
            loose.append(p)
        elif type(p).__name__ == "StepPatch":
            values, edges, baseline = p.get_data()
            values = _floats(values)
            edges = _floats(edges)
            if edges.size == values.size + 1:
                base = 0.0 if baseline is None or np.ndim(baseline) else float(baseline)
                groups.append(_group(edges[:-1], np.diff(edges), values - base, np.full(values.size, base),
                                     "stairs", _text(p.get_label())))
        elif type(p).__name__ == "Polygon":  # hist(histtype="step" / "stepfilled"): a staircase outline
            g = _staircase(p)
            if g is not None:
                groups.append(g)
    if loose:
        groups.append(_rect_group(loose, "rectangles", ""))
    return groups[:MAX_BAR_GROUPS]


def _staircase(poly) -> dict | None:
    """The bins of a staircase outline (``hist(histtype="step")``): its horizontal segments left to right,
    each bin starting where the previous ended; None for any other polygon."""
    xy = np.asarray(poly.get_xy(), dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2 or xy.shape[0] < 4 or xy.shape[0] > 4 * MAX_BARS:
        return None
    lo, hi, h = [], [], []
    for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:]):
        if y0 == y1 and x1 > x0:
            if lo and x0 != hi[-1]:
                break  # not one staircase (a closing edge back along the baseline, or another shape)
            lo.append(x0)
            hi.append(x1)
            h.append(y0)
    if len(lo) < 2 or not np.all(np.isfinite(lo + hi + h)):
        return None
    lo, hi, h = np.array(lo), np.array(hi), np.array(h)
    return _group(lo, hi - lo, h, np.zeros(lo.size), "step", _text(poly.get_label()))


def _rect_group(rects, source, label) -> dict:
    n = len(rects)
    rects = rects[:MAX_BARS]
    x = np.array([float(r.get_x()) for r in rects])
    w = np.array([float(r.get_width()) for r in rects])
    y = np.array([float(r.get_y()) for r in rects])
    h = np.array([float(r.get_height()) for r in rects])
    return _group(x, w, h, y, source, label, n)


def _group(x, w, h, y, source, label, n=None) -> dict:
    n = int(x.size if n is None else n)
    cut = n > MAX_BARS
    return {"x": x[:MAX_BARS], "width": w[:MAX_BARS], "height": h[:MAX_BARS], "y": y[:MAX_BARS], "n": n,
            "truncated": cut, "source": source, "label": label}


def _text(s, limit: int = MAX_TEXT) -> str:
    try:
        s = str(s)
    except Exception:  # noqa: BLE001
        s = ""
    return str.__str__(s)[:limit]

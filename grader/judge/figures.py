"""Figure comparators: judge the figures a call drew, from the plain data the worker captured.

A case with ``returns: figures`` gives a list of figures, each a dict of plain
data (:mod:`grader.sandbox.worker.figures`: lines, scatter offsets, bars,
labels, scales, limits, legend texts and a PNG). The comparators here read that
data, never the image, and never trust its structure: a malformed entry is
skipped or makes the comparison fail with a sentence. They are registered with
the ``figures`` trait, so the rubric schema holds their cases to
``returns: figures``.

"Plot axes" are the visible axes of every figure that are not colorbars, in
figure order then axes order; a comparator's ``axes`` parameter (an index or a
list of indices into them) picks some, the default is all of them.
"""
from __future__ import annotations

import numpy as np

from grader.judge.numeric import Comparison, as_numeric, fmt, kind_of, relative
from grader.judge.registry import comparator
from grader.judge.png import png_bytes, png_data_uri_b64
from grader.sandbox.worker.interpreter import FIGURES

_NO_MARKER = {"", " ", "None", "none", "nothing"}
_NO_LINE = {"", " ", "None", "none"}
MAX_GRID = 4000


# ----------------------------------------------------------------------------
# reading the captured data (untrusted: every field is checked)


def figure_list(value) -> list[dict]:
    """The figures in ``value`` (a list of captured figures, or one); ValueError for anything else."""
    if isinstance(value, dict) and ("axes" in value or "error" in value):
        value = [value]
    if isinstance(value, (list, tuple)) and all(isinstance(f, dict) for f in value):
        return [f for f in value if isinstance(f.get("axes"), list)]
    raise ValueError(f"expected the figures a call drew (a case with `returns: figures`), got {kind_of(value)}")


def plot_axes(figs: list[dict]) -> list[tuple[str, dict]]:
    """``(name, axes)`` of every visible, non-colorbar axes."""
    out = []
    for i, f in enumerate(figs):
        for j, ax in enumerate(f.get("axes", [])):
            if isinstance(ax, dict) and ax.get("role", "axes") == "axes" and ax.get("visible", True) is not False \
                    and "error" not in ax:
                out.append((f"figure {i + 1}, axes {j + 1}" if len(figs) > 1 else f"axes {j + 1}", ax))
    return out


def _pick(axes: list, which) -> list:
    if which is None:
        return axes
    idx = [which] if isinstance(which, int) else list(which)
    for k in idx:
        if not isinstance(k, int) or isinstance(k, bool):
            raise ValueError(f"axes must be an index or a list of indices, got {which!r}")
    return [axes[k] for k in idx if -len(axes) <= k < len(axes)]


def _str(v, n: int = 40) -> str:
    return v[:n] if isinstance(v, str) else ""


def _vec(v) -> np.ndarray | None:
    a = as_numeric(v)
    if a is None or np.iscomplexobj(a):
        return None
    return np.asarray(a, dtype=float).ravel()


def series(ax: dict) -> list[dict]:
    """The axes' lines in data coordinates with at least 2 finite points: ``{x, y, label, marker, linestyle,
    drawn}`` (``drawn``: with a line style, not markers only)."""
    out = []
    for line in ax.get("lines", []) if isinstance(ax.get("lines"), list) else []:
        if not isinstance(line, dict) or line.get("coords", "data") != "data" or line.get("visible", True) is False:
            continue
        x, y = _vec(line.get("x")), _vec(line.get("y"))
        if x is None or y is None or x.size != y.size:
            continue
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() >= 2:
            style = _str(line.get("linestyle"))
            n = line.get("n")
            out.append({"x": x[ok], "y": y[ok], "label": _str(line.get("label")), "marker": _str(line.get("marker")),
                        "linestyle": style, "drawn": style not in _NO_LINE,
                        "n": int(n) if isinstance(n, int) and not isinstance(n, bool) and n >= x.size else x.size})
    return out


def curves(ax: dict) -> list[dict]:
    """The axes' curves: lines drawn with a line style through at least 2 points in data coordinates
    (a series of markers only, e.g. fixed points, is not a curve: see :func:`markers`)."""
    return [c for c in series(ax) if c["drawn"]]


def markers(ax: dict) -> np.ndarray:
    """Every marker of the axes, ``(n, 2)``: scatter offsets and the points of lines drawn with a marker."""
    pts = []
    for line in ax.get("lines", []) if isinstance(ax.get("lines"), list) else []:
        if isinstance(line, dict) and line.get("coords", "data") == "data" and line.get("visible", True) is not False \
                and _str(line.get("marker")) not in _NO_MARKER:
            x, y = _vec(line.get("x")), _vec(line.get("y"))
            if x is not None and y is not None and x.size == y.size:
                pts.append(np.column_stack([x, y]))
    for sc in ax.get("scatter", []) if isinstance(ax.get("scatter"), list) else []:
        if isinstance(sc, dict) and sc.get("visible", True) is not False:
            off = as_numeric(sc.get("offsets"))
            if off is not None and off.ndim == 2 and off.shape[1] == 2:
                pts.append(off.astype(float))
    if not pts:
        return np.zeros((0, 2))
    p = np.concatenate(pts)
    return p[np.all(np.isfinite(p), axis=1)]


def has_data(ax: dict) -> bool:
    return bool(curves(ax)) or markers(ax).size > 0 or bool(ax.get("bars")) or bool(ax.get("images")) \
        or bool(ax.get("collections"))


def _figures_or_fail(value, label):
    figs = figure_list(value)
    if not figs:
        return None, Comparison(False, 0.0, f"{label}: no figure was drawn", ("no_figure",))
    axes = plot_axes(figs)
    if not axes:
        return None, Comparison(False, 0.0, f"{label}: the figure has no axes", ("no_axes",))
    return axes, None


# ----------------------------------------------------------------------------
# curves


def _sorted_unique(x, y):
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    keep = np.r_[True, np.diff(x) > 0]
    return x[keep], y[keep]


def _thin(a: np.ndarray, n: int = MAX_GRID) -> np.ndarray:
    return a if a.size <= n else a[np.unique(np.linspace(0, a.size - 1, n).round().astype(int))]


def _log(v, on):
    return np.log10(v) if on else v


def _graph_error(ref, cand, rtol, atol, coverage, logx):
    """Largest ``|y_got - y_ref| / (atol + rtol |y_ref|)`` on the common x range (both sorted by x, interpolated)."""
    xr, yr, xs, ys = ref["x"], ref["y"], cand["x"], cand["y"]
    if logx:
        pr, ps = xr > 0, xs > 0
        xr, yr, xs, ys = np.log10(xr[pr]), yr[pr], np.log10(xs[ps]), ys[ps]
    if xr.size < 2 or xs.size < 2:
        return np.inf, {"why": "too few points"}
    xr, yr = _sorted_unique(xr, yr)
    xs, ys = _sorted_unique(xs, ys)
    span = xr[-1] - xr[0]
    lo, hi = max(xr[0], xs[0]), min(xr[-1], xs[-1])
    cov = (hi - lo) / span if span > 0 and hi > lo else 0.0
    if cov < coverage:
        return np.inf, {"why": f"covers {100 * cov:.0f}% of its x range", "cov": cov}
    grid = np.union1d(xr[(xr >= lo) & (xr <= hi)], xs[(xs >= lo) & (xs <= hi)])
    grid = _thin(grid)
    gr, gs = np.interp(grid, xr, yr), np.interp(grid, xs, ys)
    ratio = np.abs(gs - gr) / (atol + rtol * np.abs(gr))
    k = int(np.argmax(ratio))
    return float(ratio[k]), {"x": float(10 ** grid[k] if logx else grid[k]), "got": float(gs[k]),
                             "expected": float(gr[k])}


def _densify(p: np.ndarray, n: int = 2000) -> np.ndarray:
    """Points along the polyline ``p`` (by arc length), at least ``n``."""
    if p.shape[0] < 2:
        return p
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    s = np.r_[0.0, np.cumsum(seg)]
    if s[-1] <= 0:
        return p[:1]
    t = np.union1d(np.linspace(0.0, s[-1], n), s)
    return np.column_stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])])


def _nearest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each point of ``a``, the distance to the nearest point of ``b`` (in chunks)."""
    out = np.empty(a.shape[0])
    for i in range(0, a.shape[0], 256):
        d = a[i:i + 256, None, :] - b[None, :, :]
        out[i:i + 256] = np.sqrt(np.min(np.sum(d * d, axis=2), axis=1))
    return out


def _path_error(ref, cand, rtol, atol, logx, logy):
    """Largest distance between the two polylines (both ways), over ``atol + rtol * (the reference's size)``."""
    def pts(c):
        x, y = c["x"], c["y"]
        ok = (x > 0 if logx else np.isfinite(x)) & (y > 0 if logy else np.isfinite(y))
        return np.column_stack([_log(x[ok], logx), _log(y[ok], logy)])

    p, q = pts(ref), pts(cand)
    if p.shape[0] < 2 or q.shape[0] < 2:
        return np.inf, {"why": "too few points"}
    size = float(np.hypot(*(p.max(axis=0) - p.min(axis=0)))) or float(np.abs(p).max()) or 1.0
    tol = atol + rtol * size
    d1 = _nearest(_thin(p), _densify(_thin(q, 1000)))
    d2 = _nearest(_thin(q), _densify(_thin(p, 1000)))
    k = int(np.argmax(d1))
    worst = max(float(d1.max()), float(d2.max()))
    return worst / tol, {"at": [float(10 ** p[k, 0]) if logx else float(p[k, 0]),
                                float(10 ** p[k, 1]) if logy else float(p[k, 1])], "distance": worst}


def _name(c: dict, i: int) -> str:
    lab = c["label"]
    return f"{lab!r}" if lab and not lab.startswith("_") else f"{i + 1}"


@comparator("figure_curves", figures=True)
def figure_curves(got, expected, *, label="figure", rtol=1e-6, atol=1e-9, axes=None, lines=None,
                  coverage=0.95, parametric=False) -> Comparison:
    """Every curve of the reference's figure is drawn: for each reference line the best-matching line of the
    student's figure, both sorted by x and interpolated on the common x, within ``atol + rtol |y|``.

    ``axes`` picks plot axes (the same in both figures; default all), ``lines`` the reference's curves that
    must be there (indices among its curves; default all: lines drawn through at least 2 points in data
    coordinates; the student's may be drawn with markers only).
    A curve must cover ``coverage`` of the reference curve's x range. On a log x axis (of the reference)
    x is compared in log10. ``parametric`` compares the curves as paths instead (trajectories, curves that
    are not functions of x): the largest distance between the two, both ways, within ``atol + rtol`` times
    the reference curve's size.
    """
    ref_axes, fail = _figures_or_fail(expected, label)
    if fail:
        raise ValueError("the reference drew no figure")
    got_axes, fail = _figures_or_fail(got, label)
    if fail:
        return fail
    ref_axes, got_axes = _pick(ref_axes, axes), _pick(got_axes, axes)
    refs = [(c, ax) for _, ax in ref_axes for c in curves(ax)]
    if lines is not None:
        refs = [refs[k] for k in ([lines] if isinstance(lines, int) else lines)]
    if not refs:
        raise ValueError("the reference's figure has no curve to compare with")
    cands = [c for _, ax in got_axes for c in series(ax)]  # a curve drawn with markers only counts here
    tol_s = f"rtol={float(rtol):g}, atol={float(atol):g}"
    if not cands:
        return Comparison(False, 0.0, f"{label}: no curve drawn, expected {len(refs)}", ("no_curves",))
    missing, worst = [], None
    for i, (ref, ax) in enumerate(refs):
        logx = ax.get("xscale") == "log"
        best = (np.inf, -1.0, {"why": "curve is missing"})
        for cand in cands:
            if parametric:
                err, info = _path_error(ref, cand, float(rtol), float(atol), logx, ax.get("yscale") == "log")
            else:
                err, info = _graph_error(ref, cand, float(rtol), float(atol), float(coverage), logx)
            if (err, -info.get("cov", 0.0)) < (best[0], -best[1]):
                best = (err, info.get("cov", 0.0), info)
        if not best[0] <= 1.0:
            missing.append(i)
            if worst is None:
                worst = (i, ref, best[2])
    if not missing:
        return Comparison(True, 1.0, f"{label}: all {len(refs)} reference curve(s) drawn ({tol_s})")
    i, ref, info = worst
    if "why" in info:
        detail = f"the closest {info['why']}"
    elif parametric:
        detail = (f"no curve passes within {fmt(info['distance'])} of ({fmt(info['at'][0])}, "
                  f"{fmt(info['at'][1])})")
    else:
        detail = f"the closest has y = {fmt(info['got'])} at x = {fmt(info['x'])}, expected {fmt(info['expected'])}"
    return Comparison(False, 0.0, f"{label}: {len(missing)} of {len(refs)} reference curve(s) not drawn; "
                                  f"for curve {_name(ref, i)} {detail} ({tol_s})", ("missing_curves", tuple(missing)))


@comparator("figure_curve_count", expects="nothing", figures=True)
def figure_curve_count(got, expected, *, label="figure", n=1, exact=False, axes=None) -> Comparison:
    """At least ``n`` curves are drawn (exactly ``n`` with ``exact``): lines drawn with a line style through
    2 or more points in data coordinates, over the picked plot axes."""
    got_axes, fail = _figures_or_fail(got, label)
    if fail:
        return fail
    k = sum(len(curves(ax)) for _, ax in _pick(got_axes, axes))
    ok = k == int(n) if exact else k >= int(n)
    want = f"{'exactly' if exact else 'at least'} {int(n)}"
    return Comparison(ok, float(ok), f"{label}: {k} curve(s) drawn" + ("" if ok else f", expected {want}"),
                      () if ok else ("curves", k))


@comparator("figure_points", expects="nothing", figures=True)
def figure_points(got, expected, *, label="figure", points, atol=0.05, rtol=0.0, axes=None) -> Comparison:
    """A marker is drawn at each of the given ``points`` (``[[x, y], ...]``, e.g. fixed points): a scatter
    point or a line's marker within ``atol + rtol |coordinate|`` in both coordinates."""
    want = as_numeric(points)
    if want is None or want.ndim != 2 or want.shape[1] != 2:
        raise ValueError("points must be a list of [x, y] pairs")
    got_axes, fail = _figures_or_fail(got, label)
    if fail:
        return fail
    have = [markers(ax) for _, ax in _pick(got_axes, axes)]
    have = np.concatenate(have) if have else np.zeros((0, 2))
    missing = []
    for k, p in enumerate(want):
        tol = float(atol) + float(rtol) * np.abs(p)
        if not have.size or not np.any(np.all(np.abs(have - p) <= tol, axis=1)):
            missing.append(k)
    if not missing:
        return Comparison(True, 1.0, f"{label}: a marker at each of the {len(want)} point(s)")
    p = want[missing[0]]
    return Comparison(False, 0.0, f"{label}: no marker at {len(missing)} of {len(want)} point(s), e.g. "
                                  f"({fmt(p[0])}, {fmt(p[1])}); {have.shape[0]} marker(s) drawn",
                      ("missing_points", tuple(missing)))


def _is_label(s) -> bool:
    return isinstance(s, str) and bool(s.replace("$", "").strip())


@comparator("figure_labelled", expects="nothing", figures=True)
def figure_labelled(got, expected, *, label="figure", axes=None, title=False) -> Comparison:
    """Every picked plot axes that shows data has a non-empty x label and y label (and a title, with
    ``title``)."""
    got_axes, fail = _figures_or_fail(got, label)
    if fail:
        return fail
    shown = [(name, ax) for name, ax in _pick(got_axes, axes) if has_data(ax)]
    if not shown:
        return Comparison(False, 0.0, f"{label}: nothing is plotted", ("empty",))
    bad = []
    for i, (_, ax) in enumerate(shown):
        need = [("x", "xlabel"), ("y", "ylabel")] + ([("title", "title")] if title else [])
        bad += [(i, what) for what, key in need if not _is_label(ax.get(key))]
    if not bad:
        return Comparison(True, 1.0, f"{label}: axes labelled ({len(shown)} axes)")
    i, what = bad[0]
    name = shown[i][0]
    return Comparison(False, 0.0, f"{label}: {name} has no {what if what == 'title' else what + ' label'}"
                                  + (f" ({len(bad)} missing in all)" if len(bad) > 1 else ""),
                      ("unlabelled", tuple(bad)))


@comparator("figure_log_scale", expects="nothing", figures=True)
def figure_log_scale(got, expected, *, label="figure", axis="y", axes=None) -> Comparison:
    """The picked plot axes (default: every one that shows data) use a log scale on ``axis``
    (``x``, ``y`` or ``both``)."""
    if axis not in ("x", "y", "both"):
        raise ValueError(f"axis must be x, y or both, got {axis!r}")
    got_axes, fail = _figures_or_fail(got, label)
    if fail:
        return fail
    picked = _pick(got_axes, axes) if axes is not None else [(n, a) for n, a in got_axes if has_data(a)]
    if not picked:
        return Comparison(False, 0.0, f"{label}: nothing is plotted", ("empty",))
    names = ("x", "y") if axis == "both" else (axis,)
    bad = [(i, a, _str(ax.get(f"{a}scale"), 20)) for i, (_, ax) in enumerate(picked) for a in names
           if ax.get(f"{a}scale") != "log"]
    if not bad:
        return Comparison(True, 1.0, f"{label}: log scale on {' and '.join(names)}")
    i, a, scale = bad[0]
    return Comparison(False, 0.0, f"{label}: the {a} axis of {picked[i][0]} is {scale or 'not'} scaled, "
                                  "expected log", ("scale", tuple(bad)))


# ----------------------------------------------------------------------------
# histograms


def _normalised(lo, hi, h):
    """A histogram as (bin starts, bin ends, density integrating to 1); ValueError when it holds nothing."""
    lo, hi, h = (np.asarray(v, dtype=float).ravel() for v in (lo, hi, h))
    lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(h) & (hi > lo)
    lo, hi, h = lo[ok], hi[ok], np.clip(h[ok], 0.0, None)
    mass = float(np.sum(h * (hi - lo)))
    if not mass > 0:
        raise ValueError("an empty histogram")
    order = np.argsort(lo, kind="stable")
    return lo[order], hi[order], h[order] / mass


def _density_at(hist, xs):
    lo, hi, d = hist
    i = np.searchsorted(lo, xs, side="right") - 1
    inside = (i >= 0) & (xs < hi[np.clip(i, 0, None)])
    return np.where(inside, d[np.clip(i, 0, None)], 0.0)


def tv_distance(a, b) -> float:
    """Total-variation distance ``(1/2) int |f - g|`` of two normalised histograms (0: equal, 1: disjoint)."""
    cuts = np.unique(np.concatenate([a[0], a[1], b[0], b[1]]))
    mids, widths = 0.5 * (cuts[1:] + cuts[:-1]), np.diff(cuts)
    return float(0.5 * np.sum(np.abs(_density_at(a, mids) - _density_at(b, mids)) * widths))


def histograms(value) -> list[tuple]:
    """The histograms in ``value``, normalised: every bar group of every plot axes of captured figures,
    or the rows of ``(edges (k, n+1), heights (k, n))`` data (e.g. ``layer_gradient_histograms``)."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(as_numeric(v) is not None for v in value):
        e, h = (np.atleast_2d(as_numeric(v)) for v in value)
        if e.ndim != 2 or h.ndim != 2 or e.shape[0] != h.shape[0] or e.shape[1] != h.shape[1] + 1:
            raise ValueError(f"expected edges (k, n+1) and heights (k, n), got shapes {e.shape} and {h.shape}")
        return [_normalised(e[k, :-1], e[k, 1:], h[k]) for k in range(e.shape[0])]
    out = []
    for _, ax in plot_axes(figure_list(value)):
        for g in ax.get("bars", []) if isinstance(ax.get("bars"), list) else []:
            if not isinstance(g, dict):
                continue
            x, w, h = _vec(g.get("x")), _vec(g.get("width")), _vec(g.get("height"))
            if x is None or w is None or h is None or not (x.size == w.size == h.size) or x.size == 0:
                continue
            try:
                out.append(_normalised(x, x + w, h))
            except ValueError:
                continue
    return out


@comparator("figure_histogram", figures=True)
def figure_histogram(got, expected, *, label="histogram", tol=0.1, which=None) -> Comparison:
    """The same histograms as the reference's, in order: each pair, normalised to unit area, within total
    variation distance ``tol`` (half the integral of the absolute difference of the densities; 0 is equal,
    1 disjoint). Bin edges may differ. Reads bars of captured figures (``hist``, ``bar``, ``stairs``) or
    ``(edges, heights)`` data. ``which`` (an index or a list) compares only those of the reference's
    histograms."""
    ref = histograms(expected)
    if not ref:
        raise ValueError("the reference drew no histogram")
    try:
        have = histograms(got)
    except ValueError as exc:
        return Comparison(False, 0.0, f"{label}: {exc}", ("not_histogram",))
    if len(have) != len(ref):
        return Comparison(False, 0.0, f"{label}: {len(have)} histogram(s) drawn, expected {len(ref)}",
                          ("count", len(have)))
    idx = list(range(len(ref))) if which is None else ([which] if isinstance(which, int) else list(which))
    d = np.full(len(ref), np.nan)
    for k in idx:
        d[k] = tv_distance(have[k], ref[k])
    off = tuple(k for k in idx if not d[k] <= float(tol))
    if not off:
        return Comparison(True, 1.0, f"{label}: {len(idx)} histogram(s) match (largest distance "
                                     f"{float(np.nanmax(d)):.3f}, tol {float(tol):g})")
    k = off[0]
    return Comparison(False, 0.0, f"{label}: {len(off)} of {len(idx)} histogram(s) differ; histogram {k + 1} is at "
                                  f"distance {float(d[k]):.3f} from the reference's (tol {float(tol):g})",
                      ("off", off))


# ----------------------------------------------------------------------------
# the images, for the report


def case_figures(returns, value) -> list[dict]:
    """The captured figures in a case's value, given its ``returns`` (``figures`` or a list holding it)."""
    try:
        if returns == FIGURES:
            return figure_list(value)
        if isinstance(returns, list) and FIGURES in returns and isinstance(value, (list, tuple)) \
                and len(value) == len(returns):
            return figure_list(value[returns.index(FIGURES)])
    except ValueError:
        pass
    return []


def images(figs: list[dict], limit: int = 2) -> list[dict]:
    """``{"png": base64, "title": str}`` of the first ``limit`` figures whose PNG is valid (checked and
    rewritten by :func:`grader.judge.png.clean_png`); a figure without one is left out."""
    out = []
    for f in figs:
        b64 = png_data_uri_b64(png_bytes(f.get("png")))
        if b64 is None:
            continue
        titles = [_str(f.get("suptitle"), 120)] + [_str(ax.get("title"), 120) for ax in f.get("axes", [])
                                                    if isinstance(ax, dict)]
        out.append({"png": b64, "title": next((t for t in titles if t.strip()), "")})
        if len(out) >= limit:
            break
    return out


# ----------------------------------------------------------------------------
# the notebook's figures (items marked `needs: full`, a `notebook_figures` step): find what the sheet asks
# for anywhere in what the executed notebook drew, in any reasonable style


FORMS = {
    "xy": (lambda x, y: (x, y), "{y} against {x}"),
    "yx": (lambda x, y: (y, x), "{x} against {y}"),
    "x2y2": (lambda x, y: (x * x, y * y), "{y}^2 against {x}^2"),
    "y2x2": (lambda x, y: (y * y, x * x), "{x}^2 against {y}^2"),
}
"""How a student may draw a reference curve ``(x, y)``: as it is, with the axes swapped, or both squared
(the edge of chaos: sigma_w against sigma_b, sigma_b against sigma_w, or Poole et al.'s sigma_w^2 and sigma_b^2)."""


def notebook_series(figs: list[dict]) -> list[dict]:
    """Every drawn point set of every plot axes: lines (with a line style or markers only) and scatter sets,
    each ``{x, y, where, label, fig, n}`` (``where``: figure and axes, 1-based; ``fig``: the figure's index; ``n``:
    the points drawn, before any downsampling by the capture)."""
    out = []
    for i, f in enumerate(figs):
        cell = f.get("cell")
        fig_name = f"figure {i + 1}" + (f" (cell {int(cell) + 1})" if isinstance(cell, int) else "")
        for j, ax in enumerate(f.get("axes", []) if isinstance(f.get("axes"), list) else []):
            if not isinstance(ax, dict) or ax.get("role", "axes") != "axes" or ax.get("visible", True) is False \
                    or "error" in ax:
                continue
            where = f"{fig_name}, axes {j + 1}"
            for c in series(ax):
                out.append({"x": c["x"], "y": c["y"], "label": c["label"], "where": where, "fig": i, "n": c["n"]})
            for sc in ax.get("scatter", []) if isinstance(ax.get("scatter"), list) else []:
                if not isinstance(sc, dict) or sc.get("visible", True) is False:
                    continue
                off = as_numeric(sc.get("offsets"))
                if off is None or off.ndim != 2 or off.shape[1] != 2:
                    continue
                off = off.astype(float)
                off = off[np.all(np.isfinite(off), axis=1)]
                if off.shape[0] >= 2:
                    n = sc.get("n")
                    out.append({"x": off[:, 0], "y": off[:, 1], "label": _str(sc.get("label")), "where": where,
                                "fig": i, "n": int(n) if isinstance(n, int) and not isinstance(n, bool)
                                and n >= off.shape[0] else off.shape[0]})
    return out


def _notebook_figs(value, label):
    """The student's figures, or a failed Comparison saying none was drawn."""
    figs = figure_list(value)
    if not figs:
        return None, Comparison.plain(False, 0.0, f"{label}: the notebook drew no figure (every cell ran; "
                                                  "figures open at the end of a cell are captured)", ("no_figure",))
    return figs, None


def _curve_fit(rx, ry, sx, sy, rtol, atol, min_points):
    """How well the points (sx, sy) lie on the reference curve (rx, ry) (rx increasing): the worst point's
    error over its tolerance, the fraction of the reference's samples the points span, and the worst point."""
    inside = (sx >= rx[0]) & (sx <= rx[-1])
    if int(inside.sum()) < min_points:
        return None
    px, py = sx[inside], sy[inside]
    want = np.interp(px, rx, ry)
    lo, hi = float(px.min()), float(px.max())
    span_y = float(np.ptp(ry[(rx >= lo) & (rx <= hi)])) if np.any((rx >= lo) & (rx <= hi)) else 0.0
    span_y = span_y or float(np.ptp(ry)) or 1.0
    ratio = np.abs(py - want) / (rtol * np.abs(want) + atol * span_y)
    k = int(np.argmax(ratio))
    covered = float(np.mean((rx >= lo) & (rx <= hi)))
    rel = float(abs(py[k] - want[k]) / abs(want[k])) if want[k] != 0 else float("inf")
    return float(ratio[k]), covered, {"x": float(px[k]), "got": float(py[k]), "expected": float(want[k]),
                                      "rel": rel, "n": int(inside.sum())}


def _show_one(ref, cands, forms, rtol, atol, min_points, coverage):
    """Whether some candidate shows the reference curve ``ref`` in one of ``forms``: ``(True, (cand, form,
    info))`` for the first that does, else ``(False, best)`` with the closest (``None`` when no candidate has
    ``min_points`` points in the reference's range)."""
    rx0, ry0 = ref["x"], ref["y"]
    best = None
    for form in forms:
        if form not in FORMS:
            raise ValueError(f"unknown form {form!r}; choose from {', '.join(FORMS)}")
        fx, fy = FORMS[form][0](rx0, ry0)
        order = np.argsort(fx, kind="stable")
        rx, ry = fx[order], fy[order]
        if not np.all(np.diff(rx) > 0):
            raise ValueError(f"the reference curve is not a function of x in the form {form!r}")
        for c in cands:
            fit = _curve_fit(rx, ry, c["x"], c["y"], rtol, atol, min_points)
            if fit is None:
                continue
            err, covered, info = fit
            if err <= 1.0 and covered >= coverage:
                return True, (c, form, info)
            score = (covered < coverage, err)
            if best is None or score < best[0]:
                best = (score, c, form, info, covered)
    return False, best


@comparator("figure_shows_curve", figures=True)
def figure_shows_curve(got, expected, *, label="figure", forms=("xy", "yx", "x2y2", "y2x2"), rtol=0.03,
                       atol=0.01, min_points=5, coverage=0.3, line=0, lines=None, x_name="x",
                       y_name="y") -> Comparison:
    """Some axes of some figure shows the reference's curve: a line (drawn or markers only) or a scatter set
    whose points lie on it, in one of the accepted ``forms`` (``xy``: as the reference draws it, ``yx``: axes
    swapped, ``x2y2`` / ``y2x2``: both coordinates squared), on linear or log axes, with any other curves
    beside it and in any figure.

    The reference's curve (its ``line``-th curve, in data coordinates; ``lines``: several, each of which must
    be shown, e.g. one per depth) must be a monotone function of x in every accepted form. A student's point
    set matches when at least ``min_points`` of its points fall in the reference's x range, each within
    ``rtol |y| + atol * (the reference's y span there)`` of the reference curve (linearly interpolated between
    its samples; points outside its range are not judged), and they span at least ``coverage`` of the
    reference's samples (so a stub of the curve is not it). ``x_name``, ``y_name`` name the reference's
    coordinates in the sentences; a reference curve's label names it when several are asked for.
    """
    ref_figs = figure_list(expected)
    ref_curves = [c for _, ax in plot_axes(ref_figs) for c in curves(ax)]
    figs, fail = _notebook_figs(got, label)
    if fail:
        return fail
    if not ref_curves:  # a mutant that draws no curve: the same as a notebook showing none
        return Comparison.plain(False, 0.0, f"{label}: the expected figure shows no curve", ("no_curve",))
    wanted = [int(line)] if lines is None else ([int(lines)] if isinstance(lines, int) else [int(k) for k in lines])
    if any(not -len(ref_curves) <= k < len(ref_curves) for k in wanted):  # a mutant drawing fewer curves
        return Comparison.plain(False, 0.0, f"{label}: the expected figure shows {len(ref_curves)} curve(s), "
                                            f"fewer than the {len(wanted)} asked for", ("no_curve",))
    cands = notebook_series(figs)
    if not cands:
        return Comparison.plain(False, 0.0, f"{label}: no axes of the notebook's {len(figs)} figure(s) shows a "
                                            "curve or points", ("no_curve",))
    several = len(wanted) > 1
    shown, missing = [], []
    for k in wanted:
        ok, found = _show_one(ref_curves[k], cands, forms, float(rtol), float(atol), int(min_points),
                              float(coverage))
        (shown if ok else missing).append((k, found))
    if not missing:
        c, form, info = shown[0][1]
        if several:
            return Comparison.plain(True, 1.0, f"{label}: all {len(wanted)} expected curves shown (the first in "
                                    f"{c['where']}, {FORMS[form][1].format(x=x_name, y=y_name)}, worst "
                                    f"{100 * max(f[2]['rel'] for _, f in shown):.2g}% off)", ("figure", c["fig"]))
        return Comparison.plain(True, 1.0, f"{label}: {c['where']} shows it "
                                f"({FORMS[form][1].format(x=x_name, y=y_name)}, {info['n']} points, "
                                f"worst {100 * info['rel']:.2g}% off)", ("figure", c["fig"]))
    k, best = missing[0]
    which = ""
    if several:
        lab = ref_curves[k]["label"]
        which = (f"{len(missing)} of the {len(wanted)} expected curves not shown; for "
                 + (f"{lab!r}" if lab and not lab.startswith("_") else f"curve {k + 1}") + ", ")
    if best is None:
        msg = (f"{label}: {which}no axes shows a curve in the range of the expected one "
               f"({len(cands)} curve(s) or point set(s) drawn, none with {int(min_points)} points on it)")
        return Comparison(False, 0.0, msg, ("no_curve",),
                          f"{label}: {which}no axes shows the expected curve ({len(cands)} other curve(s) drawn)")
    (short, err), c, form, info, covered = best
    fx_name, fy_name = {"xy": (x_name, y_name), "yx": (y_name, x_name), "x2y2": (f"{x_name}^2", f"{y_name}^2"),
                        "y2x2": (f"{y_name}^2", f"{x_name}^2")}[form]
    if err <= 1.0 and short:
        msg = (f"{label}: {which}{c['where']} follows the expected curve, but only over {100 * covered:.0f}% of it "
               f"(at least {100 * float(coverage):.0f}% needed)")
        return Comparison(False, 0.0, msg, ("short",), msg)
    msg = (f"{label}: {which}no axes shows a curve close to the expected one; the closest ({c['where']}"
           + (f", {c['label']!r}" if c["label"] and not c["label"].startswith("_") else "")
           + f", read as {fy_name} against {fx_name}) is off by {100 * info['rel']:.2g}% at {fx_name} = "
           f"{fmt(info['x'])} ({fy_name} = {fmt(info['got'])}, expected {fmt(info['expected'])}; "
           f"tolerance rtol={float(rtol):g}, atol={float(atol):g} of the y span)")
    hint = (f"{label}: {which}no axes shows a curve close to the expected one; the closest ({c['where']}) is off by "
            f"a clear margin at {fx_name} = {fmt(info['x'])} ({fy_name} {relative(info['got'], info['expected'])})")
    return Comparison(False, 0.0, msg, ("off",), hint)


def notebook_histograms(figs: list[dict], min_bins: int = 5) -> list[dict]:
    """The histograms the figures show, however drawn: each bar group (``hist``, ``bar``, ``stairs``) of at
    least ``min_bins`` bars, and each line that looks like a histogram of values centred at 0 (``np.histogram``
    then ``plot`` of gradient entries: at least ``min_bins`` points, x increasing from below 0 to above it,
    y >= 0, not all zero; a curve of positive x, a loss or a norm against the layer, is not one).
    ``{where, std, n, fig}``; ``std`` is the spread of the normalised histogram."""
    out = []
    for i, f in enumerate(figs):
        for j, ax in enumerate(f.get("axes", []) if isinstance(f.get("axes"), list) else []):
            if not isinstance(ax, dict) or ax.get("role", "axes") != "axes" or ax.get("visible", True) is False:
                continue
            where = f"figure {i + 1}, axes {j + 1}"
            found = []
            for g in ax.get("bars", []) if isinstance(ax.get("bars"), list) else []:
                if not isinstance(g, dict):
                    continue
                x, w, h = _vec(g.get("x")), _vec(g.get("width")), _vec(g.get("height"))
                if x is None or w is None or h is None or not (x.size == w.size == h.size) or x.size < min_bins:
                    continue
                try:
                    found.append(_normalised(x, x + w, h))
                except ValueError:
                    continue
            for c in series(ax):
                x, y = c["x"], c["y"]
                if x.size >= min_bins and np.all(np.diff(x) > 0) and np.all(y >= 0) and np.any(y > 0) \
                        and x[0] < 0 < x[-1]:
                    edges = np.r_[x[0] - (x[1] - x[0]) / 2, (x[1:] + x[:-1]) / 2, x[-1] + (x[-1] - x[-2]) / 2]
                    try:
                        found.append(_normalised(edges[:-1], edges[1:], y))
                    except ValueError:
                        continue
            for lo, hi, d in found:
                mid, wid = (lo + hi) / 2, hi - lo
                mean = float(np.sum(d * wid * mid))
                std = float(np.sqrt(max(0.0, np.sum(d * wid * (mid - mean) ** 2))))
                out.append({"where": where, "std": std, "n": int(lo.size), "fig": i})
    return out


@comparator("figure_histogram_count", expects="nothing", figures=True)
def figure_histogram_count(got, expected, *, label="histograms", n=2, min_bins=5) -> Comparison:
    """At least ``n`` histograms (e.g. one per layer) anywhere in the figures, however drawn (``plt.hist``,
    ``ax.bar``, ``ax.stairs``, ``np.histogram`` then ``plot``; see :func:`notebook_histograms`); the sentence
    gives their spreads (the standard deviation of each normalised histogram) from the first to the last."""
    figs, fail = _notebook_figs(got, label)
    if fail:
        return fail
    hs = notebook_histograms(figs, int(min_bins))
    k = len(hs)
    if k >= int(n):
        stds = [h["std"] for h in hs]
        trend = ""
        if min(stds) > 0:
            per = (stds[-1] / stds[0]) ** (1.0 / (k - 1)) if k > 1 else 1.0
            trend = f"; spreads {fmt(stds[0])} to {fmt(stds[-1])}, a factor {per:.3g} per histogram in drawing order"
        return Comparison.plain(True, 1.0, f"{label}: {k} histograms drawn{trend}", ("figure", hs[0]["fig"]))
    msg = (f"{label}: {k} histogram(s) drawn, expected at least {int(n)} (one per layer: plt.hist, ax.bar, "
           "ax.stairs or np.histogram then plot)")
    return Comparison.plain(False, 0.0, msg, ("histograms", min(k, 1)))


@comparator("figure_paths_end", figures=True)
def figure_paths_end(got, expected, *, label="trajectories", atol=0.05, rtol=0.02, forms=("xy", "yx"),
                     lines=None) -> Comparison:
    """Each of the reference's curves (trajectories; ``lines``: the indices of those among its curves, e.g.
    not the curve of fixed points beside them) is drawn: some point set of the figures starts where it
    starts and ends where it ends (within ``atol + rtol |coordinate|``), as drawn or with the axes swapped
    (``forms``). Dense paths drawn with fewer points still match: only the two ends are compared."""
    refs = [c for _, ax in plot_axes(figure_list(expected)) for c in curves(ax)]
    if lines is not None:
        idx = [int(lines)] if isinstance(lines, int) else [int(k) for k in lines]
        refs = [refs[k] for k in idx if -len(refs) <= k < len(refs)]
    figs, fail = _notebook_figs(got, label)
    if fail:
        return fail
    if not refs:
        return Comparison.plain(False, 0.0, f"{label}: the expected figure shows no trajectory", ("no_curve",))
    cands = notebook_series(figs)

    def ends_of(c):
        return np.array([[c["x"][0], c["y"][0]], [c["x"][-1], c["y"][-1]]])

    missing, started, fig = [], 0, None
    for k, r in enumerate(refs):
        ends = ends_of(r)
        ok = starts = False
        for form in forms:
            e = ends if form == "xy" else ends[:, ::-1]
            tol = float(atol) + float(rtol) * np.abs(e)
            for c in cands:
                close = np.all(np.abs(ends_of(c) - e) <= tol, axis=1)
                starts |= bool(close[0])
                if np.all(close):
                    ok = True
                    fig = c["fig"] if fig is None else fig
                    break
            if ok:
                break
        started += starts
        if not ok:
            missing.append(k)
    if not missing:
        return Comparison.plain(True, 1.0, f"{label}: all {len(refs)} drawn, each ending where expected",
                                ("figure", fig))
    if not started:  # nothing starts where a trajectory starts: none is drawn
        msg = (f"{label}: none of the {len(refs)} drawn: no curve of the notebook's figures starts at "
               + ", ".join(f"({fmt(r['x'][0])}, {fmt(r['y'][0])})" for r in refs))
        return Comparison.plain(False, 0.0, msg, ("no_curve",))
    r = refs[missing[0]]
    msg = (f"{label}: {len(missing)} of {len(refs)} not drawn; none of the {len(cands)} curve(s) goes from "
           f"({fmt(r['x'][0])}, {fmt(r['y'][0])}) to ({fmt(r['x'][-1])}, {fmt(r['y'][-1])})")
    return Comparison(False, 0.0, msg, ("missing", len(missing)),
                      f"{label}: {len(missing)} of {len(refs)} trajectories not drawn from their start to the "
                      "expected end")


@comparator("figure_curve_lengths", expects="nothing", figures=True)
def figure_curve_lengths(got, expected, *, label="curves", n=1, lengths=(2,)) -> Comparison:
    """At least ``n`` curves (lines, or scatter sets) of one of the given ``lengths`` (points before any
    downsampling by the capture), anywhere in the figures: e.g. learning curves of ``n_iter + 1`` points."""
    figs, fail = _notebook_figs(got, label)
    if fail:
        return fail
    want = {int(v) for v in lengths}
    k = 0
    for f in figs:
        for ax in f.get("axes", []) if isinstance(f.get("axes"), list) else []:
            if not isinstance(ax, dict) or ax.get("role", "axes") != "axes":
                continue
            for line in ax.get("lines", []) if isinstance(ax.get("lines"), list) else []:
                if isinstance(line, dict) and line.get("coords", "data") == "data" and line.get("n") in want:
                    k += 1
            for sc in ax.get("scatter", []) if isinstance(ax.get("scatter"), list) else []:
                if isinstance(sc, dict) and sc.get("n") in want:
                    k += 1
    sizes = " or ".join(str(v) for v in sorted(want))
    if k >= int(n):
        return Comparison.plain(True, 1.0, f"{label}: {k} curve(s) of {sizes} points drawn")
    return Comparison.plain(False, 0.0, f"{label}: {k} curve(s) of {sizes} points drawn, expected at least {int(n)}",
                            ("curves", min(k, 1)))


def _is_iteration_axis(x: np.ndarray, min_length: int) -> bool:
    """``x`` counts iterations (or epochs): non-negative integers, increasing, reaching ``min_length - 1``
    (``plt.plot(curve)`` draws against 0, 1, ...; a subsampled curve against every k-th iteration)."""
    return bool(x.size >= 2 and x[0] >= 0 and np.all(np.diff(x) > 0) and np.all(np.abs(x - np.round(x)) < 1e-9)
                and x[-1] >= min_length - 1)


def learning_curves(figs: list[dict], min_length: int = 50) -> list[dict]:
    """The learning curves the figures show: every point set of at least ``min_length`` points drawn against
    the iteration (see :func:`_is_iteration_axis`), classified by what it shows. ``accuracy``: values in
    [0, 1] (or in [0, 100], percent) that end higher than they start and at 70 % or more; ``loss``: other
    non-negative values that end lower than they start. ``{kind, where, fig, n}``."""
    out = []
    for c in notebook_series(figs):
        x, y = c["x"], c["y"]
        if c["n"] < int(min_length) or not _is_iteration_axis(x, int(min_length)) or np.any(y < 0):
            continue
        top = 1.0 if y.max() <= 1.0 else 100.0
        if y.max() <= top and y[-1] > y[0] and y[-1] >= 0.7 * top:
            kind = "accuracy"
        elif y[-1] < y[0]:
            kind = "loss"
        else:
            continue
        out.append({"kind": kind, "where": c["where"], "fig": c["fig"], "n": c["n"]})
    return out


@comparator("figure_learning_curves", expects="nothing", figures=True)
def figure_learning_curves(got, expected, *, label="learning curves", n_loss=1, n_accuracy=1,
                           min_length=50) -> Comparison:
    """At least ``n_loss`` loss curves and ``n_accuracy`` accuracy curves of at least ``min_length`` points
    drawn against the iteration, anywhere in the figures (:func:`learning_curves`): whatever the notebook's
    run length, a subsampled curve, a log scale, train and test in one axes or apart."""
    figs, fail = _notebook_figs(got, label)
    if fail:
        return fail
    found = learning_curves(figs, int(min_length))
    counts = {k: sum(1 for f in found if f["kind"] == k) for k in ("loss", "accuracy")}
    need = {"loss": int(n_loss), "accuracy": int(n_accuracy)}
    runs = sorted({f["n"] for f in found})
    have = (f"{counts['loss']} loss curve(s) and {counts['accuracy']} accuracy curve(s) against the iteration"
            + (f" ({' or '.join(str(r) for r in runs[:4])} points)" if runs else ""))
    missing = tuple(k for k in ("loss", "accuracy") if counts[k] < need[k])
    if not missing:
        return Comparison.plain(True, 1.0, f"{label}: {have}", ("figure", found[0]["fig"]))
    want = " and ".join(f"{need[k]} {k}" for k in ("loss", "accuracy") if need[k])
    msg = (f"{label}: {have}, expected at least {want} curve(s) of {int(min_length)} points or more (a loss: "
           "non-negative, lower at the end; an accuracy: a fraction or percentage that rises to 70 % or more)")
    return Comparison.plain(False, 0.0, msg, ("missing", missing, tuple(min(counts[k], 1) for k in missing)))


SHAPES = ("sigmoidal", "exponential")


def mode_curves(figs: list[dict], values, rtol: float = 0.05, min_points: int = 10, windows: int = 60) -> list[dict]:
    """The mode-strength curves the figures show: point sets of at least ``min_points`` points that, sorted
    by x, rise by at least half their final value to within ``rtol`` of one of ``values`` (a singular value
    the mode learns). Each is ``sigmoidal`` (a plateau, then a rise: steepest after 30 % of its rise, as the
    deep network's logistic a(t), steepest at half) or ``exponential`` (steepest in the first 30 % of its
    rise, as the shallow network's b(t), steepest at the start), read on ``windows`` equal steps of x.
    ``{shape, value, where, fig, at}`` (``at``: the fraction of the rise where it is steepest)."""
    vals = np.asarray([float(v) for v in values], dtype=float)
    out = []
    for c in notebook_series(figs):
        x, y = _sorted_unique(c["x"], c["y"])
        if x.size < int(min_points) or not x[-1] > x[0]:
            continue
        y0, y1 = float(y[0]), float(y[-1])
        near = np.abs(vals - y1) <= float(rtol) * np.abs(vals)
        if not near.any() or not y1 - y0 >= 0.5 * abs(y1):
            continue
        grid = np.linspace(x[0], x[-1], int(windows) + 1)
        yi = np.interp(grid, x, y)
        k = int(np.argmax(np.diff(yi)))
        at = float(((yi[k] + yi[k + 1]) / 2 - y0) / (y1 - y0))
        out.append({"shape": "sigmoidal" if at >= 0.3 else "exponential", "value": float(vals[near][0]),
                    "where": c["where"], "fig": c["fig"], "at": at})
    return out


@comparator("figure_mode_curves", expects="nothing", figures=True)
def figure_mode_curves(got, expected, *, label="mode curves", values, sigmoidal=0, exponential=0, rtol=0.05,
                       min_points=10) -> Comparison:
    """At least ``sigmoidal`` sigmoidal and ``exponential`` exponential mode curves anywhere in the figures
    (:func:`mode_curves`): the deep network's modes learn with a plateau and a sudden rise, the shallow
    network's relax exponentially; each curve must end within ``rtol`` of one of ``values`` (the singular
    values of the data), against time or the step, simulated or analytic."""
    figs, fail = _notebook_figs(got, label)
    if fail:
        return fail
    found = mode_curves(figs, values, float(rtol), int(min_points))
    counts = {s: sum(1 for f in found if f["shape"] == s) for s in SHAPES}
    need = {"sigmoidal": int(sigmoidal), "exponential": int(exponential)}
    have = f"{counts['sigmoidal']} sigmoidal and {counts['exponential']} exponential mode curve(s) drawn"
    if found:
        ends = sorted({f["value"] for f in found}, reverse=True)
        have += f" (ending at {', '.join(fmt(v) for v in ends)})"
    missing = tuple(s for s in SHAPES if counts[s] < need[s])
    if not missing:
        first = next((f for f in found if need[f["shape"]]), found[0] if found else None)
        return Comparison.plain(True, 1.0, f"{label}: {have}", ("figure", first["fig"]) if first else ())
    want = " and ".join(f"{need[s]} {s}" for s in SHAPES if need[s])
    msg = (f"{label}: {have}, expected at least {want} (a curve rising to within {100 * float(rtol):g}% of a "
           "singular value of the data: sigmoidal, a plateau then a rise, for the deep network; exponential, "
           "steepest at the start, for the shallow one)")
    return Comparison.plain(False, 0.0, msg, ("missing", missing, tuple(min(counts[s], 1) for s in missing)))

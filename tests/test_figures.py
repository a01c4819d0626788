"""Figures: capture in the worker, the rubric syntax, the figure comparators, the key cache, the report.

Figures here are drawn with matplotlib and captured with the worker's own
:func:`capture`, so every comparator is judged on the data a real plot gives.
The fixture assignment ``tests/fixtures/toy/plots.yaml`` (reference ``plotref``,
mutants ``plotmistakes``) runs the whole path through the sandbox.
"""
from __future__ import annotations

import base64
import inspect
import re
import struct
import zlib
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from grader.judge import COMPARATORS, compare  # noqa: E402
from grader.judge.png import clean_b64_png, clean_png  # noqa: E402
from grader.sandbox.worker import figures as F  # noqa: E402
from grader.sandbox.worker import run_case, wire  # noqa: E402
from helpers import TOY, replace_function, write_notebook  # noqa: E402

PLOTS = TOY / "plots.yaml"
T = np.linspace(0.0, 4.0, 41)
RATES = (0.5, 1.0, 2.0)


def draw(fn) -> list[dict]:
    """The figures ``fn`` draws, captured as the worker captures them."""
    F.close_all()
    fn()
    return F.capture()


def decay(rates=RATES, t=T, scale="log", labels=True, swap=False, f=lambda r, t: np.exp(-r * t), style="-"):
    def go():
        fig, ax = plt.subplots()
        for r in rates:
            x, y = t, f(r, t)
            ax.plot(*((y, x) if swap else (x, y)), style, label=f"r = {r:g}")
        if scale:
            ax.set_yscale(scale)
        if labels:
            ax.set_xlabel("t")
            ax.set_ylabel("amplitude")
    return go


def judge(kind, got, expected, **params):
    """``compare`` with the label the rubric would give (``figure``)."""
    return compare(kind, got, expected, label="figure", **params)


def plain(v) -> bool:
    """Only plain data: dicts with str keys, lists, str, numbers, bools, None and numeric arrays."""
    if v is None or type(v) in (bool, int, float, str):
        return True
    if type(v) is np.ndarray:
        return v.dtype.kind in "biuf"
    if type(v) is list:
        return all(plain(x) for x in v)
    if type(v) is dict:
        return all(type(k) is str and plain(x) for k, x in v.items())
    return False


# ----------------------------------------------------------------------------
# capture (worker side)


def test_capture_describes_a_figure_as_plain_data():
    def go():
        fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3))
        a.plot(T, np.sin(T), label="sine")
        a.plot([1.0], [0.5], "ro")
        a.axhline(0.2)
        a.scatter([1.0, 2.0], [3.0, 4.0])
        a.set(xlabel="t", ylabel="y", title="Left", yscale="log", xlim=(0, 5))
        a.legend()
        b.hist(np.random.default_rng(0).normal(size=500), bins=12, density=True)
        b.stairs([1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0])
        im = b.imshow(np.zeros((3, 4)), extent=[0, 1, 0, 2])
        fig.colorbar(im)
        fig.suptitle("Both")

    figs = draw(go)
    assert plt.get_fignums() == [], "capture(close=True) closes the figures"
    assert len(figs) == 1 and plain(figs)
    f = figs[0]
    assert f["suptitle"] == "Both" and f["size_in"] == [8.0, 3.0]
    assert [ax["role"] for ax in f["axes"]] == ["axes", "axes", "colorbar"]
    a, b = f["axes"][:2]
    assert (a["title"], a["xlabel"], a["ylabel"], a["xscale"], a["yscale"]) == ("Left", "t", "y", "linear", "log")
    assert a["xlim"] == [0.0, 5.0] and a["legend"] == ["sine"]
    line = a["lines"][0]
    assert np.array_equal(line["x"], T) and np.allclose(line["y"], np.sin(T)) and line["label"] == "sine"
    assert a["lines"][1]["marker"] == "o" and a["lines"][1]["linestyle"] == "None"
    assert a["lines"][2]["coords"] == "other", "an axhline is not in data coordinates"
    assert np.array_equal(a["scatter"][0]["offsets"], [[1.0, 3.0], [2.0, 4.0]])
    hist, stairs = b["bars"]
    assert (hist["source"], hist["n"], stairs["source"]) == ("bar", 12, "stairs")
    assert np.isclose(np.sum(hist["height"] * hist["width"]), 1.0)  # density=True
    assert np.array_equal(stairs["x"], [0, 1, 2]) and np.array_equal(stairs["height"], [1, 2, 3])
    assert b["images"] == [{"shape": [3, 4], "extent": [0.0, 1.0, 0.0, 2.0]}]
    png = f["png"].tobytes()
    assert png.startswith(b"\x89PNG") and len(png) <= F.MAX_PNG_BYTES and clean_png(png) is not None


def test_capture_caps_points_figures_and_pixels():
    def go():
        for _ in range(F.MAX_FIGURES + 2):
            plt.figure()
            plt.plot(np.arange(10_000.0), np.arange(10_000.0) ** 2)

    figs = draw(go)
    assert len(figs) == F.MAX_FIGURES and figs[-1]["more_figures"] == 2
    line = figs[0]["axes"][0]["lines"][0]
    assert line["n"] == 10_000 and line["downsampled"] and line["x"].size == F.MAX_POINTS
    assert line["x"][0] == 0 and line["x"][-1] == 9999 and np.allclose(line["y"], line["x"] ** 2)
    many = draw(lambda: [plt.plot(np.arange(50.0)) for _ in range(F.MAX_LINES + 5)])[0]["axes"][0]
    assert len(many["lines"]) == F.MAX_LINES and many["n_lines"] == F.MAX_LINES + 5 and many["truncated"]
    assert figs[-1]["axes"][0]["lines"][0]["n"] == 10_000
    for size, drawn in ((40, True), (400, False)):
        fig = Figure(figsize=(size, size))
        fig.subplots().plot([0, 1], [0, 1])
        big = F.describe(fig)
        assert (big["png"] is not None) == drawn and big["axes"][0]["lines"][0]["n"] == 2
        if drawn:
            assert big["png_dpi"] * size <= F.MAX_SIDE and clean_png(big["png"].tobytes()) is not None
        else:
            assert big["png_note"] == "the figure is 400 x 400 inches, too large to render"


def test_run_case_returns_figures_and_a_returned_figure():
    def plot_two(n):
        plt.plot(np.arange(n), np.arange(n) * 2.0)
        fig = Figure()  # not known to pyplot: found because it is returned
        fig.subplots().plot([0, 1], [1, 0])
        return n, fig

    plt.figure()  # left open by an earlier call: closed before the case runs
    ns = {"plot_two": plot_two}
    out, figs = run_case({"steps": [{"let": "out", "call": "plot_two", "args": [5]}], "returns": ["out", "figures"]},
                         {"namespace": ns})
    assert out[0] == 5 and len(figs) == 2 and plain(figs)
    assert np.array_equal(figs[0]["axes"][0]["lines"][0]["y"], np.arange(5) * 2.0)
    assert np.array_equal(figs[1]["axes"][0]["lines"][0]["y"], [1, 0])
    assert run_case({"steps": [{"call": "plot_two", "args": [3]}], "returns": "figures"},
                    {"namespace": ns})[0]["axes"][0]["lines"][0]["x"].size == 3
    assert plt.get_fignums() == []


def test_figures_cross_the_wire_as_plain_data():
    figs = draw(decay())
    arrays = {}
    plain_value = wire.encode(figs, arrays)
    frame = wire.encode_frame({"kind": "result", "value": plain_value}, arrays)
    reader = wire.FrameReader()
    reader.feed(frame)
    (header, got_arrays), = reader.frames()
    back = wire.decode_result(header["value"], got_arrays)
    assert back[0]["png"].dtype == np.uint8 and back[0]["png"].tobytes() == figs[0]["png"].tobytes()
    assert judge("figure_curves", back, figs).passed


def test_figure_data_round_trips_through_the_key_cache(tmp_path):
    """The answer-key cache is an npz read with allow_pickle=False: figure outcomes survive it unchanged."""
    from grader.pipeline.keys import Outcome, load_key, run_trusted, save_key

    ns = {"plot": decay()}
    out = run_trusted(ns, {"steps": [{"call": "plot"}], "returns": "figures"}, {}, {}, str(tmp_path))
    assert out.error is None
    save_key(tmp_path / "k", {("P1", "c", 0): out, ("P1", "d", 0): Outcome(error="boom")})
    with np.load(tmp_path / "k.npz", allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)
    back = load_key(tmp_path / "k")
    got = back[("P1", "c", 0)].value
    assert back[("P1", "d", 0)].error == "boom"

    def same(a, b):
        if isinstance(a, np.ndarray):
            return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return a == b

    assert same(got, out.value)


# ----------------------------------------------------------------------------
# the comparators, on correct and wrong plots


@pytest.fixture(scope="module")
def ref_decay():
    return draw(decay())


def test_curves_match_a_correct_plot_on_another_grid(ref_decay):
    fine = draw(decay(t=np.linspace(0.0, 4.0, 400)))
    assert not judge("figure_curves", fine, ref_decay).passed, "interpolating a coarse curve is not exact"
    c = judge("figure_curves", fine, ref_decay, rtol=1e-2, atol=1e-4)
    assert c.passed and c.message.startswith("figure: all 3 reference curve(s) drawn")
    # the order of the curves and a reversed x order do not matter
    assert judge("figure_curves", draw(decay(rates=RATES[::-1], t=T[::-1])), ref_decay).passed
    # a curve drawn with markers only still shows it
    assert judge("figure_curves", draw(decay(style="o")), ref_decay).passed


def test_wrong_curve(ref_decay):
    c = judge("figure_curves", draw(decay(f=lambda r, t: np.exp(-1.5 * r * t))), ref_decay, rtol=1e-3)
    assert not c.passed and c.evidence == ("missing_curves", (0, 1, 2))
    assert "3 of 3 reference curve(s) not drawn; for curve 'r = 0.5' the closest has y =" in c.message
    # twice the rate: for r = 0.5 and 1 that *is* the reference's r = 1 and r = 2 curve; only r = 0.5 is missing
    c = judge("figure_curves", draw(decay(f=lambda r, t: np.exp(-2 * r * t))), ref_decay, rtol=1e-3)
    assert not c.passed and c.evidence == ("missing_curves", (0,))
    assert c.message == ("figure: 1 of 3 reference curve(s) not drawn; for curve 'r = 0.5' the closest has "
                         "y = 0.0183156 at x = 4, expected 0.135335 (rtol=0.001, atol=1e-09)")


def test_missing_curve(ref_decay):
    got = draw(decay(rates=RATES[:2]))
    c = judge("figure_curves", got, ref_decay)
    assert not c.passed and c.evidence == ("missing_curves", (2,)) and "curve 'r = 2'" in c.message
    n = judge("figure_curve_count", got, None, n=3)
    assert not n.passed and n.message == "figure: 2 curve(s) drawn, expected at least 3" and n.evidence == ("curves", 2)
    assert judge("figure_curve_count", ref_decay, None, n=3, exact=True).passed
    assert not judge("figure_curve_count", draw(decay(rates=RATES + (3.0,))), None, n=3, exact=True).passed


def test_swapped_axes(ref_decay):
    c = judge("figure_curves", draw(decay(swap=True)), ref_decay)
    assert not c.passed and c.evidence[0] == "missing_curves"
    pc = judge("figure_curves", draw(decay(swap=True)), ref_decay, parametric=True, rtol=1e-3)
    assert not pc.passed, "as paths too: y against t is not t against y"


def test_no_labels():
    c = judge("figure_labelled", draw(decay(labels=False)), None)
    assert not c.passed and c.evidence == ("unlabelled", ((0, "x"), (0, "y")))
    assert c.message == "figure: axes 1 has no x label (2 missing in all)"
    blank = draw(lambda: (plt.plot([0, 1]), plt.xlabel("  "), plt.ylabel("$$")))
    assert not judge("figure_labelled", blank, None).passed, "whitespace and empty math are not labels"
    ok = judge("figure_labelled", draw(decay()), None)
    assert ok.passed and not judge("figure_labelled", draw(decay()), None, title=True).passed


def test_linear_instead_of_log_scale():
    c = judge("figure_log_scale", draw(decay(scale=None)), None, axis="y")
    assert not c.passed and c.evidence == ("scale", ((0, "y", "linear"),))
    assert c.message == "figure: the y axis of axes 1 is linear scaled, expected log"
    assert judge("figure_log_scale", draw(decay()), None, axis="y").passed
    assert not judge("figure_log_scale", draw(decay()), None, axis="both").passed
    # only the axes that show data count; `axes` picks one
    two = draw(lambda: (plt.subplot(1, 2, 1), plt.semilogy([1, 2], [1, 10]), plt.subplot(1, 2, 2), plt.plot([0, 1])))
    assert not judge("figure_log_scale", two, None).passed
    assert judge("figure_log_scale", two, None, axes=0).passed


def test_curves_on_log_axes_compare_in_log_x():
    q = np.logspace(0, 3, 31)
    ref = draw(lambda: plt.loglog(q, 1.0 / q))
    assert judge("figure_curves", draw(lambda: plt.loglog(q, 1.0 / q)), ref).passed
    wrong = draw(lambda: plt.loglog(q, 1.1 / q))
    assert not judge("figure_curves", wrong, ref, rtol=0.05).passed
    assert judge("figure_curves", wrong, ref, rtol=0.11).passed


def test_no_figure_at_all(ref_decay):
    for kind, kw in (("figure_curves", {}), ("figure_labelled", {}), ("figure_points", {"points": [[0, 0]]})):
        c = judge(kind, [], ref_decay if COMPARATORS[kind].expects == "reference" else None, **kw)
        assert not c.passed and c.evidence == ("no_figure",) and c.message == "figure: no figure was drawn"


def test_fixed_points_drawn_where_they_are():
    pts = [[0.0, 0.0], [1.0, 2.0], [-1.0, -2.0]]
    right = draw(lambda: (plt.plot([0.5, 1.2], [0.3, 1.6]), plt.plot(*np.array(pts).T, "kx")))
    assert judge("figure_points", right, None, points=pts).passed
    scatter = draw(lambda: plt.scatter(*np.array(pts).T + 0.01))
    assert judge("figure_points", scatter, None, points=pts, atol=0.02).passed
    assert not judge("figure_points", scatter, None, points=pts, atol=0.005).passed
    wrong = draw(lambda: plt.plot([0.0, 2.0, -2.0], [0.0, 1.0, -1.0], "o"))
    c = judge("figure_points", wrong, None, points=pts)
    assert not c.passed and c.evidence == ("missing_points", (1, 2)) and "e.g. (1, 2)" in c.message
    # a line through the points without markers does not mark them
    assert not judge("figure_points", draw(lambda: plt.plot(*np.array(pts).T)), None, points=pts).passed


def test_parametric_path():
    th = np.linspace(0, 1.5 * np.pi, 200)
    ref = draw(lambda: plt.plot(np.cos(th), np.sin(th)))
    assert judge("figure_curves", draw(lambda: plt.plot(np.cos(th[::-1]), np.sin(th[::-1]))), ref,
                   parametric=True, rtol=1e-3).passed, "a path drawn backwards is the same path"
    c = judge("figure_curves", draw(lambda: plt.plot(1.05 * np.cos(th), 1.05 * np.sin(th))), ref,
                parametric=True, rtol=1e-3, atol=0.0)
    assert not c.passed and "no curve passes within" in c.message


def test_histogram_close_to_the_reference():
    x = np.random.default_rng(1).normal(size=20_000)
    ref = draw(lambda: plt.hist(x, bins=40, density=True))
    other_bins = draw(lambda: plt.hist(x, bins=25))  # counts, other bins: normalised before comparing
    c = judge("figure_histogram", other_bins, ref, tol=0.05)
    assert c.passed and "1 histogram(s) match" in c.message
    stairs = draw(lambda: plt.stairs(*np.histogram(x, bins=30, density=True)))
    assert judge("figure_histogram", stairs, ref, tol=0.05).passed
    wide = draw(lambda: plt.hist(2 * x, bins=40, density=True))
    c = judge("figure_histogram", wide, ref, tol=0.05)
    assert not c.passed and c.evidence == ("off", (0,)) and "histogram 1 is at distance" in c.message
    assert judge("figure_histogram", [], ref).evidence == ("count", 0)
    # (edges, heights) data, one row per histogram, and its distance by hand for two disjoint boxes
    e = np.array([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])
    d = judge("figure_histogram", (e, np.array([[1.0, 0.0], [0.0, 1.0]])), (e, np.array([[1.0, 0.0], [1.0, 0.0]])))
    assert not d.passed and "distance 1.000" in d.message and d.evidence == ("off", (1,))
    from grader.judge.figures import histograms, tv_distance

    a, b = histograms((np.array([[0.0, 1.0, 2.0]]), np.array([[3.0, 1.0]])))[0], \
        histograms((np.array([[0.0, 2.0]]), np.array([[1.0]])))[0]
    assert tv_distance(a, b) == pytest.approx(0.25)  # densities 0.75/0.25 against 0.5/0.5


@pytest.mark.parametrize("junk", [None, 3.0, "figures", [{"axes": "no"}], [{"axes": [{"lines": [{"x": "a"}]}]}],
                                  [{"axes": [{"lines": [{"x": np.arange(3.0), "y": np.arange(4.0)}],
                                              "scatter": [{"offsets": np.zeros(5)}], "bars": [{"x": 1}]}]}]])
def test_malformed_figure_data_fails_with_a_sentence(junk, ref_decay):
    for kind in sorted(n for n, e in COMPARATORS.items() if e.figures):
        kw = {"points": [[0, 0]]} if kind == "figure_points" else {}
        exp = ref_decay if COMPARATORS[kind].expects == "reference" else None
        if kind == "figure_histogram":
            exp = draw(lambda: plt.hist([0, 1, 1, 2]))
        c = judge(kind, junk, exp, **kw)
        assert not c.passed and c.message, (kind, junk)


# ----------------------------------------------------------------------------
# rubric syntax


def _check(**kw) -> dict:
    base = {"name": "c", "function": "plot", "cases": [{"args": [1], "returns": "figures"}],
            "compare": {"kind": "figure_labelled"}}
    return {**base, **kw}


@pytest.mark.parametrize("check, needle", [
    (_check(cases=[{"args": [1]}]), "judges figures: case 0 needs `returns: figures`"),
    (_check(compare={"kind": "allclose"}), "gives figure data: judge it with a figure comparator"),
    (_check(compare={"kind": "figure_points"}), "needs the parameter(s) points"),
    (_check(cases=[{"args": [1], "returns": "out"}]), "a case with args returns the call's value"),
    (_check(cases=[{"steps": [{"let": "figures", "call": "plot"}], "returns": "figures"}]), "is reserved"),
    (_check(compare={"kind": "figure_curves"}, expected={"value": 1}), "expected must be `reference`"),
])
def test_schema_refuses_figure_misuse(check, needle):
    from pydantic import ValidationError

    from grader.rubric.schema import Check

    with pytest.raises(ValidationError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        Check.model_validate(check)


def test_schema_accepts_figure_cases():
    from grader.rubric.schema import Check

    c = Check.model_validate(_check())
    assert c.figures and c.normalised_cases()[0]["returns"] == "figures"
    steps = Check.model_validate(_check(cases=[{"steps": [{"let": "v", "call": "plot"}], "returns": ["v", "figures"]}],
                                        compare={"kind": "allclose"}, select=0))
    assert steps.figures
    assert not Check.model_validate({"name": "n", "function": "f", "cases": [{"args": [1]}],
                                     "compare": {"kind": "allclose"}}).figures


# ----------------------------------------------------------------------------
# PNGs shown in a report


def _png(width=2, height=2, chunks=(), rows=None, color=0, depth=8) -> bytes:
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    raw = rows if rows is not None else b"".join(b"\x00" + bytes(width) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0))
            + b"".join(chunk(k, v) for k, v in chunks) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_png_is_validated_and_rewritten():
    good = _png(chunks=[(b"tEXt", b"Comment\x00<script>alert(1)</script>")])
    clean = clean_png(good)
    assert clean is not None and b"tEXt" not in clean and b"script" not in clean
    assert clean == _png(), "the same image with its critical chunks only"
    real = draw(decay())[0]["png"].tobytes()
    assert clean_png(real) is not None
    bad_crc = bytearray(_png())
    bad_crc[30] ^= 1
    for junk in (b"<html><script>alert(1)</script>", b"\x89PNG\r\n\x1a\n" + b"0" * 20, real[:-20], bytes(bad_crc),
                 _png(width=100_000, height=100_000, rows=b""),  # dimensions past the cap
                 _png(rows=b"\x00\x00"),  # less data than the header says
                 _png(rows=b"\x07\x00\x00\x00\x00\x00"),  # filter type 7 does not exist
                 _png(width=4, height=4, rows=zlib.decompress(zlib.compress(b"\x00" * 5)) * 4 + b"\x00" * 10_000),
                 real + b"trailing"):
        assert clean_png(junk) is None, junk[:40]
    assert clean_b64_png(base64.b64encode(good).decode()) == base64.b64encode(clean).decode()
    assert clean_b64_png("not base64 ***") is None


# ----------------------------------------------------------------------------
# the whole path: the fixture assignment through the sandbox, its key cache and its report


@pytest.fixture(scope="module")
def plots_rubric():
    from grader.rubric import load_rubric

    return load_rubric(PLOTS)


@pytest.fixture(scope="module")
def plotted(plots_rubric, tmp_path_factory):
    """A correct and a wrong submission of the fixture, graded through the sandbox."""
    import plotref

    from grader.pipeline import grade_file

    d = tmp_path_factory.mktemp("plots")
    src = inspect.getsource(plotref)
    wrong = replace_function(src, "plot_decay", "def plot_decay(t, rates):\n"
                                                "    for r in rates[:2]:\n"
                                                "        plt.plot(np.exp(-r * np.asarray(t)), t)\n"
                                                "    plt.title('<script>alert(1)</script>')\n")
    paths = [write_notebook(d / "good.ipynb", [src]), write_notebook(d / "bad.ipynb", [wrong])]
    return [grade_file(p, plots_rubric) for p in paths]


def test_sandbox_grades_figures(plotted):
    good, bad = ({i.item_id: i for i in r.items} for r in plotted)
    assert "namespaces" in plotted[0].layers
    assert all(i.status == "passed" for i in good.values()), [i.message for i in good.values()]
    p1 = good["P1"]
    assert len(p1.checks[0].figures) == 1 and all(not c.figures for c in p1.checks[1:]), \
        "one call judged by four checks: its image is kept once"
    png = base64.b64decode(p1.checks[0].figures[0]["png"])
    assert clean_png(png) == png and p1.checks[0].figures[0]["title"] == "Decay"
    assert bad["P1"].points == 0
    by = {c.name: c for c in bad["P1"].checks}
    assert "3 of 3 reference curve(s) not drawn" in by["the curves"].message  # swapped axes, a curve missing
    assert by["three curves"].message == "decay plot: 2 curve(s) drawn, expected at least 3"
    assert by["axes labelled"].mistake == "plot_decay__no_labels"
    assert by["log scale"].mistake == "plot_decay__linear_scale"
    assert bad["P2"].status == "passed", "only plot_decay was broken"


def test_result_with_figures_round_trips_as_json(plotted):
    import json

    from grader.model import RESULT_FORMAT, SubmissionResult

    d = json.loads(json.dumps(plotted[0].to_dict()))
    assert d["format"] == RESULT_FORMAT
    back = SubmissionResult.from_dict(d)
    assert back == plotted[0]


def test_report_shows_the_student_figure_beside_the_reference(plotted, plots_rubric, tmp_path):
    from grader.report import write_reports

    write_reports(plotted, plots_rubric, tmp_path / "r")
    good, bad = ((tmp_path / "r" / f"{n}.html").read_text() for n in ("good", "bad"))
    for html in (good, bad):
        caps = re.findall(r"<figcaption>([^<]*)</figcaption>", html)
        assert caps.count("Reference (the curves)") == 1 and caps.count("Reference (density histogram)") == 1
        srcs = re.findall(r'src="data:image/png;base64,([^"]*)"', html)
        assert all(clean_png(base64.b64decode(s)) is not None for s in srcs)
    assert "Your figure (the curves): Decay" in good
    assert "<script>alert" not in bad and "Your figure (the curves): &lt;script&gt;alert(1)&lt;/script&gt;" in bad
    ref = re.search(r'<img alt="reference figure" src="data:image/png;base64,([^"]*)"><figcaption>Reference '
                    r'\(the curves\)', bad).group(1)
    mine = re.search(r'<img alt="your figure" src="data:image/png;base64,([^"]*)"><figcaption>Your figure '
                     r'\(the curves\)', bad).group(1)
    assert ref != mine


def test_report_builds_no_key_for_a_figure_item_nobody_was_graded_on(plotted, plots_rubric, tmp_path, monkeypatch):
    """A figure item its mode did not run (backprop's `auto: false` B12-curves trains a minute) is shown to
    nobody: the report asks no answer key for it, and draws no reference beside the other items."""
    from dataclasses import replace

    from grader import report
    from grader.model import ItemStatus

    figure_items = {it.id for it in plots_rubric.items if any(c.figures for c in it.checks)}
    skipped = sorted(figure_items)[0]
    asked = []
    real = report.ReferenceKeys

    class Spy(real):
        def expected(self, items):
            asked.extend(items)
            return super().expected(items)

    monkeypatch.setattr(report, "ReferenceKeys", Spy)
    not_run = [replace(r, items=tuple(replace(i, checks=(), status=ItemStatus.NOT_RUN, points=0.0)
                                      if i.item_id == skipped else i for i in r.items)) for r in plotted]
    report.write_reports(not_run, plots_rubric, tmp_path / "r")
    assert asked and skipped not in asked and set(asked) == figure_items - {skipped}
    asked.clear()
    report.write_reports(plotted, plots_rubric, tmp_path / "all")
    assert set(asked) == figure_items
    names = [c.name for c in plots_rubric.item(skipped).checks]

    def references_of_skipped(folder):
        caps = re.findall(r"<figcaption>([^<]*)</figcaption>", (tmp_path / folder / "good.html").read_text())
        return [c for c in caps if c.startswith("Reference (") and any(n in c for n in names)]

    assert references_of_skipped("all") and not references_of_skipped("r")


def test_notebook_images_are_shown_only_when_valid(tmp_path, toy_rubric, toy_source):
    import nbformat

    from grader.pipeline import grade_file
    from grader.report import write_reports

    real = base64.b64encode(draw(decay())[0]["png"].tobytes()).decode()
    fake = base64.b64encode(b"\x89PNG\r\n\x1a\n<svg onload=alert(1)>").decode()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(toy_source)
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png}) for png in (real, fake)]
    nb.cells = [cell]
    (tmp_path / "eve.ipynb").write_text(nbformat.writes(nb))
    write_reports([grade_file(tmp_path / "eve.ipynb", toy_rubric)], toy_rubric, tmp_path / "r",
                  with_reference_figures=False)
    html = (tmp_path / "r" / "eve.html").read_text()
    assert html.count("data:image/png;base64,") == 1 and fake not in html
    assert base64.b64decode(re.search(r"base64,([^\"]*)", html).group(1)) == clean_png(base64.b64decode(real))


@pytest.mark.slow
def test_validate_the_fixture(plots_rubric, tmp_path, monkeypatch):
    """Reference full marks, skeleton zero, every figure mutant caught and named."""
    from grader.authoring import skeleton
    from grader.authoring.validate import validate

    monkeypatch.setattr(skeleton, "skeleton_dir", lambda: tmp_path)
    skeleton.write(plots_rubric)
    findings = validate(plots_rubric)
    assert all(f.ok for f in findings), [f"{f.what}: {f.detail}" for f in findings if not f.ok]
    named = [f.what for f in findings if f.what.startswith("mutant ")]
    assert len(named) == 5

"""Figure items judged on what the executed notebook drew (``notebook_figures`` steps, ``needs: full``).

The comparators are judged on real plots in several styles (drawn with matplotlib and captured with the
worker's own :func:`capture`) against the reference's own figures (``_notebook_figure_d4``/``_d7`` of
``reference.signal_propagation``); then whole notebooks go through the sandbox in full mode: a figure in
any style passes, a wrong or missing one fails with a sentence, a mistake is named only when every cell ran,
slice mode leaves the items pending, an ``auto: false`` item runs only with ``--mode full``.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from grader.judge import compare  # noqa: E402
from grader.sandbox.worker import figures as F  # noqa: E402
from grader.sandbox.worker.cells import run_cells  # noqa: E402
from helpers import write_notebook  # noqa: E402
from reference import signal_propagation as sp  # noqa: E402

EDGE = dict(forms=["xy", "yx", "x2y2", "y2x2"], rtol=0.03, atol=0.01, min_points=5, coverage=0.25,
            x_name="sigma_w", y_name="sigma_b")  # as rubrics/signal-propagation.yaml has them


def draw(fn) -> list[dict]:
    F.close_all()
    fn()
    return F.capture()


@pytest.fixture(scope="module")
def ref_d4():
    return [F.describe(sp._notebook_figure_d4())]


@pytest.fixture(scope="module")
def ref_d7():
    return [F.describe(sp._notebook_figure_d7())]


def edge(q=None):
    return sp.edge_of_chaos(np.logspace(0, 3, 40) if q is None else np.asarray(q, dtype=float))


def d4(got, ref):
    return compare("figure_shows_curve", got, ref, label="edge-of-chaos figure", **EDGE)


# ----------------------------------------------------------------------------
# D4: the edge of chaos, in every reasonable style


def _line():
    sw, sb = edge()
    plt.plot(sw, sb)


def _swapped_scatter_in_a_subplot_with_other_curves():
    sw, sb = edge(np.linspace(1, 100, 30))
    fig, axs = plt.subplots(1, 2)
    axs[0].plot([0, 1], [1, 0])
    axs[1].scatter(sb, sw, label="chi_1 = 1")
    axs[1].plot(sb, sb, "--")


def _poole_loglog():
    sw, sb = edge(np.logspace(0, 3, 60))
    plt.loglog(sw**2, sb**2, "k-")
    plt.xlabel(r"$\sigma_w^2$")


def _squares_swapped_markers():
    sw, sb = edge(np.logspace(-2, 1, 25))
    plt.semilogx(sb**2, sw**2, "o")


def _sigma_b_sweep_from_zero():
    # a student who sweeps sigma_b from 0 and solves for sigma_w (here: the same line, from small q*)
    sw, sb = edge(np.logspace(-3, 0.5, 50))
    plt.plot(np.r_[1.0, sw], np.r_[0.0, sb], ".-")


def _coarse_rule_one_percent_off():
    sw, sb = edge()
    plt.plot(sw * 1.01, sb)


@pytest.mark.parametrize("style", [_line, _swapped_scatter_in_a_subplot_with_other_curves, _poole_loglog,
                                   _squares_swapped_markers, _sigma_b_sweep_from_zero, _coarse_rule_one_percent_off])
def test_edge_of_chaos_curve_in_any_style_passes(style, ref_d4):
    c = d4(draw(style), ref_d4)
    assert c.passed, c.message
    assert "shows it" in c.message and c.evidence[0] == "figure"


def test_edge_of_chaos_found_among_several_figures(ref_d4):
    def go():
        plt.figure()
        plt.plot([1, 2, 3], [3, 2, 1])
        plt.figure()
        _poole_loglog()
    c = d4(draw(go), ref_d4)
    assert c.passed and c.evidence == ("figure", 1)


def test_a_curve_40_percent_off_fails_with_where_and_how_much(ref_d4):
    def go():
        sw, sb = edge()
        plt.plot(sw, 1.4 * sb)
    c = d4(draw(go), ref_d4)
    assert not c.passed
    assert "no axes shows a curve close to the expected one" in c.message
    assert "off by 40% at sigma_w = " in c.message
    assert "expected" not in c.hint.split("(")[-1] or "too large" in c.hint  # the hint has no expected value


def test_one_axis_squared_the_other_not_fails(ref_d4):
    def go():
        sw, sb = edge()
        plt.plot(sw, sb**2)
    assert not d4(draw(go), ref_d4).passed


def test_a_stub_of_the_curve_is_not_the_curve(ref_d4):
    def go():
        sw, sb = edge(np.linspace(1, 2, 10))
        plt.plot(sw, sb)
    c = d4(draw(go), ref_d4)
    assert not c.passed and "only over" in c.message and c.evidence == ("short",)


def test_no_curve_and_no_figure(ref_d4):
    c = d4(draw(lambda: plt.subplots()), ref_d4)
    assert not c.passed and c.evidence == ("no_curve",)
    c = d4([], ref_d4)
    assert not c.passed and c.evidence == ("no_figure",) and "drew no figure" in c.message
    c = d4(draw(lambda: plt.plot([10, 20], [500, 600])), ref_d4)  # a curve, but nowhere near the range
    assert not c.passed and c.evidence == ("no_curve",)


# ----------------------------------------------------------------------------
# D7: per-layer histograms, however drawn


def _grads(n_layers=6, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(0.0, 1.25**layer, 3000) for layer in range(n_layers)]


def _hist_subplots():
    fig, axs = plt.subplots(2, 3)
    for g, ax in zip(_grads(), axs.ravel()):
        ax.hist(g, bins=30, density=True)


def _hist_one_axes():
    for g in _grads(4):
        plt.hist(g, bins=40, histtype="step")


def _bars_of_np_histogram():
    ax = plt.figure().gca()
    for g in _grads(3):
        h, e = np.histogram(g, bins=25)
        ax.bar(e[:-1], h, width=np.diff(e), align="edge", alpha=0.4)


def _np_histogram_then_plot():
    for g in _grads(5):
        h, e = np.histogram(g, bins=31, density=True)
        plt.plot(0.5 * (e[1:] + e[:-1]), h)


def _stairs():
    fig, axs = plt.subplots(1, 3)
    for g, ax in zip(_grads(3), axs):
        h, e = np.histogram(g, bins=20)
        ax.stairs(h, e)


@pytest.mark.parametrize("style", [_hist_subplots, _hist_one_axes, _bars_of_np_histogram, _np_histogram_then_plot,
                                   _stairs])
def test_per_layer_histograms_in_any_style_pass(style, ref_d7):
    c = compare("figure_histogram_count", draw(style), ref_d7, label="gradient histograms", n=3)
    assert c.passed, c.message
    assert "histograms drawn; spreads" in c.message


def test_the_reference_d7_figure_passes_and_reports_growing_spreads(ref_d7):
    c = compare("figure_histogram_count", ref_d7, None, label="h", n=3)
    assert c.passed and "6 histograms" in c.message
    per = float(c.message.split("a factor ")[1].split()[0])
    # chaotic (chi_1 = 1.82): going down the layers the entries widen by about sqrt(chi_1) each, so drawn
    # from layer 1 to 6 the spread shrinks by about 1 / sqrt(chi_1) = 0.74 per histogram
    assert abs(per - 1 / np.sqrt(sp.chi1(3.0, 0.5))) < 0.08


def test_too_few_histograms_or_only_norms_fail():
    c = compare("figure_histogram_count", draw(lambda: plt.hist(_grads(1)[0], bins=30)), None, label="h", n=3)
    assert not c.passed and "1 histogram(s) drawn, expected at least 3" in c.message
    norms = draw(lambda: plt.semilogy(np.arange(1, 7), 1.3 ** np.arange(6), "o-"))
    c = compare("figure_histogram_count", norms, None, label="h", n=3)
    assert not c.passed and c.evidence == ("histograms", 0)
    edge_curve = draw(_line)  # a positive curve is not a histogram of centred values
    assert compare("figure_histogram_count", edge_curve, None, label="h", n=1).evidence == ("histograms", 0)


# ----------------------------------------------------------------------------
# trajectories and learning curves (the comparators for phase portraits and loss/accuracy curves)


def _trajectory(start, end, n=200):
    s = np.linspace(0, 1, n)[:, None]
    return (1 - s) * np.asarray(start) + s * np.asarray(end) + 0.1 * np.sin(np.pi * s)


def test_paths_end_where_the_reference_ends():
    starts, ends = [(0.001, 0.001), (2.1, -2.0), (2.0, -2.0)], [(1.41, 1.41), (1.9, -1.05), (0.0, 0.0)]

    def ref():
        for a, b in zip(starts, ends):
            p = _trajectory(a, b)
            plt.plot(p[:, 0], p[:, 1])

    def swapped_and_coarser():
        plt.contour(*np.meshgrid(np.linspace(-3, 3, 20), np.linspace(-3, 3, 20)), np.zeros((20, 20)) + 1)
        for a, b in zip(starts, ends):
            p = _trajectory(a, b, 50)
            plt.plot(p[:, 1], p[:, 0], "-")
        plt.plot([0, 1], [0, 1], "ko")

    def one_wrong_end():
        for k, (a, b) in enumerate(zip(starts, ends)):
            p = _trajectory(a, (-1.41, -1.41) if k == 0 else b)
            plt.plot(p[:, 0], p[:, 1])

    r = draw(ref)
    assert compare("figure_paths_end", draw(swapped_and_coarser), r, label="t").passed
    c = compare("figure_paths_end", draw(one_wrong_end), r, label="t")
    assert not c.passed and "1 of 3 not drawn" in c.message and "(0.001, 0.001)" in c.message


def test_learning_curves_of_n_iter_plus_one_points():
    def curves():
        fig, (a, b) = plt.subplots(1, 2)
        for k in range(2):
            a.semilogy(np.arange(5001), np.exp(-np.arange(5001) / 1000) + k)  # downsampled by the capture
            b.plot(np.linspace(0.5, 1, 5001))
    got = draw(curves)
    assert compare("figure_curve_lengths", got, None, label="c", n=4, lengths=[5001]).passed
    c = compare("figure_curve_lengths", got, None, label="c", n=4, lengths=[2001])
    assert not c.passed and "0 curve(s) of 2001 points" in c.message


# ----------------------------------------------------------------------------
# the worker keeps every cell's figures, a displayed Figure and a Figure as a cell's value included


def test_run_cells_keeps_each_cells_figure_data():
    cells = [{"label": "cell 1", "source": "import matplotlib.pyplot as plt\nplt.plot([1, 2], [3, 4])"},
             {"label": "cell 2", "source": "x = 1"},
             {"label": "cell 3", "source": "from matplotlib.figure import Figure\nfig = Figure()\n"
                                           "fig.subplots().plot([0, 1], [1, 0])\ndisplay(fig)"},
             {"label": "cell 4", "source": "g = Figure()\ng.subplots().scatter([1, 2, 3], [1, 2, 3])\ng"}]
    reports = []
    drawn = run_cells(cells, {}, reports.append, cell_timeout_s=10, notebook_timeout_s=30, cell_output_chars=10_000,
                      notebook_output_chars=10_000_000)
    assert [d["cell"] for d in drawn] == [0, 2, 3]
    assert drawn[0]["axes"][0]["lines"][0]["y"].tolist() == [3.0, 4.0]
    assert drawn[2]["axes"][0]["scatter"][0]["n"] == 3
    assert [sum(o["type"] == "figure" for o in r["outputs"]) for r in reports] == [1, 0, 1, 1]
    assert not any(o["type"] == "result" for o in reports[3]["outputs"])  # the Figure is shown, not its repr


def test_a_figure_closed_inside_its_cell_is_still_captured(tmp_path):
    out = str(tmp_path / "f.png")
    cells = [{"label": "cell 1", "source": f"import matplotlib.pyplot as plt\nplt.plot([1, 2], [3, 4])\n"
                                           f"plt.savefig({out!r})\nplt.close()"},
             {"label": "cell 2", "source": "fig, ax = plt.subplots()\nax.plot([0, 1], [5, 6])\nplt.close(fig)\n"
                                           "plt.figure(); plt.plot([1, 1], [2, 2]); plt.close('all')"},
             {"label": "cell 3", "source": "plt.plot([7, 8], [9, 9])"}]
    reports = []
    drawn = run_cells(cells, {}, reports.append, cell_timeout_s=10, notebook_timeout_s=30, cell_output_chars=10_000,
                      notebook_output_chars=10_000_000)
    assert [r["status"] for r in reports] == ["ok", "ok", "ok"]
    assert [d["cell"] for d in drawn] == [0, 1, 1, 2]
    assert [d["axes"][0]["lines"][0]["y"].tolist() for d in drawn] == [[3.0, 4.0], [5.0, 6.0], [2.0, 2.0], [9.0, 9.0]]


def test_figure_data_kept_for_the_notebook_is_capped():
    from grader.sandbox.worker import cells as C

    drawn, budget = [], [10]
    fig = F.describe(_fig_with_points(50))
    C._keep_data(fig, 0, drawn, budget)
    assert drawn[0]["data_dropped"] and "lines" not in drawn[0]["axes"][0] and budget == [10]
    for k in range(C.MAX_NOTEBOOK_FIGURES + 3):
        C._keep_data(F.describe(_fig_with_points(2)), k, drawn, [10**6])
    assert len(drawn) == C.MAX_NOTEBOOK_FIGURES


def _fig_with_points(n):
    fig = Figure()
    fig.subplots().plot(np.arange(n), np.arange(n))
    return fig


# ----------------------------------------------------------------------------
# the schema


def test_schema_needs_full_and_returns_figures():
    from pydantic import ValidationError

    from grader.rubric.schema import Item

    check = {"name": "c", "compare": {"kind": "figure_histogram_count", "n": 2},
             "cases": [{"steps": [{"notebook_figures": "_draw"}], "returns": "figures"}]}
    Item.model_validate({"id": "X", "title": "t", "points": 1, "needs": "full", "checks": [check]})
    with pytest.raises(ValidationError, match="needs: full"):
        Item.model_validate({"id": "X", "title": "t", "points": 1, "checks": [check]})
    bad = dict(check, cases=[{"steps": [{"notebook_figures": "_draw"}]}])
    with pytest.raises(ValidationError, match="returns: figures"):
        Item.model_validate({"id": "X", "title": "t", "points": 1, "needs": "full", "checks": [bad]})
    with pytest.raises(ValidationError, match="auto: false"):
        Item.model_validate({"id": "X", "title": "t", "points": 1, "auto": False,
                             "checks": [{"name": "c", "function": "f", "cases": [{"args": [1]}],
                                         "compare": {"kind": "allclose"}}]})


# ----------------------------------------------------------------------------
# whole notebooks through the sandbox (signal-propagation, full mode for the figure items)


@pytest.fixture(scope="module")
def sp_rubric():
    from grader.rubric import get_rubric

    return get_rubric("signal-propagation")


@pytest.fixture(scope="module")
def solution():
    from grader.authoring.mutants import reference_source
    from grader.authoring.skeleton import keep_solutions
    from grader.rubric import get_rubric

    return keep_solutions(reference_source(get_rubric("signal-propagation")))


PLOTS = {
    "poole": """\
import matplotlib.pyplot as plt
sw, sb = edge_of_chaos(np.logspace(0, 3, 50))
plt.loglog(sw**2, sb**2); plt.xlabel("sigma_w^2"); plt.ylabel("sigma_b^2")
e, d = layer_gradient_histograms(3.0, 0.5, 200, 5, np.random.default_rng(0))
fig, axs = plt.subplots(1, 5)
for l in range(5):
    axs[l].bar(e[l, :-1], d[l], width=np.diff(e[l]), align="edge")
plt.show()
""",
    "oo_swapped": """\
from matplotlib.figure import Figure
fig = Figure()
ax = fig.subplots()
sw, sb = edge_of_chaos(np.linspace(1, 300, 40))
ax.plot(sb, sw, "o", label="critical")
ax.plot(sb, 1 + 0 * sb, "k:")
fig
""",
    "wrong_curve": """\
import matplotlib.pyplot as plt
q = np.logspace(-3, 3, 100)
sw2 = 1.0 / np.array([np.mean(np.tanh(np.sqrt(x) * np.random.default_rng(0).standard_normal(200000)) ** 2) for x in q])
sb2 = q - sw2 * np.array([np.mean(np.tanh(np.sqrt(x) * np.random.default_rng(0).standard_normal(200000)) ** 2) for x in q])
ok = sb2 > 0
plt.plot(np.sqrt(sw2[ok]), np.sqrt(sb2[ok]))
""",
}


def _grade(tmp_path, solution, sp_rubric, name, cells, mode="auto"):
    from grader.model import Options
    from grader.pipeline import grade_file

    p = write_notebook(tmp_path / f"{name}.ipynb", [solution] + cells)
    res = grade_file(p, sp_rubric, opts=Options(items=("D4-figure", "D7-figure"), mode=mode))
    return res, {i.item_id: i for i in res.items}


def test_notebooks_that_plot_pass_in_any_style(tmp_path, solution, sp_rubric):
    res, items = _grade(tmp_path, solution, sp_rubric, "poole", [PLOTS["poole"]])
    assert items["D4-figure"].points == 1 and items["D7-figure"].points == 1, res.items
    assert items["D4-figure"].checks[0].figures and items["D4-figure"].checks[0].figures[0]["png"]
    assert res.notebook is not None
    res, items = _grade(tmp_path, solution, sp_rubric, "oo", [PLOTS["oo_swapped"]])
    assert items["D4-figure"].points == 1, items["D4-figure"].message
    assert "sigma_w against sigma_b" in items["D4-figure"].message
    assert items["D7-figure"].points == 0 and items["D7-figure"].checks[0].mistake == "_notebook_figure_d7__no_histograms"


def test_figures_saved_and_closed_in_their_cells_pass(tmp_path, solution, sp_rubric):
    closing = PLOTS["poole"].replace("plt.show()", "plt.savefig('grads.png'); plt.close(fig)").replace(
        'plt.ylabel("sigma_b^2")', 'plt.ylabel("sigma_b^2"); plt.savefig("eoc.png"); plt.close()')
    res, items = _grade(tmp_path, solution, sp_rubric, "closing", [closing])
    assert items["D4-figure"].points == 1, items["D4-figure"].message
    assert items["D7-figure"].points == 1, items["D7-figure"].message


def test_wrong_and_missing_figures_are_named(tmp_path, solution, sp_rubric):
    _, items = _grade(tmp_path, solution, sp_rubric, "wrong", [PLOTS["wrong_curve"]])
    d4 = items["D4-figure"]
    assert d4.points == 0 and d4.checks[0].mistake == "_notebook_figure_d4__tanh_not_derivative", d4.message
    assert "off by" in d4.message
    _, items = _grade(tmp_path, solution, sp_rubric, "none", ["x = 1"])
    assert items["D4-figure"].checks[0].mistake == "_notebook_figure_d4__no_curve"
    assert "drew no figure" in items["D4-figure"].message


def test_no_mistake_is_named_when_a_cell_failed(tmp_path, solution, sp_rubric):
    _, items = _grade(tmp_path, solution, sp_rubric, "crash", ["import matplotlib.pyplot as plt\n"
                                                               "sw, sb = edge_of_chaos(undefined_grid)\n"
                                                               "plt.plot(sw, sb)"])
    d4 = items["D4-figure"]
    assert d4.points == 0 and d4.checks[0].mistake is None
    assert "Incomplete code" in d4.message and "NameError" in d4.message


def test_slice_mode_leaves_figure_items_pending(tmp_path, solution, sp_rubric):
    res, items = _grade(tmp_path, solution, sp_rubric, "slice", [PLOTS["poole"]], mode="slice")
    for i in ("D4-figure", "D7-figure"):
        assert items[i].status == "manual" and items[i].message.startswith("pending: not graded in slice mode")
    assert res.max_score == 0 and res.notebook is None  # pending items cost nothing


def test_an_auto_false_item_runs_only_in_full_mode(tmp_path):
    from grader.model import Options
    from grader.pipeline import grade_file
    from grader.rubric import load_rubric
    from helpers import TOY

    text = (TOY / "toyfull.yaml").read_text() + """\
  - id: F4
    title: A slow figure
    points: 0
    needs: full
    auto: false
    checks:
      - name: a histogram
        cases:
          - steps: [{notebook_figures: _draw_histogram}]
            returns: figures
        compare: {kind: figure_histogram_count, n: 1}
"""
    rubric_path = tmp_path / "toyfull.yaml"
    rubric_path.write_text(text)
    rubric = load_rubric(rubric_path)
    nb = write_notebook(tmp_path / "n.ipynb", ["import numpy as np\nimport matplotlib.pyplot as plt\n"
                                               "def double(x):\n    return 2 * np.asarray(x)\n"
                                               "doubled_total = 11.0\n"
                                               "plt.hist(np.random.default_rng(0).normal(size=500), bins=20)"])
    auto = {i.item_id: i for i in grade_file(nb, rubric, opts=Options(items=("F4",))).items}
    assert auto["F4"].status == "not_run" and "not graded in --mode auto" in auto["F4"].message
    full = {i.item_id: i for i in grade_file(nb, rubric, opts=Options(items=("F4",), mode="full")).items}
    assert full["F4"].status == "passed", full["F4"].message

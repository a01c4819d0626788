"""The figure items of backprop (B12-phase, B12-curves, B12-balanced) and dln-dynamics (A5-figure).

Each comparator is judged on real plots in several styles (drawn with matplotlib and captured with the
worker's own :func:`capture`), computed independently of the reference where that is possible (the closed
forms, an Euler loop of our own, scipy's ODE solver), against the reference's own figures
(``_notebook_figure_b12_*`` of ``reference.scalar_chain`` / ``reference.backprop``, ``_notebook_figure_a5``
of ``reference.dln_dynamics``); wrong plots fail and match the named mutant's figure; then notebooks go
through the sandbox in full mode, and the ``auto: false`` items are not graded in the other modes.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from grader.judge import compare  # noqa: E402
from grader.rubric import get_rubric  # noqa: E402
from grader.sandbox.worker import figures as F  # noqa: E402
from helpers import write_notebook  # noqa: E402
from reference import backprop as bp  # noqa: E402
from reference import dln_dynamics as dd  # noqa: E402
from reference import scalar_chain as sc  # noqa: E402
from reference.mistakes import backprop as mbp  # noqa: E402
from reference.mistakes import dln_dynamics as mdd  # noqa: E402
from reference.mistakes import scalar_chain as msc  # noqa: E402


def draw(fn) -> list[dict]:
    F.close_all()
    fn()
    return F.capture()


def ref(fig) -> list[dict]:
    return [F.describe(fig)]


def compare_args(assignment: str, item: str, k: int = 0) -> dict:
    """The rubric's own comparator and parameters of ``item``'s ``k``-th check (so the tests judge with them)."""
    c = get_rubric(assignment).item(item).checks[k].compare
    params = {n: v for n, v in c.model_dump().items() if n not in ("kind", "why")}
    return {"kind": c.kind, **params}


def judge(assignment, item, got, expected, k=0):
    args = compare_args(assignment, item, k)
    return compare(args.pop("kind"), got, expected, label=item, **args)


# ----------------------------------------------------------------------------
# B12-phase: the three trajectories of part f, computed independently


STARTS = [(0.001, 0.001), (2.1, -2.0), (2.0, -2.0)]


def own_euler(w0, dt=0.01, n=1000, sequential=False):
    """Forward Euler on E = 4.5 - 4 w1 w2 + (w1 w2)^2 from the closed-form gradient (not the reference's)."""
    w = np.array(w0, dtype=float)
    out = [w.copy()]
    for _ in range(n):
        if sequential:
            w[0] -= dt * 2 * (w[0] * w[1] - 2) * w[1]
            w[1] -= dt * 2 * (w[0] * w[1] - 2) * w[0]
        else:
            g = 2 * (w[0] * w[1] - 2) * np.array([w[1], w[0]])
            w = w - dt * g
        out.append(w.copy())
    return np.array(out)


def ode_flow(w0, t=10.0):
    """The gradient flow itself (scipy's RK45 to rtol 1e-10): what a student solving the ODE draws."""
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda _, w: -2 * (w[0] * w[1] - 2) * np.array([w[1], w[0]]), (0, t), w0, rtol=1e-10,
                    atol=1e-12, dense_output=True)
    return sol.sol(np.linspace(0, t, 400)).T


@pytest.fixture(scope="module")
def ref_phase():
    return ref(sc._notebook_figure_b12_phase())


def test_the_reference_trajectories_end_where_the_flow_does():
    ends = [own_euler(s)[-1] for s in STARTS]
    assert np.allclose(ends[0], [np.sqrt(2), np.sqrt(2)], atol=1e-6)  # escapes along the diagonal
    assert abs(ends[1][0] * ends[1][1] - 2) < 1e-6 and ends[1][0] > 0  # the positive branch
    assert np.allclose(ends[2], 0, atol=1e-12)  # the saddle
    flow = ode_flow(STARTS[1])[-1]  # w1^2 - w2^2 = 0.41 is conserved by the flow: (1.4885, 1.3436)
    assert abs(flow[0] ** 2 - flow[1] ** 2 - 0.41) < 1e-6 and abs(flow[0] * flow[1] - 2) < 1e-6
    for s, e in zip(STARTS, ends):
        assert np.allclose(sc.euler_trajectory(np.array(s), 4.5, 2.0, 1.0)[-1], e, atol=1e-12)


def _phase_lines():
    w1, w2 = np.meshgrid(np.linspace(-3, 3, 60), np.linspace(-3, 3, 60))
    plt.contour(w1, w2, 4.5 - 4 * w1 * w2 + (w1 * w2) ** 2, levels=20)
    for s in STARTS:
        p = own_euler(s)
        plt.plot(p[:, 0], p[:, 1])
    u = np.linspace(0.7, 3, 50)
    plt.plot(u, 2 / u, "k--")
    plt.plot(0, 0, "kx")


def _phase_swapped_sparse_markers_and_quiver():
    w1, w2 = np.meshgrid(np.linspace(-3, 3, 15), np.linspace(-3, 3, 15))
    g = 2 * (w1 * w2 - 2)
    plt.quiver(w2, w1, -g * w1, -g * w2)
    for s in STARTS:
        p = own_euler(s)[::25]
        p = np.vstack([p, own_euler(s)[-1]])
        plt.plot(p[:, 1], p[:, 0], ".")  # w1 against w2, markers only
    plt.scatter([0], [0], c="r")


def _phase_ode_solver_one_subplot_each():
    fig, axs = plt.subplots(1, 3)
    for ax, s in zip(axs, STARTS):
        p = ode_flow(s)
        ax.imshow(np.zeros((5, 5)), extent=(-3, 3, -3, 3))
        ax.plot(p[:, 0], p[:, 1], "w-")


def _phase_half_the_step_twice_the_steps():
    for s in STARTS:
        p = own_euler(s, dt=0.005, n=2000)
        plt.plot(p[:, 0], p[:, 1], lw=2)


@pytest.mark.parametrize("style", [_phase_lines, _phase_swapped_sparse_markers_and_quiver,
                                   _phase_ode_solver_one_subplot_each, _phase_half_the_step_twice_the_steps])
def test_phase_portraits_in_any_style_pass(style, ref_phase):
    c = judge("backprop", "B12-phase", draw(style), ref_phase)
    assert c.passed, c.message
    assert c.evidence[0] == "figure"


def test_sequential_update_trajectories_fail_and_match_the_mutant(ref_phase):
    def seq():
        for s in STARTS:
            p = own_euler(s, sequential=True)
            plt.plot(p[:, 0], p[:, 1])
    got = draw(seq)
    assert np.allclose(own_euler(STARTS[2], sequential=True)[-1], [-1.3276, -1.5064], atol=1e-3)
    c = judge("backprop", "B12-phase", got, ref_phase)
    assert not c.passed and "2 of 3 not drawn" in c.message and "(2.1, -2)" in c.message, c.message
    mutant = ref(msc._notebook_figure_b12_phase__sequential_update())
    assert judge("backprop", "B12-phase", got, mutant).passed  # the named mistake's figure is this one


def test_a_missing_trajectory_or_none_at_all(ref_phase):
    def two():
        for s in STARTS[:2]:
            p = own_euler(s)
            plt.plot(p[:, 0], p[:, 1])
    c = judge("backprop", "B12-phase", draw(two), ref_phase)
    assert not c.passed and "1 of 3 not drawn" in c.message and c.evidence == ("missing", 1)
    c = judge("backprop", "B12-phase", draw(lambda: plt.contourf(np.eye(3))), ref_phase)
    assert not c.passed and c.evidence == ("no_curve",) and "none of the 3 drawn" in c.message
    none = ref(msc._notebook_figure_b12_phase__no_trajectories())
    assert not judge("backprop", "B12-phase", none, ref_phase).passed


def test_the_hyperbola_of_the_reference_is_not_a_trajectory(ref_phase):
    drawn = [c for ax in ref_phase[0]["axes"] for c in ax.get("lines", []) if c.get("linestyle") not in ("None", "")]
    assert len(drawn) == 5  # 3 trajectories, then the 2 branches; the rubric's `lines: [0, 1, 2]` picks the first 3
    assert compare_args("backprop", "B12-phase")["lines"] == [0, 1, 2]


# ----------------------------------------------------------------------------
# B12-curves: loss and accuracy against the iteration


def _fake_run(n_iter=5000, scale=1.0):
    k = np.arange(n_iter + 1)
    return {"train_loss": 900 * np.exp(-k / (300 * scale)) + 1, "test_loss": 100 * np.exp(-k / (300 * scale)) + 4,
            "train_acc": 1 - 0.5 * np.exp(-k / 200), "test_acc": 0.98 - 0.48 * np.exp(-k / 200)}


def _curves_two_axes_semilogy():
    fig, (a, b) = plt.subplots(1, 2)
    for s in (1.0, 2.0):
        r = _fake_run(scale=s)
        a.semilogy(r["train_loss"]); a.semilogy(r["test_loss"])
        b.plot(r["train_acc"]); b.plot(r["test_acc"])


def _curves_every_tenth_iteration_in_percent():
    r = _fake_run()
    k = np.arange(0, 5001, 10)
    fig, axs = plt.subplots(2, 2)
    for ax, name in zip(axs.ravel(), ("train_loss", "test_loss", "train_acc", "test_acc")):
        y = r[name][k] * (100 if "acc" in name else 1)
        ax.plot(k, y, "o-", ms=2)


def _curves_a_2000_iteration_run_one_axes_with_twinx():
    r = _fake_run(2000)
    ax = plt.figure().gca()
    ax.plot(r["train_loss"]); ax.plot(r["test_loss"])
    ax2 = ax.twinx()
    ax2.plot(r["train_acc"], "--"); ax2.plot(r["test_acc"], "--")


def _curves_a_real_short_run():
    X, Y = bp._mnist_array("X_train", 10), bp._mnist_array("y_train", 10).astype(float)
    Xt, Yt = bp._mnist_array("X_test", 5), bp._mnist_array("y_test", 5).astype(float)
    r = bp.train_with_scale(X, Y, Xt, Yt, 0.1, np.random.default_rng(0), n_iter=300)
    fig, (a, b) = plt.subplots(1, 2)
    a.plot(r["train_loss"]); a.plot(r["test_loss"])
    b.plot(r["train_acc"]); b.plot(r["test_acc"])


@pytest.mark.parametrize("style", [_curves_two_axes_semilogy, _curves_every_tenth_iteration_in_percent,
                                   _curves_a_2000_iteration_run_one_axes_with_twinx, _curves_a_real_short_run])
def test_learning_curves_in_any_style_pass(style):
    c = judge("backprop", "B12-curves", draw(style), None)
    assert c.passed, c.message
    assert c.evidence[0] == "figure" and "accuracy curve(s) against the iteration" in c.message


def test_losses_only_fail_like_the_no_accuracy_mutant():
    def losses():
        r = _fake_run()
        plt.semilogy(r["train_loss"]); plt.semilogy(r["test_loss"])
    c = judge("backprop", "B12-curves", draw(losses), None)
    assert not c.passed and "2 loss curve(s) and 0 accuracy curve(s)" in c.message
    mutant = judge("backprop", "B12-curves", ref(mbp._notebook_figure_b12_curves__no_accuracy()), None)
    assert not mutant.passed and mutant.evidence == c.evidence == ("missing", ("accuracy",), (0,))


def test_what_is_not_a_learning_curve():
    r = _fake_run(5000)

    def not_curves():
        t = np.linspace(0, 1, 5001)
        plt.plot(t, r["train_loss"])  # against a time, not the iteration
        plt.plot(np.arange(30), r["test_loss"][:30])  # too short
        w = np.linspace(0, 1.6, 200)
        plt.plot(w, sc.balanced_error(w, 3, 4.5, 2.0, 1.0))  # E(w): not against iterations
        plt.plot(np.arange(5001), 0.5 + 0 * r["train_acc"])  # flat at chance
    c = judge("backprop", "B12-curves", draw(not_curves), None)
    assert not c.passed and c.evidence == ("missing", ("loss", "accuracy"), (0, 0)), c.message
    mutant = judge("backprop", "B12-curves", ref(mbp._notebook_figure_b12_curves__no_curves()), None)
    assert mutant.evidence == c.evidence


# ----------------------------------------------------------------------------
# B12-balanced: E(w) for D = 2..6, from the closed form


def own_balanced(w, D):
    return 4.5 - 4.0 * w ** (D - 1) + w ** (2 * (D - 1))


@pytest.fixture(scope="module")
def ref_balanced():
    return ref(sc._notebook_figure_b12_balanced())


def _balanced_positive_w():
    w = np.linspace(0, 1.6, 200)
    for D in range(2, 7):
        plt.plot(w, own_balanced(w, D), label=f"D={D}")


def _balanced_wide_range_log_markers():
    w = np.linspace(-2, 2, 81)
    for D in range(2, 7):
        plt.semilogy(w, own_balanced(w, D), "o", ms=2)


def _balanced_few_scatter_points_each_own_subplot():
    fig, axs = plt.subplots(1, 5)
    w = np.linspace(0, 1.5, 12)
    for ax, D in zip(axs, range(2, 7)):
        ax.scatter(w, own_balanced(w, D))


def _balanced_with_the_gradients_beside():
    fig, (a, b) = plt.subplots(1, 2)
    w = np.linspace(-1.2, 1.4, 300)
    for D in range(2, 7):
        a.plot(w, own_balanced(w, D))
        b.plot(w, sc.balanced_gradient(w, D, 4.5, 2.0, 1.0))


@pytest.mark.parametrize("style", [_balanced_positive_w, _balanced_wide_range_log_markers,
                                   _balanced_few_scatter_points_each_own_subplot, _balanced_with_the_gradients_beside])
def test_balanced_errors_in_any_style_pass(style, ref_balanced):
    c = judge("backprop", "B12-balanced", draw(style), ref_balanced)
    assert c.passed, c.message
    assert "all 5 expected curves shown" in c.message


def test_d_weights_for_d_minus_one_fails_and_matches_the_mutant(ref_balanced):
    def d_weights():
        w = np.linspace(0, 1.6, 200)
        for D in range(2, 7):
            plt.plot(w, own_balanced(w, D + 1))
    got = draw(d_weights)
    c = judge("backprop", "B12-balanced", got, ref_balanced)
    assert not c.passed and "1 of the 5 expected curves not shown; for 'D = 2'" in c.message, c.message
    assert judge("backprop", "B12-balanced", got, ref(msc._notebook_figure_b12_balanced__d_weights())).passed


def test_a_missing_depth_or_a_shifted_curve_fails(ref_balanced):
    def four():
        w = np.linspace(0, 1.6, 200)
        for D in range(2, 6):
            plt.plot(w, own_balanced(w, D))
    c = judge("backprop", "B12-balanced", draw(four), ref_balanced)
    assert not c.passed and "for 'D = 6'" in c.message

    def minus_min():
        w = np.linspace(0, 1.6, 200)
        for D in range(2, 7):
            plt.plot(w, own_balanced(w, D) - 0.5)  # E - E_min: not E
    assert not judge("backprop", "B12-balanced", draw(minus_min), ref_balanced).passed


# ----------------------------------------------------------------------------
# A5-figure: the deep (sigmoidal) and shallow (exponential) modes, simulated by our own loop


S = np.array([np.sqrt(7), np.sqrt(3), 1.0, 1.0])


def own_modes(std=0.1, seed=0, dt=0.1, n=150):
    """Euler steps of eqs (1)-(3) for SIGMA_X = I written out here, and the singular values each step."""
    rng = np.random.default_rng(seed)
    w1, w2, w = rng.normal(0, std, (16, 4)), rng.normal(0, std, (7, 16)), rng.normal(0, std, (7, 4))
    syx, k = dd.SIGMA_YX.copy(), dt / 2.5
    deep, shallow = [np.linalg.svd(w2 @ w1, compute_uv=False)], [np.linalg.svd(w, compute_uv=False)]
    for _ in range(n):
        e = syx - w2 @ w1
        w1, w2 = w1 + k * w2.T @ e, w2 + k * e @ w1.T
        w = w + k * (syx - w)
        deep.append(np.linalg.svd(w2 @ w1, compute_uv=False))
        shallow.append(np.linalg.svd(w, compute_uv=False))
    return np.arange(n + 1) * dt, np.array(deep), np.array(shallow)


def eq4(t, s, a0=0.001, tau=2.5):
    e = np.exp(2 * s * t / tau)
    return s * e / (e - 1 + s / a0)


def eq5(t, s, b0=0.001, tau=2.5):
    return s * (1 - np.exp(-t / tau)) + b0 * np.exp(-t / tau)


@pytest.fixture(scope="module")
def ref_a5():
    return ref(dd._notebook_figure_a5())


def _modes_two_panels_with_theory():
    t, deep, shallow = own_modes()
    fig, (a, b) = plt.subplots(1, 2)
    a.plot(t, deep); b.plot(t, shallow)
    tt = np.linspace(0, 15, 300)
    for s in S:
        a.plot(tt, eq4(tt, s), "k:"); b.plot(tt, eq5(tt, s), "k:")


def _modes_simulation_only_against_the_step():
    _, deep, shallow = own_modes(seed=3)
    plt.plot(deep, "-")
    plt.plot(shallow, "--")


def _modes_theory_only_normalised_one_axes_per_mode():
    tt = np.linspace(0, 15, 100)
    fig, axs = plt.subplots(2, 4)
    for j, s in enumerate(S):
        axs[0, j].plot(tt, eq4(tt, s) / s)
        axs[1, j].plot(tt, eq5(tt, s) / s)


def _modes_small_init_markers_and_log_axis():
    t, deep, shallow = own_modes(std=0.01, seed=1)
    plt.semilogy(t, deep, ".")
    plt.semilogy(t, shallow, "x")


@pytest.mark.parametrize("style", [_modes_two_panels_with_theory, _modes_simulation_only_against_the_step,
                                   _modes_theory_only_normalised_one_axes_per_mode,
                                   _modes_small_init_markers_and_log_axis])
def test_mode_plots_in_any_style_pass(style, ref_a5):
    got = draw(style)
    for k in (0, 1):
        c = judge("dln-dynamics", "A5-figure", got, ref_a5, k)
        assert c.passed, c.message
    assert "sigmoidal and" in c.message and c.evidence[0] == "figure"


def test_the_reference_figure_and_the_shapes_measured(ref_a5):
    from grader.judge.figures import mode_curves

    found = mode_curves(ref_a5, S[:3])
    assert sorted(f["shape"] for f in found) == ["exponential"] * 8 + ["sigmoidal"] * 8
    tt = np.linspace(0, 15, 200)
    got = draw(lambda: (plt.plot(tt, eq4(tt, 2.0)), plt.plot(tt, eq5(tt, 2.0))))
    at = {f["shape"]: f["at"] for f in mode_curves(got, [2.0])}
    assert 0.45 <= at["sigmoidal"] <= 0.55 and at["exponential"] < 0.1  # logistic: steepest at half its rise


def test_only_one_network_fails_like_its_mutant(ref_a5):
    t, deep, shallow = own_modes()
    only_deep = draw(lambda: plt.plot(t, deep))
    c = judge("dln-dynamics", "A5-figure", only_deep, ref_a5, 1)
    assert not c.passed and "4 sigmoidal and 0 exponential" in c.message
    assert judge("dln-dynamics", "A5-figure", only_deep, ref_a5, 0).passed
    m = judge("dln-dynamics", "A5-figure", ref(mdd._notebook_figure_a5__no_shallow_modes()), ref_a5, 1)
    assert m.evidence == c.evidence == ("missing", ("exponential",), (0,))
    only_shallow = draw(lambda: plt.plot(t, shallow))
    c = judge("dln-dynamics", "A5-figure", only_shallow, ref_a5, 0)
    m = judge("dln-dynamics", "A5-figure", ref(mdd._notebook_figure_a5__no_deep_modes()), ref_a5, 0)
    assert not c.passed and m.evidence == c.evidence == ("missing", ("sigmoidal",), (0,))


def test_unconverged_or_falling_curves_are_not_modes(ref_a5):
    t, deep, shallow = own_modes(n=20)  # T = 2: the deep modes have not reached s

    def go():
        plt.plot(t, deep)
        plt.plot(t, S[0] - shallow[:, :1])  # falling
    c = judge("dln-dynamics", "A5-figure", draw(go), ref_a5, 0)
    assert not c.passed and c.evidence == ("missing", ("sigmoidal",), (0,)), c.message


# ----------------------------------------------------------------------------
# notebooks through the sandbox (full mode): the figures found, the mistakes named, auto: false respected


@pytest.fixture(scope="module")
def bp_solution():
    from grader.authoring.mutants import reference_source
    from grader.authoring.skeleton import keep_solutions

    return keep_solutions(reference_source(get_rubric("backprop")))


@pytest.fixture(scope="module")
def dln_solution():
    from grader.authoring.mutants import reference_source
    from grader.authoring.skeleton import keep_solutions

    return keep_solutions(reference_source(get_rubric("dln-dynamics")))


BP_PLOTS = """\
import matplotlib.pyplot as plt
fig, (a, b) = plt.subplots(1, 2)
for w0 in EULER_STARTS:
    tr = euler_trajectory(np.array(w0), SIGMA_Y, SIGMA_YX, SIGMA_X{kw})
    a.plot(tr[:, 1], tr[:, 0])
w = np.linspace(-1, 1.5, 100)
for D in range(2, 7):
    b.plot(w, balanced_error(w, D, SIGMA_Y, SIGMA_YX, SIGMA_X))
plt.savefig("portrait.png"); plt.close(fig)
"""


def _grade(tmp_path, rubric, name, cells, items, mode="full"):
    from grader.model import Options
    from grader.pipeline import grade_file

    p = write_notebook(tmp_path / f"{name}.ipynb", cells)
    res = grade_file(p, rubric, opts=Options(items=items, mode=mode))
    return res, {i.item_id: i for i in res.items}


def test_backprop_notebook_figures_graded_in_full_mode_only(tmp_path, bp_solution):
    rubric, items = get_rubric("backprop"), ("B12-phase", "B12-balanced")
    res, got = _grade(tmp_path, rubric, "ok", [bp_solution, BP_PLOTS.format(kw="")], items)
    for i in items:
        assert got[i].status == "passed" and got[i].max_points == 0, got[i].message
        assert got[i].checks[0].figures
    res, got = _grade(tmp_path, rubric, "ok", [bp_solution, BP_PLOTS.format(kw="")], items, mode="auto")
    assert all(got[i].status == "not_run" and "not graded in --mode auto" in got[i].message for i in items)
    assert res.score == 0 and res.max_score == 0


def test_backprop_sequential_notebook_is_named(tmp_path, bp_solution):
    from grader.authoring.mutants import mutated_source
    from grader.authoring.skeleton import keep_solutions
    from reference.mistakes import mistakes_in

    rubric = get_rubric("backprop")
    m = next(m for m in mistakes_in(msc) if m.name == "euler_trajectory__sequential_update")
    src = keep_solutions(mutated_source(rubric, m))
    _, got = _grade(tmp_path, rubric, "seq", [src, BP_PLOTS.format(kw="")], ("B12-phase",))
    ph = got["B12-phase"]
    assert ph.status == "failed" and ph.points == 0 and ph.max_points == 0
    assert ph.checks[0].mistake == "_notebook_figure_b12_phase__sequential_update", ph.message


def test_dln_notebook_mode_plot_graded_and_an_only_deep_plot_named(tmp_path, dln_solution):
    rubric = get_rubric("dln-dynamics")
    plot = """\
import matplotlib.pyplot as plt
rng = np.random.default_rng(0)
m = simulate_modes(rng.normal(0, 0.1, (16, 4)), rng.normal(0, 0.1, (7, 16)), rng.normal(0, 0.1, (7, 4)),
                   DT, TAU, SIGMA_X, SIGMA_YX, N_STEPS)
t = np.arange(N_STEPS + 1) * DT
plt.plot(t, m["deep"])
"""
    _, got = _grade(tmp_path, rubric, "both", [dln_solution, plot + 'plt.plot(t, m["shallow"], "--")\n'],
                    ("A5-figure",))
    assert got["A5-figure"].status == "passed", got["A5-figure"].message
    _, got = _grade(tmp_path, rubric, "deep", [dln_solution, plot], ("A5-figure",))
    a5 = got["A5-figure"]
    assert a5.status == "failed" and a5.points == 0
    assert a5.checks[1].mistake == "_notebook_figure_a5__no_shallow_modes", a5.message
    _, got = _grade(tmp_path, rubric, "deep", [dln_solution, plot], ("A5-figure",), mode="slice")
    assert got["A5-figure"].status == "not_run" and "--mode full" in got["A5-figure"].message


def test_keys_of_items_a_mode_does_not_grade_are_not_built():
    from grader.model import Options
    from grader.pipeline import keyed_items, make_plan
    from grader.pipeline.keys import ReferenceKeys

    rubric = get_rubric("backprop")
    plan = make_plan(rubric, Options(), ReferenceKeys(rubric))
    assert not {"B12-phase", "B12-curves", "B12-balanced"} & set(keyed_items(plan, "auto"))
    assert {"B12-phase", "B12-curves", "B12-balanced"} <= set(keyed_items(plan, "full"))

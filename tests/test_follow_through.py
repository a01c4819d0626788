"""Follow-through credit (issue 12): a check that fails only because an upstream item failed is judged again
against the reference fed with the student's own upstream values, computed in the trusted process.

Real values throughout: the expected numbers below are computed here with ``scipy.integrate.quad`` and
``brentq`` (or a plain loop), not with the reference helpers the grader uses.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from helpers import replace_function, write_notebook

from grader.model import Options, student_view
from grader.pipeline import ReferenceKeys, grade_file, make_plan
from grader.rubric import Rubric, get_rubric

ROOT = Path(__file__).resolve().parent.parent
SP = ROOT / "examples" / "signal-propagation"
LT = ROOT / "examples" / "learning-time"
SP_ITEMS = ("D1", "D3", "D5")


def _gauss(f):
    """E[f(z)], z ~ N(0, 1), by quad."""
    return quad(lambda z: f(z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi), -12, 12, limit=400, epsabs=1e-14)[0]


def _fixed_point(q_map, hi):
    return brentq(lambda q: q_map(q) - q, 1e-12, hi, xtol=1e-15)


def _chi1_at(q, sw):
    return sw**2 * _gauss(lambda z: (1 - np.tanh(np.sqrt(q) * z) ** 2) ** 2)


def _items(res):
    return {i.item_id: i for i in res.items}


def _checks(item):
    return {c.name: c for c in item.checks}


def _source(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


def _notebook(tmp_path, name, source: str, **replaced) -> Path:
    for fn, new in replaced.items():
        source = replace_function(source, fn, new)
    return write_notebook(tmp_path / f"{name}.ipynb", [source])


WRONG_Q_STAR = '''def q_star(sigma_w, sigma_b):
    """10 % too large: the fixed point of the (right) q_map, times 1.1."""
    from scipy.optimize import brentq
    if sigma_b == 0 and sigma_w <= 1:
        return 0.0
    return 1.1 * brentq(lambda q: q_map(q, sigma_w, sigma_b) - q, 1e-12, sigma_w**2 + sigma_b**2 + 1)
'''
COVARIANCE_C_MAP = '''def c_map(c, sigma_w, sigma_b):
    """Wrong on its own: the covariance q12, not divided by q*."""
    return c_map_right(c, sigma_w, sigma_b) * q_star(sigma_w, sigma_b)
'''


@pytest.fixture(scope="module")
def sp_rubric():
    return get_rubric("signal-propagation")


@pytest.fixture(scope="module")
def bob_sp():
    return grade_file(SP / "bob.ipynb", "signal-propagation", opts=Options(items=SP_ITEMS))


@pytest.fixture(scope="module")
def wrong_q(tmp_path_factory):
    """alice with a q_star 10 % too large: her chi1, c_map and c_star are right given it."""
    src = _source(SP / "alice.ipynb")
    path = _notebook(tmp_path_factory.mktemp("ft"), "wrong_q", src, q_star=WRONG_Q_STAR)
    return grade_file(path, "signal-propagation", opts=Options(items=SP_ITEMS))


@pytest.fixture(scope="module")
def wrong_q_and_c_map(tmp_path_factory):
    """The same, and a c_map that is wrong on its own (no credit for it, and no mistake named)."""
    src = _source(SP / "alice.ipynb")
    src = replace_function(src, "q_star", WRONG_Q_STAR)
    src = src.replace("def c_map(c, sigma_w, sigma_b):", "def c_map_right(c, sigma_w, sigma_b):", 1)
    path = write_notebook(tmp_path_factory.mktemp("ft") / "wrong_c.ipynb", [src, COVARIANCE_C_MAP])
    return grade_file(path, "signal-propagation", opts=Options(items=SP_ITEMS))


# ----------------------------------------------------------------------------
# the rubric syntax


def _rubric(check_extra: dict, *, upstream=True) -> dict:
    items = [{"id": "U", "title": "u", "points": 1, "checks": [
        {"name": "u", "function": "up", "cases": [{"args": [1.0]}], "compare": {"kind": "allclose"}}]}] if upstream else []
    items.append({"id": "X", "title": "x", "points": 1, "checks": [
        {"name": "x", "function": "down", "cases": [{"args": [1.0]}], "compare": {"kind": "allclose"}, **check_extra}]})
    return {"assignment": "t", "version": 1, "title": "t", "reference": "toyref", "items": items}


FT = {"reference": "_down_at", "given": {"u": {"call": "up", "args": ["x"]}}}


def test_schema_accepts_a_follow_through_check():
    r = Rubric.model_validate(_rubric({"follow_through": FT}))
    ft = r.item("X").checks[0].follow_through
    assert ft.credit == 1.0 and ft.given["u"].call == "up" and ft.given["u"].names() == ["x"]
    assert r.graded_by() == {"up": "U", "down": "X"}


@pytest.mark.parametrize("extra,says", [
    ({"follow_through": {**FT, "credit": 0}}, "greater than 0"),
    ({"follow_through": {**FT, "credit": 1.5}}, "less than or equal to 1"),
    ({"follow_through": {**FT, "given": {}}}, "at least 1"),
    ({"follow_through": {**FT, "extra": 1}}, "Extra inputs"),
    ({"follow_through": {**FT, "given": {"u": {"call": "up.x"}}}}, "pattern"),
    ({"follow_through": FT, "compare": {"kind": "band"}, "expected": {"band": [0, 1]}}, "does not judge against"),
    ({"follow_through": {**FT, "given": {"u": {"call": "down"}}}}, "cannot be its own upstream"),
])
def test_schema_refuses(extra, says):
    with pytest.raises(ValueError, match=says):
        Rubric.model_validate(_rubric(extra))


def test_schema_refuses_an_upstream_no_other_item_grades():
    with pytest.raises(ValueError, match="which no other item grades"):
        Rubric.model_validate(_rubric({"follow_through": FT}, upstream=False))


def test_plan_sends_the_upstream_calls_as_ordinary_calls(sp_rubric):
    """D3's and D5's upstream q_star calls are D1's own calls (run once); one more for c* at (1.3, 0.1)."""
    plan = make_plan(sp_rubric, Options(), ReferenceKeys(sp_rubric))
    extra = set(plan.upstream.values()) - set(plan.index.values())
    assert [c["steps"] for c in plan.calls if c["id"] in extra] == \
        [[{"let": "_out", "call": "q_star", "args": [1.3, 0.1], "kwargs": {}}]]
    assert plan.upstream[("D3", "chi_1 at the sheet's point", 0, "q")] == plan.index[("D1", "q* at the sheet's point", 0)]
    assert plan.upstream_of == {"q_star": ("D1", "q*")}


def test_plan_binds_defaults_by_the_reference_signature():
    """E7's cases leave tau at its default 1.0: the upstream lambda1_opt(s, n_layers, tau) gets it."""
    rubric = get_rubric("learning-time")
    plan = make_plan(rubric, Options(items=("E7",)), ReferenceKeys(rubric))
    steps = {c["id"]: c["steps"][0] for c in plan.calls}
    first = steps[plan.upstream[("E7", "iterations for N_l from 2 to 100", 0, "lambda1_opt")]]
    assert (first["call"], first["args"]) == ("lambda1_opt", [1.0, 2, 1.0])


# ----------------------------------------------------------------------------
# bob (examples/signal-propagation): his q_map has sigma_w where sigma_w**2 belongs (D1's known mistake), so
# his q* is wrong; his chi1, c_map and c_star are the reference's, fed with his q*


def test_bob_gets_follow_through_credit(bob_sp):
    d1, d3, d5 = (_items(bob_sp)[i] for i in SP_ITEMS)
    assert d1.status == "partial" and set(d1.mistakes) == {"q_map__sigma_w_not_squared"}  # unchanged
    assert (d3.points, d3.status, d3.mistakes) == (2.0, "passed", [])  # was 0.380952, partial
    assert all(c.follow_through == "D1" for c in d3.checks)
    assert d3.message.startswith("chi_1: judged with your own q* from D1 (follow-through credit): chi_1 = 2.0224, "
                                 "expected 2.0224 +- 5e-05")
    # his q*(2, 0.3) solves q = 2 E[tanh(sqrt(q) z)^2] + 0.09 (sigma_w not squared); chi_1 there, by quad
    q_bob = _fixed_point(lambda q: 2.0 * _gauss(lambda z: np.tanh(np.sqrt(q) * z) ** 2) + 0.09, 10.0)
    assert f"{_chi1_at(q_bob, 2.0):.4f}" == "2.0224" and f"{_chi1_at(2.2537533849, 2.0):.4f}" == "1.3271"
    ft = {n for n, c in _checks(d5).items() if c.follow_through}
    assert ft == {"c map, chaotic (sigma_w=1.5, sigma_b=0.05)", "c map, ordered (sigma_w=1.2, sigma_b=0.3)",
                  "c* at points with small q*", "c* at the sheet's point"}
    assert (d5.points, d5.status, d5.mistakes) == (4.0, "passed", [])  # was 1.942857, partial


def test_regrading_one_item_gives_the_same_credit(bob_sp):
    """--regrade-item D3 grades D3 alone: its upstream item is not graded there, the credit is the same."""
    alone = _items(grade_file(SP / "bob.ipynb", "signal-propagation", opts=Options(items=("D3",))))["D3"]
    assert (alone.points, alone.status) == (_items(bob_sp)["D3"].points, "passed")


# ----------------------------------------------------------------------------
# synthetic notebooks


def test_q_star_wrong_by_a_known_factor_downstream_right_gets_credit(wrong_q):
    d1, d3, d5 = (_items(wrong_q)[i] for i in SP_ITEMS)
    assert d1.status == "partial" and not d1.mistakes
    assert d3.status == "passed" and d3.points == 2.0 and all(c.follow_through == "D1" for c in d3.checks)
    q = 1.1 * 2.2537533849  # her q*(2, 0.3); chi_1 there, by quad
    assert f"expected {_chi1_at(q, 2.0):.4f} +- 5e-05" in d3.message
    assert d5.status == "passed" and d5.points == 4.0 and not d5.mistakes


def test_downstream_also_wrong_gets_no_credit_and_no_mistake(wrong_q_and_c_map):
    d3, d5 = _items(wrong_q_and_c_map)["D3"], _items(wrong_q_and_c_map)["D5"]
    assert d3.status == "passed"  # chi1 is still right given her q*
    checks = _checks(d5)
    for name in ("c map, chaotic (sigma_w=1.5, sigma_b=0.05)", "c map, ordered (sigma_w=1.2, sigma_b=0.3)"):
        c = checks[name]
        assert not c.passed and c.follow_through is None and c.fraction < 1
        assert c.message.endswith("cases fail). c_map(c) is not right with your own q* from D1 either."), c.message
    assert d5.status == "partial" and not d5.mistakes  # the covariance mutant is not named through a wrong q*
    assert d5.message.startswith("D5 uses your ") and "which failed D1: fix D1 first." in d5.message


def test_non_finite_upstream_values_earn_nothing(tmp_path):
    src = _source(SP / "alice.ipynb")
    path = _notebook(tmp_path, "nan_q", src, q_star="def q_star(sigma_w, sigma_b):\n    return float('nan')\n")
    d3 = _items(grade_file(path, "signal-propagation", opts=Options(items=("D1", "D3"))))["D3"]
    assert d3.points == 0 and not any(c.follow_through for c in d3.checks)
    assert d3.message.startswith("D3 uses your ") and "which failed D1: fix D1 first." in d3.message
    assert "either" not in d3.message


def _hidden_secrets(rubric) -> set[float]:
    """D5's expected c_map / c* values (the reference's) and those the grader computed with the student's q*,
    rounded to 2 or more significant digits (0 and 1, which c_map(0) and c* = 1 give anywhere, left out)."""
    from reference import signal_propagation as sp

    keys = ReferenceKeys(rubric)
    key = keys.expected(["D5"])
    values = []
    for check in rubric.item("D5").checks:
        if not check.follow_through:
            continue
        for i, case in enumerate(check.cases):
            values.append(float(key[("D5", check.name, i)].value))
            sw, sb = case.args[-2], case.args[-1]
            q = 1.1 * sp.q_star(sw, sb)
            if check.function == "c_map":
                values.append(float(sp._c_map_at_q(case.args[0], sw, sb, q)))
            else:
                values.append(float(sp._c_star_at_q(sw, sb, q)))
    out = set()
    for v in values:
        if abs(v) > 1e-9 and abs(abs(v) - 1) > 1e-9:
            out |= {float(f"{v:.{k}g}") for k in range(2, 9)}
    return out


@pytest.mark.parametrize("which", ["wrong_q", "wrong_q_and_c_map"])
def test_hidden_item_does_not_leak_through_follow_through(which, request, sp_rubric):
    res = request.getfixturevalue(which)
    d5_ta = _items(res)["D5"]
    view = _items(student_view(res, sp_rubric))["D5"]
    text = " ".join([view.message] + [c.message for c in view.checks] + [k.message for c in view.checks
                                                                          for k in c.cases])
    secrets = _hidden_secrets(sp_rubric)
    numbers = {float(t) for t in re.findall(r"(?<![\w.])-?\d+\.\d+(?:e[+-]?\d+)?", text)}
    assert not numbers & secrets, sorted(numbers & secrets)
    assert "expected" not in text
    ta = " ".join([d5_ta.message] + [c.message for c in d5_ta.checks])
    assert "expected" in ta  # the TA's result keeps the numbers


# ----------------------------------------------------------------------------
# learning-time: E5 and E7 use the student's lambda1_opt (E4)


def test_learning_time_follow_through(tmp_path):
    src = _source(LT / "alice.ipynb")
    wrong = "def lambda1_opt(s, n_layers, tau):\n    return n_layers * np.asarray(s, dtype=float) ** " \
            "(2.0 - 2.0 / (n_layers - 1)) / tau\n"  # N_l where N_l - 1 belongs (E4's known mistake)
    opts = Options(items=("E4", "E5", "E7"))
    res = _items(grade_file(_notebook(tmp_path, "lam", src, lambda1_opt=wrong), "learning-time", opts=opts))
    assert res["E4"].status == "partial" and set(res["E4"].mistakes) == {"lambda1_opt__n_layers"}
    for i in ("E5", "E7"):
        assert (res[i].status, res[i].mistakes) == ("passed", []), res[i].message
        assert res[i].checks[0].follow_through == "E4"
    # E7's count with that lambda, by a plain loop: s = 1, N_l = 2, u0 = 0.1, eps = 0.01, lr = 1 / (2 * 1)
    a, n = 0.1, 0
    while a < 0.99:
        a, n = a + 0.5 * (1.0 - a), n + 1
    assert n == 7 and "iterations = 7" in " ".join(k.message for k in res["E7"].checks[0].cases)
    # an optimal_lr wrong on its own (2 / lambda1_opt): no credit, and its known mistake is not named
    both = _notebook(tmp_path, "lam2", src, lambda1_opt=wrong,
                     optimal_lr="def optimal_lr(s, n_layers, tau):\n    return 2.0 / lambda1_opt(s, n_layers, tau)\n")
    e5 = _items(grade_file(both, "learning-time", opts=Options(items=("E4", "E5"))))["E5"]
    assert e5.points == 0 and not e5.mistakes and "fix E4 first" in e5.message
    assert "optimal lr is not right with your own lambda1_opt from E4 either." in e5.message


# ----------------------------------------------------------------------------
# the trusted process imports the reference only when a follow-through check needs it


IMPORTS = """
import sys
from grader.model import Options
from grader.pipeline import grade_file
r = grade_file(sys.argv[1], "signal-propagation", opts=Options(items=("D1", "D3", "D5")))
print(r.score, sorted(m for m in sys.modules if m.startswith(("reference.", "scipy"))) != [])
"""


def test_reference_is_imported_only_for_follow_through(bob_sp):
    grade_file(SP / "alice.ipynb", "signal-propagation", opts=Options(items=SP_ITEMS))  # keys cached
    out = {}
    for name in ("alice", "bob"):
        p = subprocess.run([sys.executable, "-c", IMPORTS, str(SP / f"{name}.ipynb")], capture_output=True, text=True,
                           timeout=300, cwd=ROOT)
        assert p.returncode == 0, p.stderr
        out[name] = p.stdout.split()
    assert out["alice"] == ["10.0", "False"]  # all right: no reference module, no scipy in the grader
    assert out["bob"] == [str(bob_sp.score), "True"]  # D3 and D5 judged with his q*: the helpers ran here

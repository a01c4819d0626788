"""Feedback that teaches without leaking: hidden items say what is wrong in words, never their expected values.

A toy rubric with two extra hidden items: T6 doubles 0.13195 (the reference's
answer, computed below, is 0.2639) and T7 holds noisy_mean to a band with
distinctive edges. A student whose ``double`` triples is graded once; every
output a student reads (the HTML page, the terminal table of ``dlgrade check``,
also with ``--all-items``, Gradescope, Moodle) must hold neither 0.2639, nor any
rounding of it to 2 or more significant digits, nor the band's edges, nor the
key version; the TA's JSON keeps them; ``show_expected: true`` shows them.
"""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from helpers import TOY, replace_function, write_notebook

from grader.judge.numeric import relative
from grader.model import SubmissionResult, student_view

ROOT = Path(__file__).resolve().parent.parent
X = 0.13195
BAND = [0.1357, 0.2468]  # noisy_mean(400, rng 0) of the reference is about -0.037: outside, below


def _expected() -> float:
    import toyref

    return float(toyref.double(X))


def _course(tmp_path: Path, *, show_expected: bool = False) -> Path:
    """A course folder whose rubric ``toyhide`` is the toy rubric plus the hidden items T6 and T7."""
    raw = yaml.safe_load((TOY / "toy.yaml").read_text())
    raw["assignment"] = "toyhide"
    raw["items"] += [
        {"id": "T6", "title": "Doubling a small number", "points": 1, "visibility": "hidden",
         **({"show_expected": True} if show_expected else {}),
         "checks": [{"name": "double of x", "function": "double", "cases": [{"args": [X]}],
                     "compare": {"kind": "allclose"}, "label": "2x"}]},
        {"id": "T7", "title": "Noisy mean in a band", "points": 1, "visibility": "hidden",
         "checks": [{"name": "band", "function": "noisy_mean", "cases": [{"args": [400, {"rng": 0}]}],
                     "compare": {"kind": "band"}, "expected": {"band": BAND, "seeds": 1, "how": "set for a test"}}]},
    ]
    course = tmp_path / ("course-show" if show_expected else "course")
    (course / "rubrics").mkdir(parents=True)
    (course / "rubrics" / "toyhide.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return course


def _student(tmp_path: Path, toy_source: str) -> Path:
    src = replace_function(toy_source, "double", "def double(x):\n    return 3.0 * np.asarray(x)\n")
    return write_notebook(tmp_path / "sam.ipynb", [src])


def _secrets(result: SubmissionResult) -> list[str]:
    """The forbidden numbers: every rounding of the expected value and of the band edges to >= 2 significant
    digits, as they could be printed."""
    out = set()
    for v in (_expected(), *BAND):
        for k in range(2, 8):
            out |= {f"{v:.{k}g}", f"{v:.{k}f}", f"{v:.{k - 1}e}"}
    return sorted(out)


_NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?:e[+-]?\d+)?(?![\w])")


def assert_no_secret(text: str, result: SubmissionResult, where: str):
    secrets = {float(s) for s in _secrets(result)}
    leaked = [tok for tok in _NUMBER.findall(text) if float(tok) in secrets]
    assert not leaked, f"{where} shows {leaked}"
    assert result.key_version not in text, f"{where} shows the key version"
    assert "expected within" not in text, f"{where} shows a band"  # only hidden items have bands here


def _no_timings(result: SubmissionResult) -> SubmissionResult:
    """``result`` with every duration 0, so no timing in a page can look like a rounding of a secret."""
    def walk(v):
        if isinstance(v, dict):
            return {k: (0.0 if k == "seconds" else walk(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v
    return SubmissionResult.from_dict(walk(result.to_dict()))


@pytest.fixture(scope="module")
def graded(tmp_path_factory, toy_source):
    from grader.pipeline import grade_file
    from grader.rubric import load_rubric

    tmp = tmp_path_factory.mktemp("feedback")
    rubric = load_rubric(_course(tmp) / "rubrics" / "toyhide.yaml")
    path = _student(tmp, toy_source)
    return rubric, path, _no_timings(grade_file(path, rubric))


def test_the_ta_result_has_the_numbers(graded):
    rubric, _, res = graded
    items = {i.item_id: i for i in res.items}
    want = _expected()
    assert want == pytest.approx(2 * X)
    t6, t7 = items["T6"], items["T7"]
    assert t6.status == "failed" and f"expected {want:.4g}" in t6.message, t6.message
    assert t7.status == "failed" and f"expected within [{BAND[0]:g}, {BAND[1]:g}]" in t7.message, t7.message
    # the words: 3x for 2x is 50 % too large; -0.037 against a band of positive values has the wrong sign
    assert t6.hint == f"2x = {3 * X:g} {relative(3 * X, want)}" == f"2x = {3 * X:g} is too large by about 50 %"
    assert t7.hint.endswith("has the wrong sign"), t7.hint
    assert json.dumps(res.to_dict()).count(f"{want:.4g}") >= 1  # the JSON is the TA's: it keeps everything


def test_student_view_is_the_one_redaction(graded):
    rubric, _, res = graded
    view = student_view(res, rubric)
    items = {i.item_id: i for i in view.items}
    assert items["T1"].message == next(i for i in res.items if i.item_id == "T1").message  # public: numbers stay
    assert "expected 6" in items["T1"].message
    assert items["T6"].message == "2x = 0.39585 is too large by about 50 %"
    assert all(c.message == c.hint for c in items["T6"].checks)
    assert view.key_version == "" and res.key_version
    assert_no_secret(json.dumps(view.to_dict()), res, "the student view")


def test_student_html_page_leaks_nothing(graded, tmp_path):
    from grader.report import write_reports

    rubric, _, res = graded
    write_reports([res], rubric, tmp_path / "r", with_reference_figures=False)
    page = (tmp_path / "r" / "sam.html").read_text()
    assert "too large by about 50 %" in page and "has the wrong sign" in page
    assert "expected 6" in page  # T1 is public
    assert_no_secret(page, res, "the student page")


def test_terminal_table_leaks_nothing(graded, monkeypatch):
    from grader.cli import render

    _, _, res = graded
    for width in (80, 300):
        monkeypatch.setattr(render, "console", Console(width=width, record=True, highlight=False))
        render.print_result(res, show_checks=True)
        text = render.console.export_text()
        assert "too large by about 50 %" in text.replace("\n", " ") or width == 80
        assert_no_secret(text, res, f"the terminal table at {width} columns")


def test_student_exports_leak_nothing(graded, tmp_path):
    from grader.export import export

    rubric, _, res = graded
    gs = export([res], rubric, "gradescope", tmp_path / "gs")
    doc = (gs / "sam" / "results.json").read_text()
    assert "too large by about 50 %" in doc
    assert_no_secret(doc, res, "Gradescope")
    moodle = export([res.__class__(**{**res.__dict__, "student": "12345"})], rubric, "moodle", tmp_path / "m.csv")
    feedback = list(csv.DictReader(open(moodle, newline="")))[0]["Feedback comments"]
    assert "too large by about 50 %" in feedback
    assert_no_secret(feedback, res, "Moodle")


def test_show_expected_opts_in(tmp_path, toy_source):
    from grader.pipeline import grade_file
    from grader.report import write_reports
    from grader.rubric import load_rubric

    rubric = load_rubric(_course(tmp_path, show_expected=True) / "rubrics" / "toyhide.yaml")
    assert rubric.item("T6").show_expected and not rubric.item("T7").show_expected
    res = grade_file(_student(tmp_path, toy_source), rubric)
    write_reports([res], rubric, tmp_path / "r", with_reference_figures=False)
    page = (tmp_path / "r" / "sam.html").read_text()
    assert f"expected {_expected():.4g}" in page  # T6 opted in
    assert f"{BAND[0]:g}" not in page  # T7 did not
    # the rubric given to student_view decides, also for a result graded before the rubric changed
    no = load_rubric(_course(tmp_path / "again") / "rubrics" / "toyhide.yaml")
    assert f"{_expected():.4g}" not in json.dumps(student_view(res, no).to_dict())


def _cli(course: Path, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TOY), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "grader.cli", "--course", str(course), *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=600)


def test_check_all_items_in_the_terminal(tmp_path, toy_source, graded):
    _, _, res = graded
    course = _course(tmp_path)
    student = _student(tmp_path, toy_source)
    out = _cli(course, "check", str(student), "-a", "toyhide", "--all-items")
    assert out.returncode == 0, out.stderr
    assert "T6" in out.stdout and "T7" in out.stdout and "50 %" in out.stdout
    assert_no_secret(out.stdout, res, "dlgrade check --all-items")
    ta = _cli(course, "check", str(student), "-a", "toyhide", "--all-items", "--json")
    t6 = next(i for i in json.loads(ta.stdout)["items"] if i["item_id"] == "T6")
    assert f"expected {_expected():.4g}" in t6["message"]  # --json is the TA's


@pytest.mark.parametrize("got, want, words", [
    (0.6, 1.0, "is too small by about 40 %"),
    (0.8, 1.0, "is too small by about 20 %"),
    (1.1, 1.0, "is too large by about 10 %"),
    (1.37, 1.0, "is too large by about 30 %"),
    (1.5, 1.0, "is too large by about 50 %"),
    (1.02, 1.0, "is slightly too large (by less than 5 %)"),
    (2.6, 1.0, "is too large by a factor of about 2.5"),
    (0.25, 1.0, "is too small by a factor of about 4"),
    (-0.5, 1.0, "has the wrong sign"),
    (-3.0, -2.0, "is too large in magnitude by about 50 %"),
    (1e5, 1.0, "is too large by a factor of about 10^5"),
    (0.0, 1.0, "is 0, which is not right"),
    (0.3, 0.0, "is too large"),
    (float("nan"), 1.0, "is nan (not a finite number)"),
])
def test_relative_words(got, want, words):
    assert relative(got, want) == words
    assert relative(got * 7.3, want * 7.3) == words  # a ratio: the scale of the answer never shows


def test_relative_words_are_right_and_coarse():
    """Each phrase is true of the answer (within its bucket) and covers a wide range of answers: with their own value
    a student can place the expected one to no better than about +-5 %, to +-2.5 % only when their own is already
    within 5 %."""
    import collections

    import numpy as np

    from grader.judge.numeric import FACTOR_LADDER

    g = 0.2639 * 1.7  # the student's value; the expected value sweeps six decades around it
    seen = collections.defaultdict(list)
    for e in np.geomspace(g / 1000, g * 1000, 30000):
        words = relative(g, e)
        seen[words].append(e)
        if "factor" in words and "10^" not in words:
            k = float(words.rsplit(" ", 1)[1])
            assert k in FACTOR_LADDER
            implied = g / k if "large" in words else g * k
            assert abs(implied / e - 1) < 0.2, (e, words)
        elif words.endswith(" %") and "slightly" not in words:
            pct = int(words.rsplit(" ", 2)[1])
            assert pct in (10, 20, 30, 40, 50)
            implied = g / (1 + pct / 100) if "large" in words else g / (1 - pct / 100)
            assert abs(implied / e - 1) < 0.2, (e, words)
    assert len(seen) < 50  # a few dozen phrases for 30000 answers
    for words, es in seen.items():
        if "10^" not in words:  # (the powers of ten at the ends of the sweep are cut off by it)
            assert max(es) / min(es) > (1.045 if "slightly" in words else 1.11), (words, min(es), max(es))

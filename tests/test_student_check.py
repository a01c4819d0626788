"""The in-notebook self-check (``grader.student``, released as ``dlgrade_check``): rendering, missing packages,
the live kernel's cells, and that its cells change nothing when a TA grades the notebook."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.authoring import skeleton
from grader.authoring.release import build
from grader.model import CheckResult, ItemResult, ItemStatus, SubmissionResult
from grader.pipeline import Options, grade_file
from grader.pipeline.extract import extract
from grader.pipeline.load import read_submission
from grader.rubric import get_rubric
from grader.student import Checker, Report, cli, deps, display
from grader.student import checker as checker_module

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "signal-propagation"


def _result(message="q_map: all 4 cases pass") -> SubmissionResult:
    mistake = CheckResult("q map", False, 0.25, 1.0, "q_map(q) = 0.166, expected 0.229 (3 of 4 cases fail)",
                          "q_map__sigma_w_not_squared", "Your q map uses sigma_w where it needs sigma_w**2.")
    items = (ItemResult("D1", "The length map", 4.0, 4.0, ItemStatus.PASSED, message, "public",
                        (CheckResult("q map", True, 1.0, 1.0, message),)),
             ItemResult("D3", "chi_1", 0.5, 2.0, ItemStatus.PARTIAL, "ignored: the check's own sentence is shown",
                        "public", (mistake, CheckResult("chi", True, 1.0, 1.0, "chi: ok"))))
    return SubmissionResult("your notebook", "the live kernel", ASSIGNMENT, 1, "k", "", items,
                            ("cell 7: ImportError: No module named 'torchvision'",), None, ("rlimits",), 1.25)


def test_text_table_has_status_reason_and_named_mistake():
    out = str(Report(ASSIGNMENT, _result()))
    lines = out.splitlines()
    assert lines[0] == "signal-propagation self-check of D1, D3: 4.5 / 6 points"
    assert lines[1].split()[:3] == ["D1", "4/4", "passed"] and lines[1].endswith("q_map: all 4 cases pass")
    d3 = next(i for i, ln in enumerate(lines) if ln.strip().startswith("D3"))
    assert lines[d3].split()[:3] == ["D3", "0.5/2", "partial"] and "expected 0.229" in lines[d3]
    assert "Known mistake: Your q map uses sigma_w" in " ".join(lines[d3 + 1:d3 + 3])
    col = lines[d3].index("q_map(q)")
    assert lines[d3 + 1].index("Known mistake") == col == lines[1].index("q_map: all")  # one column of reasons
    assert "warning: cell 7: ImportError" in out
    assert lines[-1].startswith(display.NOTE) and "isolation: rlimits" in lines[-1]
    assert repr(Report(ASSIGNMENT, _result())) == out
    assert all(len(ln) <= 100 for ln in lines)


def test_html_table_escapes_what_the_student_wrote():
    html = Report(ASSIGNMENT, _result(message="<script>alert(1)</script> & more"))._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert html.count("<tr>") == 3  # the header and one row per item
    assert ">passed</span>" in html and ">partial</span>" in html
    assert "Your q map uses sigma_w where it needs sigma_w**2." in html
    assert 'title="q_map__sigma_w_not_squared"' in html
    assert "expected 0.229 (3 of 4 cases fail)" in html and "ignored" not in html
    assert "<script" not in html.lower() and "<style" not in html.lower()  # no JavaScript, no global CSS


def test_problem_report_is_one_line_in_both_forms():
    rep = Report(ASSIGNMENT, problem="the self-check needs scipy: pip install scipy")
    assert str(rep) == "dlgrade_check: the self-check needs scipy: pip install scipy"
    assert "\n" not in rep._repr_html_() and "pip install scipy" in rep._repr_html_()
    assert not rep.passed and rep.score == 0


def _fake_bundle(tmp_path, requires=()) -> Path:
    d = tmp_path / "bundle"
    d.mkdir(parents=True)
    (d / "selfcheck.json").write_text(json.dumps({"assignment": ASSIGNMENT, "requires": list(requires),
                                                  "items": [{"id": "D1"}, {"id": "D3"}]}))
    return d


@pytest.fixture
def no_scipy(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("scipy", "torch")
                        else real(name, *a))


def test_missing_package_is_one_line_naming_it(tmp_path, no_scipy, capsys):
    check = Checker(ASSIGNMENT, bundle=_fake_bundle(tmp_path))
    assert capsys.readouterr().out == "dlgrade_check: the self-check needs scipy: pip install scipy\n"
    rep = check("D1")
    assert str(rep) == "dlgrade_check: the self-check needs scipy: pip install scipy"
    assert str(check.all()) == str(rep) and repr(check) == str(rep)
    check = Checker(ASSIGNMENT, bundle=_fake_bundle(tmp_path / "t", requires=["torch"]))
    assert str(check()) == "dlgrade_check: the self-check needs scipy and torch: pip install scipy torch"


def test_missing_package_on_the_command_line(tmp_path, no_scipy, capsys):
    assert cli.main(["my.ipynb", "--bundle", str(_fake_bundle(tmp_path))]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err == "dlgrade-check: the self-check needs scipy: pip install scipy\n"


def test_pip_names():
    assert deps.pip_name("yaml") == "pyyaml" and deps.pip_name("torch.nn") == "torch"
    assert deps.message(["numpy"]) == "the self-check needs numpy: pip install numpy"


def test_another_assignments_checker_and_no_bundle(tmp_path, capsys):
    check = Checker("backprop", bundle=_fake_bundle(tmp_path))
    assert "is the self-check of signal-propagation, not backprop" in str(check("B1"))
    assert str(Checker(bundle=tmp_path)("D1")).startswith(f"dlgrade_check: {tmp_path} holds no self-check data")
    capsys.readouterr()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build(get_rubric(ASSIGNMENT), tmp_path_factory.mktemp("bundle"), wheel=False)


def test_unknown_item_lists_the_public_ones(bundle, capsys):
    check = Checker(ASSIGNMENT, bundle=bundle)
    assert check.items == ["D1", "D3", "D4"] and check.problem is None
    assert str(check("D2")) == ("dlgrade_check: no public item 'D2' in signal-propagation; the self-check runs "
                                "D1, D3, D4 (the other items are graded after you submit)")
    assert "D1, D3, D4" in repr(check)
    capsys.readouterr()


def _install(site: Path, data_dir: Path, assignment: str) -> None:
    """Lay out ``data_dir`` (a data package) in ``site`` as pip would: the package and its entry point."""
    import shutil

    pkg = "dlgrade_check_" + assignment.replace("-", "_")
    shutil.copytree(data_dir, site / pkg / "_bundle")
    (site / pkg / "__init__.py").write_text('"""data"""\n')
    info = site / f"{pkg}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {pkg.replace('_', '-')}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[dlgrade_check.assignments]\n{assignment} = {pkg}\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    import importlib

    d = tmp_path / "site"
    d.mkdir()
    monkeypatch.syspath_prepend(str(d))
    yield d
    importlib.invalidate_caches()


def test_nothing_installed_says_what_to_install(site, capsys):
    assert str(Checker()("D1")) == ("dlgrade_check: no assignment's self-check is installed; "
                                    "pip install dlgrade_check*.whl (both wheels in your course's release bundle)")
    assert "the self-check of backprop is not installed; for backprop, pip install dlgrade_check*.whl (both " \
           "wheels in its release bundle)" in str(Checker("backprop")())
    capsys.readouterr()


def test_several_assignments_installed_side_by_side(bundle, site, tmp_path, capsys):
    import importlib

    from grader import selfcheck

    assert selfcheck.ENTRY_POINTS == checker_module.ENTRY_POINTS
    assert selfcheck.data_package(ASSIGNMENT) == "dlgrade_check_signal_propagation"
    _install(site, selfcheck.bundle_data_dir(bundle), ASSIGNMENT)
    other = _fake_bundle(tmp_path / "bp")
    meta = json.loads((other / "selfcheck.json").read_text())
    (other / "selfcheck.json").write_text(json.dumps({**meta, "assignment": "backprop", "items": [{"id": "B1"}]}))
    _install(site, other, "backprop")
    importlib.invalidate_caches()
    assert list(checker_module.installed()) == ["backprop", ASSIGNMENT]
    assert Checker(ASSIGNMENT).items == ["D1", "D3", "D4"] and Checker("backprop").items == ["B1"]
    assert str(Checker()()) == ('dlgrade_check: the self-checks of backprop, signal-propagation are installed; '
                                'name one: Checker("backprop")')
    assert "not installed (installed: backprop, signal-propagation)" in str(Checker("dln-dynamics")())
    capsys.readouterr()

    # dlgrade-check finds the assignment from the notebook's metadata (the skeleton's), its name, or -a
    nb = skeleton.build_notebook(get_rubric(ASSIGNMENT), solutions=True)
    import nbformat

    worked = tmp_path / "worked.ipynb"
    worked.write_text(nbformat.writes(nb))
    assert cli.main([str(worked), "D1", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["assignment"] == ASSIGNMENT and [i["item_id"] for i in res["items"]] == ["D1"]
    assert res["items"][0]["status"] == "passed"
    nb.metadata.pop("dlgrade", None)
    plain = tmp_path / "answers.ipynb"
    plain.write_text(nbformat.writes(nb))
    assert cli.main([str(plain), "D1"]) == 2
    assert capsys.readouterr().err == ("dlgrade-check: the self-checks of backprop, signal-propagation are installed "
                                       f"and {plain} does not say which it is; add -a ASSIGNMENT\n")
    assert cli.main([str(tmp_path / "nowhere.ipynb")]) == 2
    assert capsys.readouterr().err == f"dlgrade-check: {tmp_path / 'nowhere.ipynb'} does not exist\n"
    named = tmp_path / "my_signal_propagation.ipynb"
    named.write_text(nbformat.writes(nb))
    assert cli.main([str(named), "D1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["assignment"] == ASSIGNMENT
    assert cli.main([str(plain), "-a", ASSIGNMENT, "D1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["items"][0]["status"] == "passed"


KERNEL = r'''
import json, sys
from IPython.core.interactiveshell import InteractiveShell
sh = InteractiveShell.instance()
cells = json.loads(sys.argv[1])
for c in cells:
    sh.run_cell(c, store_history=True)
rep = sh.user_ns["rep"]
print(json.dumps({"text": str(rep), "html": rep._repr_html_(), "passed": rep.passed,
                  "items": [[i.item_id, i.status.value, i.points] for i in rep.result.items] if rep.result else None,
                  "warnings": list(rep.result.warnings) if rep.result else None}))
'''


def _kernel(cells: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", KERNEL, json.dumps(cells)], capture_output=True, text=True,
                         cwd=ROOT, timeout=300, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _worked_cells(solutions: bool) -> list[str]:
    nb = skeleton.build_notebook(get_rubric(ASSIGNMENT), solutions=solutions)
    return [c.source for c in nb.cells if c.cell_type == "code" and "dlgrade_check" not in c.source
            and not c.source.startswith("check")]


def test_check_grades_what_the_live_kernel_ran(bundle):
    setup = f"from grader.student import Checker\ncheck = Checker('{ASSIGNMENT}', bundle={str(bundle)!r})"
    right = _worked_cells(solutions=True)
    got = _kernel([setup, *right, "%time x = 1", "def broken(:", "rep = check('D1', 'D3')"])
    assert got["passed"] and [i[:2] for i in got["items"]] == [["D1", "passed"], ["D3", "passed"]], got
    assert got["warnings"] == [], got["warnings"]  # no syntax-error note for a cell the kernel also refused
    # run again with a wrong q_map after the right one: the kernel's latest definition is the one checked
    wrong = "def q_map(q, sigma_w, sigma_b):\n    return sigma_w * 0.5 + sigma_b ** 2 + 0 * q\n"
    got = _kernel([setup, *right, wrong, "rep = check('D1')"])
    assert got["items"][0][1] in ("failed", "partial") and got["items"][0][2] < 1 and not got["passed"], got
    assert got["warnings"] == [] and "defined again" not in got["text"]


def test_skeleton_in_the_kernel_scores_zero(bundle):
    setup = f"from grader.student import Checker\ncheck = Checker(bundle={str(bundle)!r})"
    got = _kernel([setup, *_worked_cells(solutions=False), "rep = check.all()"])
    assert [i[0] for i in got["items"]] == ["D1", "D3", "D4"] and all(i[2] == 0 for i in got["items"])
    assert "not implemented yet" in got["text"] and ">failed</span>" in got["html"]


def test_checker_cells_change_nothing_when_graded(tmp_path):
    """The skeleton's checker cell and check cells are not extracted, so the TA's grade and warnings ignore them."""
    rubric = get_rubric(ASSIGNMENT)
    nb = skeleton.build_notebook(rubric, solutions=True)
    srcs = [c.source for c in nb.cells if c.cell_type == "code"]
    assert srcs[0].startswith("# Self-check") and "Checker(\"signal-propagation\")" in srcs[0]
    assert [s for s in srcs if s.startswith("check(")] == ['check("D1")', 'check("D3")', 'check("D4")']
    assert srcs[-1] == "check.all()"
    path = tmp_path / "worked.ipynb"
    import nbformat

    path.write_text(nbformat.writes(nb))
    ex = extract(read_submission(path))
    assert not [s for s in ex.statements if "check" in s.source.split("\n")[0] or "dlgrade_check" in s.source]
    # a student's own plain import or try-import of the checker is skipped too (it is not installed there)
    extra = tmp_path / "extra.py"
    extra.write_text("from dlgrade_check import Checker\nimport dlgrade_check.cli\ntry:\n"
                     "    import dlgrade_check\nexcept ImportError:\n    pass\ncheck = Checker('x')\ncheck('D1')\n"
                     "import numpy as np\n")
    assert [s.source.strip() for s in extract(read_submission(extra)).statements] == ["import numpy as np"]
    res = grade_file(path, rubric, opts=Options(public_only=True, unsafe=True))
    assert res.score == res.max_score and not res.warnings, res.warnings


def test_checker_cell_without_dlgrade_check_only_says_so(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dlgrade_check", None)  # not installed (the grading machine)
    ns: dict = {}
    exec(skeleton.CHECKER_CELL.format(assignment=ASSIGNMENT), ns)  # noqa: S102 - the skeleton's own cell
    ns["check"]("D1")
    ns["check"].all()
    out = capsys.readouterr().out.splitlines()
    assert out == ["the self-check is not installed: pip install dlgrade_check*.whl (from the release bundle)"] * 2


def test_skeleton_states_each_functions_time_limit():
    text = skeleton.render(get_rubric("backprop"))
    assert "`relu`, `relu_prime`: 20 s per call" in text
    # B6: train in the quick checks; the given train_with_scale only in the long ones (a per-example loop fits)
    assert "`train`: 20 s per call; `train_with_scale`: 3600 s per call (long checks graded after you submit)" in text
    assert "all calls together 7800 s" in text
    limits = skeleton.time_limits(get_rubric("dln-dynamics"))
    assert limits["train_network"] == (30.0, 600.0)

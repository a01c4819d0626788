"""Full-execution mode: the whole notebook runs in the sandbox, cell by cell, and items are graded against it."""
from __future__ import annotations

import base64
import shutil
import sqlite3
import time
import tracemalloc

import nbformat
import pytest
from helpers import TOY, write_notebook

from grader.batch import run_batch
from grader.cli.main import main as cli
from grader.model import ItemStatus
from grader.pipeline import Options, grade_file
from grader.pipeline.executed import executed_notebook
from grader.pipeline.extract import execution_cells
from grader.pipeline.load import read_submission
from grader.rubric import load_rubric
from grader.sandbox.worker import cells as worker_cells

HEAD = "import numpy as np\n"
DOUBLE = "def double(x):\n    return 2.0 * np.asarray(x)\n"
HALVE = "def halve(x):\n    return np.asarray(x) / 2\n"
TOTAL = "W = np.array([0.5, 2.0, 3.0])\ndoubled_total = float(double(W).sum())\nprint('total', doubled_total)\n"


@pytest.fixture(scope="module")
def toyfull():
    return load_rubric(TOY / "toyfull.yaml")


def _items(res):
    return {i.item_id: i for i in res.items}


def _points(res):
    return {i.item_id: i.points for i in res.items}


def test_full_mode_grades_what_slicing_drops_by_design(tmp_path, toyfull):
    # `alias["k"] = 2.0` mutates cfg through another name: slicing cannot see it and drops it by design;
    # the value doubled_total is computed at top level and read by F2
    p = write_notebook(tmp_path / "alias.ipynb", [
        HEAD + "cfg = {}\nalias = cfg\nalias['k'] = 2.0\n",
        "def double(x):\n    return cfg['k'] * np.asarray(x)\n",
        TOTAL, HALVE])
    sliced = grade_file(p, toyfull, opts=Options(mode="slice"))
    assert _points(sliced) == {"F1": 0.0, "F2": 0.0, "F3": 1.0}
    assert "KeyError" in _items(sliced)["F1"].message
    assert _items(sliced)["F2"].status == ItemStatus.NOT_RUN and "--mode auto" in _items(sliced)["F2"].message
    assert sliced.notebook is None
    full = grade_file(p, toyfull, opts=Options(mode="full"))
    assert _points(full) == {"F1": 2.0, "F2": 1.0, "F3": 1.0}
    assert "F1, F2, F3 graded against the executed notebook (4 of 4 cells ran)" in " ".join(full.warnings)
    assert full.notebook is not None


def test_auto_runs_needs_full_items_in_full_mode_and_the_others_sliced(tmp_path, toyfull):
    p = write_notebook(tmp_path / "alias.ipynb", [
        HEAD + "cfg = {}\nalias = cfg\nalias['k'] = 2.0\n",
        "def double(x):\n    return cfg['k'] * np.asarray(x)\n",
        TOTAL, HALVE])
    res = grade_file(p, toyfull)  # auto is the default
    # F1 fails as sliced code does (KeyError), F2 passes: it read the executed notebook's value
    assert _points(res) == {"F1": 0.0, "F2": 1.0, "F3": 1.0}
    assert any(w.startswith("full mode: F2 graded against the executed notebook") for w in res.warnings)
    assert res.notebook is not None


def test_auto_falls_back_to_full_when_the_slice_fails_a_needed_statement(tmp_path, toyfull):
    # np.save changes no name, so slicing drops it; the kept `k = ...` then cannot find its file
    p = write_notebook(tmp_path / "file.ipynb", [
        HEAD + "np.save('k.npy', np.array(2.0))\n",
        "k = float(np.load('k.npy'))\n",
        "def double(x):\n    return k * np.asarray(x)\n", TOTAL, HALVE])
    sliced = grade_file(p, toyfull, opts=Options(mode="slice"))
    assert _points(sliced)["F1"] == 0.0
    assert "cell 2: `k = float(np.load('k.npy'))` failed (FileNotFoundError" in _items(sliced)["F1"].message
    auto = grade_file(p, toyfull)
    assert _points(auto) == {"F1": 2.0, "F2": 1.0, "F3": 1.0}
    assert any("failed (FileNotFoundError" in w and "every item was graded against the executed notebook" in w
               for w in auto.warnings)


def test_a_cell_that_raises_is_recorded_and_later_cells_run(tmp_path, toyfull):
    p = write_notebook(tmp_path / "raises.ipynb", [HEAD + DOUBLE, "result = 1 / 0\n", TOTAL, "raise ValueError('oops')\n",
                                                   HALVE])
    res = grade_file(p, toyfull, opts=Options(mode="full"))
    assert _points(res) == {"F1": 2.0, "F2": 1.0, "F3": 1.0}
    assert "cell 2: ZeroDivisionError: division by zero (full mode: the next cells still ran)" in res.warnings
    cells = res.notebook["cells"]
    assert [c["execution_count"] for c in cells] == [1, 2, 3, 4, 5]
    errors = [o for o in cells[1]["outputs"] if o["output_type"] == "error"]
    assert errors[0]["ename"] == "ZeroDivisionError" and any("cell 2" in t for t in errors[0]["traceback"])
    assert cells[3]["outputs"][-1]["evalue"] == "oops"
    assert cells[2]["outputs"][0]["text"] == "total 11.0\n"


def test_a_value_the_notebook_failed_to_compute_is_explained(tmp_path, toyfull):
    p = write_notebook(tmp_path / "missing.ipynb", [HEAD + DOUBLE, HALVE])
    f2 = _items(grade_file(p, toyfull))["F2"]
    assert f2.points == 0 and "`doubled_total` is not defined: the rubric reads the value your notebook computes" \
        in f2.message
    p = write_notebook(tmp_path / "failed.ipynb", [HEAD + DOUBLE, "doubled_total = float(double(W).sum())\n", HALVE])
    f2 = _items(grade_file(p, toyfull))["F2"]
    assert f2.points == 0
    assert "cell 2: `doubled_total = float(double(W).sum())` failed (NameError: name 'W' is not defined)" in f2.message


def test_a_gigabyte_print_is_capped_inside_the_worker(tmp_path):
    # making a 1 GiB string takes seconds on a loaded machine: this rubric gives a cell a minute
    text = (TOY / "toyfull.yaml").read_text().replace("cell_timeout_s: 2,", "cell_timeout_s: 60,")
    (tmp_path / "toyfull-slow.yaml").write_text(text)
    toyfull = load_rubric(tmp_path / "toyfull-slow.yaml")
    cap = toyfull.limits.to_limits().cell_output_kb * 1024
    p = write_notebook(tmp_path / "flood.ipynb", [HEAD + DOUBLE, "print('x' * 2**30)\nprint('after')\n", TOTAL, HALVE])
    grade_file(p, toyfull, opts=Options(mode="full"))  # answer keys and zygote ready: measure only the grading
    tracemalloc.start()
    try:
        res = grade_file(p, toyfull, opts=Options(mode="full"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, f"the grader allocated {peak >> 20} MiB for a 1 GiB print"
    assert _points(res) == {"F1": 2.0, "F2": 1.0, "F3": 1.0}
    outs = res.notebook["cells"][1]["outputs"]
    kept = [o["text"] for o in outs if o["output_type"] == "stream" and not o["text"].lstrip().startswith("[dlgrade]")]
    assert sum(map(len, kept)) <= cap and set("".join(kept)) == {"x"}
    note = outs[-1]["text"]
    assert f"{2**30 + 1 + len('after') + 1 - cap:,} more characters of output were not kept" in note


def test_an_infinite_loop_cell_is_stopped_and_later_cells_run(tmp_path, toyfull):
    p = write_notebook(tmp_path / "loop.ipynb", [
        HEAD + DOUBLE, "while True:\n    pass\n",
        "while True:  # swallows the first stop\n    try:\n        pass\n    except BaseException:\n        pass\n",
        TOTAL, HALVE])
    t0 = time.monotonic()
    res = grade_file(p, toyfull, opts=Options(mode="full"))
    assert time.monotonic() - t0 < 20
    assert _points(res) == {"F1": 2.0, "F2": 1.0, "F3": 1.0}
    assert "cell 2: took longer than 2 s and was stopped (full mode: the next cells still ran)" in res.warnings
    assert "cell 3: took longer than 2 s and was stopped (full mode: the next cells still ran)" in res.warnings
    assert [c["metadata"]["dlgrade"]["status"] for c in res.notebook["cells"]] == ["ok", "timeout", "timeout", "ok", "ok"]


@pytest.mark.parametrize("death, why", [
    ("import os\nos._exit(3)\n", "exit code 3 in this cell"),
    ("import ctypes\nctypes.string_at(0)\n", "in this cell"),  # a segfault
    ("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass\n",
     "it ran past its time limit of 2 s and did not stop, so the worker was killed"),
], ids=["os_exit", "segfault", "ignores-the-limit"])
def test_a_dead_worker_gives_no_marks_for_what_it_did_not_reach(tmp_path, toyfull, death, why):
    p = write_notebook(tmp_path / "dies.ipynb", [HEAD + DOUBLE, TOTAL, death, HALVE])
    res = grade_file(p, toyfull, opts=Options(mode="full"))
    assert res.score == 0
    for item in res.items:
        assert item.status == ItemStatus.FAILED
        assert "not graded: the notebook stopped at cell 3: " in item.message and why in item.message
        assert "later cells did not run" in item.message
    statuses = [c["metadata"]["dlgrade"]["status"] for c in res.notebook["cells"]]
    assert statuses[:2] == ["ok", "ok"] and statuses[2] in ("crashed", "timeout") and statuses[3] == "not_run"


def test_the_executed_notebook_is_written_beside_the_results(tmp_path, toyfull):
    cls = tmp_path / "class"
    cls.mkdir()
    write_notebook(cls / "ann.ipynb", [HEAD + DOUBLE, "print('<script>alert(1)</script>')\n'<b>bold</b>'\n",
                                       "1 / 0\n", TOTAL, HALVE], markdown={0: "# Ann's notebook"})
    write_notebook(cls / "ben.ipynb", [HEAD + DOUBLE, HALVE])
    out = tmp_path / "executed"
    summary = run_batch(cls, toyfull, db_path=tmp_path / "g.sqlite", opts=Options(mode="full"), workers=1,
                        progress="quiet", executed_dir=out)
    assert summary.graded == 2
    ann = out / "ann.executed.ipynb"
    nb = nbformat.read(ann, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source == "# Ann's notebook"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[1].outputs[0] == {"output_type": "stream", "name": "stdout", "text": "<script>alert(1)</script>\n"}
    assert code[1].outputs[1].data == {"text/plain": "'<b>bold</b>'"}  # data as text, never HTML
    assert code[2].outputs[0].output_type == "error" and code[2].outputs[0].ename == "ZeroDivisionError"
    mimes = {m for c in code for o in c.outputs for m in o.get("data", {})}
    assert mimes <= {"text/plain", "image/png"}
    assert (out / "ben.executed.ipynb").is_file()
    with sqlite3.connect(tmp_path / "g.sqlite") as db:  # not kept in the gradebook
        rows = [r for (r,) in db.execute("SELECT result_json FROM results")]
    assert len(rows) == 2 and not any('"nbformat"' in r or "alert(1)" in r for r in rows)
    # graded again without full mode: the stale executed notebook goes
    run_batch(cls, toyfull, db_path=tmp_path / "g.sqlite", opts=Options(mode="slice"), workers=1, progress="quiet",
              executed_dir=out)
    assert not ann.exists()


def test_check_writes_the_executed_notebook(tmp_path, monkeypatch, capsys):
    course = tmp_path / "course"
    (course / "rubrics").mkdir(parents=True)
    shutil.copy(TOY / "toyfull.yaml", course / "rubrics" / "toy-full.yaml")
    monkeypatch.setenv("DLGRADE_COURSE", str(course))  # restored after the test (the CLI sets it too)
    p = write_notebook(tmp_path / "nb.ipynb", [HEAD + DOUBLE, TOTAL, HALVE])
    target = tmp_path / "nb.executed.ipynb"
    assert cli(["--course", str(course), "check", str(p), "-a", "toy-full", "--all-items", "--mode", "full",
                "--executed", str(target)]) == 0
    assert f"executed notebook: {target}" in capsys.readouterr().out.replace("\n", "")
    nb = nbformat.read(target, as_version=4)
    assert nb.cells[1].outputs[0].text == "total 11.0\n"


def test_the_figures_hook_is_a_no_op_until_the_module_exists_and_fills_display_data(tmp_path):
    import importlib.util

    if importlib.util.find_spec("grader.sandbox.worker.figures") is None:
        assert worker_cells._figures_hook() is None  # a build without the figures module
    plt = pytest.importorskip("matplotlib.pyplot")
    from grader.sandbox.worker import figures

    assert worker_cells._figures_hook() is figures.capture
    figures.use_agg()
    plt.plot([1, 2, 3], [1, 4, 9])  # the real capture gives the PNG as bytes: the hook sends base64
    real = worker_cells.Outputs(10**6)
    worker_cells._figure_outputs(figures.capture, real, [10**6])
    (fig,) = real.plain()
    assert fig["type"] == "figure" and base64.b64decode(fig["png"]).startswith(b"\x89PNG\r\n\x1a\n")
    out = worker_cells.Outputs(1000)
    budget = [100]
    worker_cells._figure_outputs(lambda close: [{"png": "iVBORw0KGgo="}, {"png": "x" * 200}], out, budget)
    assert out.plain()[0] == {"type": "figure", "png": "iVBORw0KGgo="} and "figure 2 was not kept" in out.plain()[1]["text"]
    sub = read_submission(write_notebook(tmp_path / "f.ipynb", ["import matplotlib.pyplot as plt\nplt.plot([1, 2])\n"]))
    cells = execution_cells(sub)
    nb = executed_notebook(sub, cells, [{"status": "ok", "seconds": 0.1, "failed": None, "error": None,
                                          "outputs": out.plain()}])
    assert nb["cells"][0]["outputs"][0]["data"] == {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
    nbformat.validate(nbformat.from_dict(nb))


def test_a_value_the_rubric_reads_is_never_provided_code(toyfull):
    from grader.pipeline.keys import ReferenceKeys

    provided = "\n".join(p["source"] for p in ReferenceKeys(toyfull).provided())
    assert "WEIGHTS" in provided and "doubled_total" not in provided

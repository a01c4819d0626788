"""The batch's zygote started before the grader's imports, and the modules a slice job is sent with."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.batch import prestart, run_batch
from grader.model import Options
from grader.pipeline import slice_modules
from grader.pipeline.extract import extract
from grader.pipeline.keys import ReferenceKeys
from grader.pipeline.load import read_submission
from grader.pipeline.plan import make_plan
from grader.rubric import get_rubric, rubric_dir
from grader.sandbox import available_layers
from grader.sandbox import zygote as zmod

ROOT = Path(__file__).resolve().parent.parent
needs_isolation = pytest.mark.skipif("namespaces" not in available_layers(), reason="needs bubblewrap (bwrap)")


@pytest.fixture
def fresh_zygotes():
    zmod.stop_all()
    prestart._early.clear()
    prestart._chosen.clear()
    yield
    zmod.stop_all()
    prestart._early.clear()
    prestart._chosen.clear()


def test_the_command_line_guess(tmp_path):
    grade = prestart._command
    assert grade(["grade", "class", "-a", "signal-propagation"]) == (rubric_dir() / "signal-propagation.yaml", False)
    assert grade(["grade", "class", "--item", "D1", "--assignment", "backprop", "--workers", "2"]) == (
        rubric_dir() / "backprop.yaml", False)
    assert grade(["--course", str(tmp_path), "grade", "class", "-a", "a1", "--unsafe"]) == (
        tmp_path.resolve() / "rubrics" / "a1.yaml", True)
    # anything else starts nothing: another command, a Dask cluster, help, no assignment, a malformed line
    for argv in (["check", "nb.ipynb", "-a", "backprop"], ["grade", "d", "-a", "backprop", "--scheduler", "tcp://h:1"],
                 ["grade", "--help"], ["grade", "d"], ["grade", "d", "-a"], [], ["list"]):
        assert grade(argv) is None, argv
        assert prestart.prestart_command(argv) is None, argv


def test_a_guess_that_cannot_be_read_starts_nothing(tmp_path, fresh_zygotes):
    (tmp_path / "rubrics").mkdir()
    (tmp_path / "rubrics" / "bad.yaml").write_text("reference: [unclosed\n")
    assert prestart.prestart_command(["--course", str(tmp_path), "grade", "d", "-a", "bad"]) is None
    assert prestart.prestart_command(["--course", str(tmp_path), "grade", "d", "-a", "missing"]) is None
    assert not zmod._registry


@needs_isolation
def test_the_batch_grades_with_the_prestarted_zygote(tmp_path, fresh_zygotes):
    """`dlgrade grade` starts the zygote from the command line; the batch finds it and starts no other."""
    klass = tmp_path / "class"
    klass.mkdir()
    for s in ("ann", "ben"):
        shutil.copy(ROOT / "examples" / "signal-propagation" / "alice.ipynb", klass / f"{s}.ipynb")
    thread = prestart.prestart_command(["grade", str(klass), "-a", "signal-propagation", "--item", "D1"])
    assert thread is not None
    summary = run_batch(klass, "signal-propagation", db_path=tmp_path / "gb.sqlite", opts=Options(items=("D1",)),
                        workers=1, progress="quiet")
    assert summary.graded == 2 and summary.failed == 0
    (z,) = zmod._registry.values()
    assert prestart._early == [z] and prestart._chosen == [z]
    assert z.alive() and z.starts == 1  # one zygote, started once, for the guess and the batch
    from grader.batch import Gradebook

    with Gradebook.open(tmp_path / "gb.sqlite", create=False) as gb:
        rows = gb.latest_results("signal-propagation")
    assert sorted(r["student"] for r in rows) == ["ann", "ben"]
    for r in rows:
        (d1,) = [i for i in r["items"] if i["item_id"] == "D1"]
        assert d1["points"] == d1["max_points"] > 0
        assert "zygote" in r["layers"]


@needs_isolation
def test_a_wrong_guess_is_stopped(tmp_path, fresh_zygotes):
    """The guess read a rubric with a data file; the batch's rubric has none: the early zygote is stopped."""
    course = tmp_path / "course"
    (course / "rubrics").mkdir(parents=True)
    (course / "rubrics" / "other.yaml").write_text(
        "assignment: other\nreference: reference.learning_time\ndata_files: [mnist_sevens_nines.npz]\n")
    prestart.prestart_command(["--course", str(course), "grade", "d", "-a", "other"]).join(60)
    (early,) = prestart._early
    assert early.alive() and early.data_files[0].endswith("mnist_sevens_nines.npz")
    thread = prestart.prestart_sandbox(get_rubric("signal-propagation"), Options())
    thread.join(60)
    (chosen,) = prestart._chosen
    assert chosen is not early and chosen.alive() and chosen.data_files == ()
    assert not early.alive() and prestart._early == []


def _submission(tmp_path, source: str):
    path = tmp_path / "signal_propagation.py"
    path.write_text(source)
    return read_submission(path)


def test_a_slice_job_is_sent_the_modules_its_calls_can_import(tmp_path):
    rubric = get_rubric("signal-propagation")
    plan = make_plan(rubric, Options(items=("D1",)), ReferenceKeys(rubric))
    sub = _submission(tmp_path, '''
import numpy as np
from scipy.optimize import brentq

class Table:
    import scipy.linalg  # a class body runs when the class is defined

def _expect(f, q):
    from scipy.special import roots_hermitenorm  # reached: q_map calls it
    z, w = roots_hermitenorm(60)
    return float(np.sum(w * f(np.sqrt(q) * z)) / np.sqrt(2 * np.pi))

def q_map(q, sigma_w, sigma_b):
    return sigma_w ** 2 * _expect(lambda h: np.tanh(h) ** 2, q) + sigma_b ** 2

def q_star(sigma_w, sigma_b):
    return brentq(lambda q: q_map(q, sigma_w, sigma_b) - q, 1e-12, 100.0)

def plot_q_map():
    import matplotlib.pyplot as plt  # not reached by anything graded
    from scipy import stats
    plt.plot([0, 1])
''')
    ex = extract(sub, plan.roots, aliases=plan.aliases, known=plan.provided_names)
    got = slice_modules(plan, ex, ("q_map", "q_star"))
    assert got[0] == "numpy"
    assert {"scipy.optimize", "scipy.special", "scipy.linalg"} <= set(got)
    assert not {m for m in got if m.startswith("matplotlib")} and "scipy.stats" not in got
    # only q_map graded: q_star's brentq is still a top-level import, so it is loaded anyway
    assert "scipy.optimize" in slice_modules(plan, ex, ("q_map",))


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandbox", "unsafe-without-bwrap"])
def test_the_command_leaves_no_temporary_folder(tmp_path, sandboxed):
    """`dlgrade grade` skips the interpreter's teardown, not its exit handlers: the zygote's folders go."""
    import os
    import subprocess
    import sys

    if sandboxed and "namespaces" not in available_layers():
        pytest.skip("needs bubblewrap (bwrap)")
    klass, tmp = tmp_path / "class", tmp_path / "tmp"
    klass.mkdir()
    tmp.mkdir()
    shutil.copy(ROOT / "examples" / "signal-propagation" / "alice.ipynb", klass / "ann.ipynb")
    env = {**os.environ, "TMPDIR": str(tmp)}
    cmd = [sys.executable, "-m", "grader.cli", "grade", str(klass), "-a", "signal-propagation", "--item", "D1",
           "--db", str(tmp_path / "gb.sqlite"), "--workers", "1", "--quiet"]
    if not sandboxed:  # a bwrap that cannot start: the zygote runs in a host folder of its own
        fake = tmp_path / "bin"
        fake.mkdir()
        (fake / "bwrap").write_text("#!/bin/sh\nexit 1\n")
        (fake / "bwrap").chmod(0o755)
        env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"
        cmd.append("--unsafe")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "1 graded" in done.stdout + done.stderr
    assert sorted(p.name for p in tmp.iterdir()) == []

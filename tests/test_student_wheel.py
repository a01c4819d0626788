"""The student's whole set-up is ``pip install dlgrade_check*.whl`` in the release bundle's folder: in a fresh venv
holding only the wheels and their declared dependencies, the reference-filled notebook scores full public marks and
the skeleton zero, through ``dlgrade-check``, ``python -m dlgrade_check``, ``Checker`` in a script and ``check("D1")``
cells run by a kernel. A second assignment's bundle installs beside the first (the shared checker wheel plus one
data wheel each), and both checkers work in the same venv.

Nothing of the checkout is visible there (other folder, no PYTHONPATH): neither ``grader`` nor ``reference``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import nbformat
import pytest

from grader.authoring import skeleton
from grader.authoring.release import build
from grader.rubric import get_rubric

ASSIGNMENT = "signal-propagation"  # numpy + scipy: the venv needs no torch
PUBLIC = ["D1", "D3", "D4"]
SECOND = "learning-time"  # numpy + scipy too


def _run(cmd, ok=(0,), **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, **kw)
    assert out.returncode in ok, f"{cmd}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


def _script(nb) -> str:
    """The notebook's code cells as one script, ending with a JSON line of ``check.all()``."""
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    return "\n\n".join(code) + ("\n\nimport json\nrep = check.all()\nprint(rep)\nprint('REPORT', json.dumps("
                                "{'passed': rep.passed, 'score': rep.score, 'max': rep.max_score, "
                                "'items': [i.item_id for i in rep.result.items]}))\n")


@pytest.mark.slow
def test_wheel_is_the_whole_setup(tmp_path):
    rubric = get_rubric(ASSIGNMENT)
    bundle = build(rubric, tmp_path / "bundle")
    wheels = sorted(bundle.glob("dlgrade_check*.whl"))  # what `pip install dlgrade_check*.whl` there installs
    assert [w.name.split("-")[0] for w in wheels] == ["dlgrade_check", "dlgrade_check_signal_propagation"]
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    py, bindir = venv / "bin" / "python", venv / "bin"
    t0 = time.monotonic()
    _run([str(py), "-m", "pip", "install", "-q", *map(str, wheels)])
    print(f"wheels {', '.join(f'{w.stat().st_size / 1024:.0f} KiB' for w in wheels)}, installed with their "
          f"dependencies in {time.monotonic() - t0:.0f} s")
    _run([str(py), "-m", "pip", "check"])
    # the next assignment's bundle, installed the same way into the same venv: both stay
    second = build(get_rubric(SECOND), tmp_path / "bundle2")
    wheels2 = sorted(second.glob("dlgrade_check*.whl"))
    assert wheels2[0].name == wheels[0].name  # the same shared checker
    _run([str(py), "-m", "pip", "install", "-q", *map(str, wheels2)], cwd=second)
    _run([str(py), "-m", "pip", "check"])
    listed = _run([str(py), "-m", "pip", "list", "--format", "json"]).stdout
    names = sorted(d["name"] for d in json.loads(listed) if d["name"].startswith("dlgrade"))
    assert names == ["dlgrade-check", "dlgrade-check-learning-time", "dlgrade-check-signal-propagation"], names
    work = tmp_path / "student"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DLGRADE_COURSE")}
    env["DLGRADE_CACHE"] = str(tmp_path / "cache")
    where = _run([str(py), "-c", "import importlib.util as u, dlgrade_check; print(dlgrade_check.__file__); "
                  "print(u.find_spec('grader'), u.find_spec('reference'))"], cwd=work, env=env).stdout
    assert "site-packages" in where and "None None" in where, where

    worked = skeleton.build_notebook(rubric, solutions=True)
    blank = skeleton.build_notebook(rubric)
    (work / "worked.ipynb").write_text(nbformat.writes(worked))
    (work / "blank.ipynb").write_text(nbformat.writes(blank))

    # the command line, both spellings
    for cmd in ([str(bindir / "dlgrade-check")], [str(py), "-m", "dlgrade_check"]):
        res = json.loads(_run([*cmd, "worked.ipynb", "--json"], cwd=work, env=env).stdout)
        assert [i["item_id"] for i in res["items"]] == PUBLIC
        assert all(i["status"] == "passed" and i["points"] == i["max_points"] for i in res["items"]), res["items"]
        assert not res["warnings"], res["warnings"]
        res = json.loads(_run([*cmd, "blank.ipynb", "--json"], cwd=work, env=env).stdout)
        assert [i["points"] for i in res["items"]] == [0, 0, 0] and res["error"] is None
    table = _run([str(bindir / "dlgrade-check"), "worked.ipynb", "D3"], cwd=work, env=env).stdout
    assert "D3" in table and "D1 " not in table and "score 2 / 2" in table
    bad = _run([str(bindir / "dlgrade-check"), "nowhere.ipynb"], ok=(2,), cwd=work, env=env)
    assert bad.stderr == "dlgrade-check: nowhere.ipynb does not exist\n"

    # the second assignment's checks in the same venv, through its own skeleton's metadata and -a
    lt = get_rubric(SECOND)
    (work / "lt.ipynb").write_text(nbformat.writes(skeleton.build_notebook(lt, solutions=True)))
    res = json.loads(_run([str(bindir / "dlgrade-check"), "lt.ipynb", "--json"], cwd=work, env=env).stdout)
    assert res["assignment"] == SECOND and res["items"], res
    assert all(i["status"] == "passed" for i in res["items"]), res["items"]
    res = json.loads(_run([str(bindir / "dlgrade-check"), "blank.ipynb", "-a", ASSIGNMENT, "--json"], cwd=work,
                          env=env).stdout)
    assert res["assignment"] == ASSIGNMENT and [i["points"] for i in res["items"]] == [0, 0, 0]
    both = _run([str(py), "-c", "from dlgrade_check import Checker; a = Checker('signal-propagation'); "
                 f"b = Checker({SECOND!r}); print(a.items, b.items, a.problem, b.problem)"], cwd=work, env=env).stdout
    assert both.startswith(f"{PUBLIC} [") and both.rstrip().endswith("None None"), both

    # Checker driven by a script whose functions live in __main__
    (work / "worked.py").write_text(_script(worked))
    (work / "blank.py").write_text(_script(blank))
    out = _run([str(py), "worked.py"], cwd=work, env=env).stdout
    rep = json.loads(out.split("REPORT ", 1)[1])
    assert rep == {"passed": True, "score": 9, "max": 9, "items": PUBLIC}, out
    out = _run([str(py), "blank.py"], cwd=work, env=env).stdout
    rep = json.loads(out.split("REPORT ", 1)[1])
    assert rep["score"] == 0 and not rep["passed"] and "not implemented yet" in out

    # check("D1") cells in a real kernel (Jupyter, Lab, VS Code and Colab all run ipykernel)
    _run([str(py), "-m", "pip", "install", "-q", "ipykernel", "nbclient"])
    runner = ("import sys, nbformat, nbclient\nnb = nbformat.read(sys.argv[1], as_version=4)\n"
              "nbclient.NotebookClient(nb, kernel_name='python3', timeout=600).execute()\n"
              "nbformat.write(nb, sys.argv[2])\n")
    for name in ("worked", "blank"):
        _run([str(py), "-c", runner, f"{name}.ipynb", f"{name}.out.ipynb"], cwd=work, env=env)
    for name, want in (("worked", "passed"), ("blank", "failed")):
        nb = nbformat.read(work / f"{name}.out.ipynb", as_version=4)
        shown = {c.source: c.outputs for c in nb.cells if c.cell_type == "code" and c.source.startswith("check")}
        assert list(shown) == [f'check("{i}")' for i in PUBLIC] + ["check.all()"]
        for src, outputs in shown.items():
            (data,) = [o["data"] for o in outputs if o.get("output_type") == "execute_result"]
            html, text = data["text/html"], data["text/plain"]
            ids = PUBLIC if src == "check.all()" else [src[7:9]]
            assert html.count(f">{want}</span>") == len(ids), (src, html)
            assert f"self-check of {', '.join(ids)}" in text
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert not first.outputs, first.outputs  # the set-up cell says nothing when all is well

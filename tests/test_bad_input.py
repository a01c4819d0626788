"""Every way a submission can go wrong is a scored, explained failure of that item.

Each test breaks one function of an otherwise correct toy submission and
checks (a) the broken item scores 0 with a clear reason, (b) the other items
are still graded normally.
"""
from __future__ import annotations

import json
import time

import pytest

from helpers import replace_function, write_notebook
from grader.pipeline import Options, grade_file

OTHER_ITEMS_FULL = {"T2": 1.0, "T3": 1.0, "T4": 1.0}


def _grade_with_double(tmp_path, toy_rubric, toy_source, body: str, **kw):
    src = replace_function(toy_source, "double", body)
    path = tmp_path / "student.py"
    path.write_text(src)
    return grade_file(path, toy_rubric, **kw)


def _items(res):
    return {i.item_id: i for i in res.items}


def _others_fine(res):
    items = _items(res)
    for item_id, pts in OTHER_ITEMS_FULL.items():
        assert items[item_id].points == pts, (item_id, items[item_id].message)


@pytest.mark.parametrize("body, reason", [
    ("def double(x):\n    raise ValueError('boom')\n", "raised ValueError: boom"),
    ("def double(x):\n    return np.ones(7)\n", "wrong shape: got (7,), expected (3,)"),
    ("def double(x):\n    return np.asarray(x) * np.nan\n", "NaN or inf"),
    ("def double(x):\n    return 'two'\n", "expected numbers, got a str"),
    ("def double(x):\n    return object()\n", "expected numbers, got a object object"),
    ("def double(x):\n    import sys\n    sys.exit(3)\n", "sys.exit(3)"),
    ("def double(x):\n    return np.ones(10**11)\n", "out of memory"),
    ("def double(x):\n    while True:\n        print('spam' * 1000)\n", "output limit exceeded"),
    ("def double(x):\n    return lambda: 1\n", "expected numbers"),
], ids=["raises", "wrong-shape", "nan", "string", "object", "sys-exit", "memory", "print-flood", "lambda"])
def test_failure_is_scored_and_explained(tmp_path, toy_rubric, toy_source, body, reason):
    res = _grade_with_double(tmp_path, toy_rubric, toy_source, body)
    t1 = _items(res)["T1"]
    assert t1.points == 0 and t1.status == "failed"
    assert reason in t1.message, t1.message
    _others_fine(res)


def test_missing_function(tmp_path, toy_rubric, toy_source):
    src = replace_function(toy_source, "double", "")
    path = tmp_path / "student.py"
    path.write_text(src)
    t1 = _items(grade_file(path, toy_rubric))["T1"]
    assert t1.points == 0 and "`double` is not defined (also looked for: twice)" in t1.message


def test_alias_is_accepted(tmp_path, toy_rubric, toy_source):
    src = replace_function(toy_source, "double", "def twice(x):\n    return 2 * np.asarray(x)\n")
    path = tmp_path / "student.py"
    path.write_text(src)
    assert _items(grade_file(path, toy_rubric))["T1"].points == 2


def test_infinite_loop_times_out_and_rest_is_graded(tmp_path, toy_rubric, toy_source):
    t0 = time.monotonic()
    res = _grade_with_double(tmp_path, toy_rubric, toy_source, "def double(x):\n    while True:\n        pass\n")
    elapsed = time.monotonic() - t0
    t1 = _items(res)["T1"]
    assert t1.points == 0 and "time limit" in t1.message
    # neutral: the limit and that it was exceeded, no guess at the cause (a slow correct method reads this too)
    limit = toy_rubric.limits.timeout_s
    assert f"took longer than {limit:.0f} s, this call's time limit" in t1.message
    assert "infinite loop" not in t1.message
    # the other two cases of the same check are skipped, not each waited for
    assert [c.status for c in t1.checks[0].cases] == ["timeout", "skipped", "skipped"]
    assert elapsed < 4 * 2 + 10
    _others_fine(res)


@pytest.mark.parametrize("call", ["os._exit(0)", "os._exit(7)", "os.kill(os.getpid(), 9)"])
def test_process_killers(tmp_path, toy_rubric, toy_source, call):
    res = _grade_with_double(tmp_path, toy_rubric, toy_source, f"def double(x):\n    import os\n    {call}\n")
    t1 = _items(res)["T1"]
    assert t1.points == 0 and t1.checks[0].cases[0].status == "crashed"
    assert "exit" in t1.message or "killed" in t1.message
    _others_fine(res)


def test_syntax_error_in_one_cell(tmp_path, toy_rubric, toy_source):
    bad = "def double(x):\n    sigma = \n    return 2 * x\n"
    rest = replace_function(toy_source, "double", "")
    path = write_notebook(tmp_path / "nb.ipynb", [rest, bad])
    res = grade_file(path, toy_rubric)
    assert any("cell 2: syntax error on line 2" in w for w in res.warnings), res.warnings
    assert _items(res)["T1"].points == 0
    _others_fine(res)


def test_failing_import_is_a_warning(tmp_path, toy_rubric, toy_source):
    path = write_notebook(tmp_path / "nb.ipynb", ["import nma_helpers_not_installed\n!pip install foo\n%matplotlib inline",
                                                  toy_source])
    res = grade_file(path, toy_rubric)
    assert any("nma_helpers_not_installed" in w for w in res.warnings)
    assert res.score == res.max_score


@pytest.mark.parametrize("content, reason", [
    (b"{not json", "not valid JSON"),
    (json.dumps({"nbformat": 99, "nbformat_minor": 0, "cells": [], "metadata": {}}).encode(), "nbformat version 99"),
    (b"", "is empty"),
    (b"   \n", "is empty"),
], ids=["not-json", "wrong-nbformat", "empty", "blank"])
def test_unreadable_notebook_is_a_scored_failure(tmp_path, toy_rubric, content, reason):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    res = grade_file(path, toy_rubric)
    assert res.error and reason in res.error
    assert res.score == 0 and all(i.status in ("not_run", "manual") for i in res.items)
    assert all(reason in i.message for i in res.items if i.status == "not_run")


def test_directory_submissions(tmp_path, toy_rubric, toy_source):
    empty = tmp_path / "alice"
    empty.mkdir()
    res = grade_file(empty, toy_rubric)
    assert res.error and "no .ipynb or .py file" in res.error
    bob = tmp_path / "bob"
    bob.mkdir()
    (bob / "hw.py").write_text(toy_source)
    res = grade_file(bob, toy_rubric)
    assert res.student == "bob" and res.score == res.max_score


def test_sandbox_hides_grader_and_network(tmp_path, toy_rubric, toy_source):
    from grader.sandbox import available_layers

    if "namespaces" not in available_layers():
        pytest.skip("bubblewrap not available")
    body = ("def double(x):\n"
            "    import os, socket, importlib.util\n"
            "    found = [importlib.util.find_spec(m) is not None for m in ('reference', 'grader')]\n"
            "    rub = os.path.exists(" + repr(str(toy_rubric.path)) + ")\n"
            "    try:\n"
            "        socket.create_connection(('127.0.0.1', 22), timeout=1); net = True\n"
            "    except OSError:\n"
            "        net = False\n"
            "    raise RuntimeError(f'probe modules={found} rubric={rub} net={net} root={os.getuid() == 0}')\n")
    res = _grade_with_double(tmp_path, toy_rubric, toy_source, body)
    msg = _items(res)["T1"].checks[0].cases[0].message
    assert "probe modules=[False, False] rubric=False net=False" in msg, msg
    if "uid" in available_layers():
        assert "root=False" in msg


def test_fork_bomb_is_contained(tmp_path, toy_rubric, toy_source):
    from grader.sandbox import available_layers

    if "uid" not in available_layers():
        pytest.skip("needs the uid layer (root + bubblewrap + setpriv)")
    body = ("def double(x):\n"
            "    import os, time\n"
            "    n = 0\n"
            "    try:\n"
            "        while n < 5000:\n"
            "            if os.fork() == 0:\n"
            "                time.sleep(60); os._exit(0)\n"
            "            n += 1\n"
            "    except OSError:\n"
            "        pass\n"
            "    return np.asarray(x) * 0 + n\n")
    res = _grade_with_double(tmp_path, toy_rubric, toy_source, body)
    case = _items(res)["T1"].checks[0].cases[0]
    assert case.status == "ok" and "got 5" in case.message and "5000" not in case.message
    _others_fine(res)


def test_public_only(tmp_path, toy_rubric, toy_source):
    path = tmp_path / "s.py"
    path.write_text(toy_source)
    res = grade_file(path, toy_rubric, opts=Options(public_only=True))
    assert sorted(i.item_id for i in res.items) == ["T1", "T3"]


def test_folder_of_several_notebooks_is_one_submission(tmp_path, toy_rubric, toy_source):
    """E.g. a student's three Neuromatch tutorial notebooks, read in name order."""
    import toyref
    import inspect

    folder = tmp_path / "erin"
    folder.mkdir()
    head = "import numpy as np\nSCALE = np.array([1.0, 2.0, 3.0])\n"
    write_notebook(folder / "tutorial1.ipynb", [head, inspect.getsource(toyref.double), inspect.getsource(toyref.pair)])
    write_notebook(folder / "tutorial2.ipynb", [head, inspect.getsource(toyref.Counter),
                                                "def noisy_mean(n, rng):\n    raise ValueError('later')\n",
                                                inspect.getsource(toyref.noisy_mean)])
    res = grade_file(folder, toy_rubric)
    assert res.student == "erin" and res.score == res.max_score, [i.message for i in res.items]
    assert any(w.startswith("tutorial2.ipynb cell 4: `noisy_mean` is defined again (first in tutorial2.ipynb cell 3)")
               for w in res.warnings), res.warnings


def test_placeholder_left_in_function(tmp_path, toy_rubric, toy_source):
    res = _grade_with_double(tmp_path, toy_rubric, toy_source, "def double(x):\n    ...\n")
    assert "None (a missing `return`?)" in _items(res)["T1"].message
    res = _grade_with_double(tmp_path, toy_rubric, toy_source, "def double(x):\n    return ...\n")
    assert "placeholder is still there" in _items(res)["T1"].message


def test_a_timed_out_function_is_not_called_again(tmp_path, toy_source):
    """Two checks call `double`: an infinite loop in it costs one timeout, not one per check."""
    import yaml

    from helpers import TOY
    from grader.rubric import load_rubric

    raw = yaml.safe_load((TOY / "toy.yaml").read_text())
    t1 = next(i for i in raw["items"] if i["id"] == "T1")
    again = {**t1["checks"][0], "name": "double again", "cases": [{"args": [{"array": [5.0]}]}]}
    t1["checks"].append(again)
    (tmp_path / "toy2.yaml").write_text(yaml.safe_dump(raw))
    rubric = load_rubric(tmp_path / "toy2.yaml")
    t0 = time.monotonic()
    res = _grade_with_double(tmp_path, rubric, toy_source, "def double(x):\n    while True:\n        pass\n")
    elapsed = time.monotonic() - t0
    checks = {c.name: c for c in _items(res)["T1"].checks}
    assert [c.status for c in checks["double on arrays"].cases] == ["timeout", "skipped", "skipped"]
    skipped = checks["double again"].cases[0]
    assert skipped.status == "skipped" and "`double` timed out earlier in this submission" in skipped.message
    assert elapsed < 4 + 15  # one timeout of 4 s, not two
    _others_fine(res)


def test_an_old_copy_in_the_folder_is_not_graded_over_the_final_one(tmp_path, toy_rubric, toy_source):
    """``old_hw.ipynb`` is newer and comes after ``hw.ipynb`` by name: read together, its wrong `double` won."""
    import os

    folder = tmp_path / "zoe"
    folder.mkdir()
    write_notebook(folder / "hw.ipynb", [toy_source])
    wrong = replace_function(toy_source, "double", "def double(x):\n    return 3.0 * np.asarray(x)\n")
    write_notebook(folder / "old_hw.ipynb", [wrong])
    os.utime(folder / "hw.ipynb", (1000, 1000))
    res = grade_file(folder, toy_rubric)
    assert res.score == res.max_score, [i.message for i in res.items]
    assert res.files == ("hw.ipynb",) and res.ignored == ("old_hw.ipynb",)
    assert any(w.startswith("old_hw.ipynb: named like a draft") for w in res.warnings), res.warnings


def test_a_notebook_made_for_another_assignment_is_warned_about(tmp_path, toy_rubric, toy_source):
    path = write_notebook(tmp_path / "nb.ipynb", [toy_source])
    nb = json.loads(path.read_text())
    nb["metadata"]["dlgrade"] = {"assignment": "backprop"}
    path.write_text(json.dumps(nb))
    res = grade_file(path, toy_rubric)
    assert res.declared_assignment == "backprop" and res.score == res.max_score
    assert res.warnings[0] == "WRONG ASSIGNMENT? this notebook's metadata says it is backprop, but it was graded as toy"
    nb["metadata"]["dlgrade"] = {"assignment": "toy"}
    path.write_text(json.dumps(nb))
    res = grade_file(path, toy_rubric)
    assert res.declared_assignment is None and not res.warnings

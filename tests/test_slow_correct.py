"""A slow but correct solution within the stated limits loses nothing (issue 12, "Limits are stated").

The skeleton tells the student how long each function may take in grading; a
function that needs most of that time, in every call, must get every point,
with no warning that reads as blame.
"""
from __future__ import annotations

import time

from helpers import replace_function, write_notebook

from grader.model import Options
from grader.pipeline import grade_file


def test_a_slow_correct_function_within_the_limit_gets_full_marks(tmp_path, toy_rubric, toy_source):
    limit = toy_rubric.limits.timeout_s  # per call: what the skeleton states
    pause = 0.6 * limit
    slow = ("def double(x):\n    import time\n    time.sleep(%r)  # a slow method, still correct\n"
            "    return 2.0 * np.asarray(x)\n" % pause)
    path = write_notebook(tmp_path / "slow.ipynb", [replace_function(toy_source, "double", slow)])
    t0 = time.monotonic()
    res = grade_file(path, toy_rubric, opts=Options(items=("T1",)))
    took = time.monotonic() - t0
    (t1,) = [i for i in res.items if i.item_id == "T1"]
    n_cases = sum(len(c.cases) for c in toy_rubric.item("T1").checks)
    assert took >= n_cases * pause  # it really was slow, every call
    assert t1.points == t1.max_points == 2, t1.message
    assert not any("time" in w.lower() or "slow" in w.lower() for w in res.warnings), res.warnings
    assert "limit" not in t1.message.lower()


def test_the_same_function_past_the_limit_is_told_the_limit_not_blamed(tmp_path, toy_rubric, toy_source):
    limit = toy_rubric.limits.timeout_s
    slow = ("def double(x):\n    import time\n    time.sleep(%r)\n    return 2.0 * np.asarray(x)\n" % (limit + 2))
    path = write_notebook(tmp_path / "slower.ipynb", [replace_function(toy_source, "double", slow)])
    res = grade_file(path, toy_rubric, opts=Options(items=("T1",)))
    (t1,) = [i for i in res.items if i.item_id == "T1"]
    assert t1.points == 0
    assert f"{limit:g} s" in t1.message and "infinite" not in t1.message.lower(), t1.message

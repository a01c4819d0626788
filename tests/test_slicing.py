"""Dependency slicing through the whole pipeline: fair to correct styles, honest about what is missing."""
from __future__ import annotations

from helpers import write_notebook

from grader.pipeline import Options, grade_file


def _item(res, item_id):
    return next(i for i in res.items if i.item_id == item_id)


def test_top_level_helpers_are_graded_like_definitions(tmp_path, toy_rubric):
    p = write_notebook(tmp_path / "styled.ipynb", [
        "import numpy as np\nk = np.ones(1)\nk *= 2\n",
        "double = lambda x: k[0] * np.asarray(x)\n",
        "history = [double(i) for i in range(10**7)]  # a long experiment the grader must not run\n",
        "ops = {}\nops['mul'] = np.multiply\ndef pair(a, b):\n    return np.asarray(a) + b, ops['mul'](a, b)\n"])
    res = grade_file(p, toy_rubric, opts=Options(items=("T1", "T2")))
    assert [(i.item_id, i.points, i.max_points) for i in res.items] == [("T1", 2.0, 2.0), ("T2", 1.0, 1.0)]
    assert res.seconds < 30  # the 10**7 loop was dropped, not run


def test_a_failed_statement_is_reported_and_no_mistake_is_named(tmp_path, toy_rubric):
    p = write_notebook(tmp_path / "broken.ipynb", [
        "import numpy as np\nfactor = 3.0\n",
        "factor -= float(open('calibration.txt').read())  # meant to bring it to 2\n",
        "def double(x):\n    return factor * np.asarray(x)\n"])
    res = grade_file(p, toy_rubric, opts=Options(items=("T1",)))
    t1 = _item(res, "T1")
    assert t1.points == 0.0
    assert t1.mistakes == []  # 3x is the "tripled" mistake, but the evidence is incomplete
    assert "cell 2: `factor -= float(open('calibration.txt').read())" in t1.message
    assert "FileNotFoundError" in t1.message and "`double` needs `factor`" in t1.message
    # the same 3x with complete code is the known mistake
    p = write_notebook(tmp_path / "tripled.ipynb", ["import numpy as np\nfactor = 3.0\n",
                                                    "def double(x):\n    return factor * np.asarray(x)\n"])
    assert _item(grade_file(p, toy_rubric, opts=Options(items=("T1",))), "T1").mistakes


def test_a_missing_global_is_named(tmp_path, toy_rubric):
    p = write_notebook(tmp_path / "missing.ipynb", ["import numpy as np\n",
                                                    "def double(x):\n    return SCALE_FACTOR * np.asarray(x)\n"])
    t1 = _item(grade_file(p, toy_rubric, opts=Options(items=("T1",))), "T1")
    assert "`double` reads `SCALE_FACTOR`, which the notebook never defines" in t1.message


def test_a_slow_kept_statement_is_stopped_and_blamed(tmp_path, toy_rubric):
    p = write_notebook(tmp_path / "slow.ipynb", [
        "import numpy as np\nimport time\n",
        "def calibrate():\n    while True:\n        pass\nscale = calibrate()\n",
        "def double(x):\n    return scale * np.asarray(x)\n",
        "def pair(a, b):\n    return np.asarray(a) + b, np.asarray(a) * b\n"])
    res = grade_file(p, toy_rubric, opts=Options(items=("T1", "T2")))
    t1, t2 = _item(res, "T1"), _item(res, "T2")
    assert t2.points == t2.max_points  # the rest is graded
    assert "cell 2: `scale = calibrate()` failed (took longer than 4 s and was stopped); `double` needs `scale`" \
        in t1.message
    assert res.seconds < 20


def test_a_statement_that_swallows_the_stop_once_is_stopped_again():
    """The per-statement limit re-fires (the same Alarm as full mode's cells): one bare except is not enough."""
    import subprocess
    import sys

    code = ("from grader.sandbox.worker.interpreter import load_definitions\n"
            "src = 'try:\\n    while True:\\n        pass\\nexcept BaseException:\\n    pass\\nwhile True:\\n    pass\\n'\n"
            "w = load_definitions([{'label': 'cell 2', 'source': src, 'id': 7}, "
            "{'label': 'cell 3', 'source': 'ok = 1\\n', 'id': 8}], ns := {}, 0.3)\n"
            "print(w[0]['id'], w[0]['error'], ns['ok'], len(w))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "7 took longer than 0.3 s and was stopped 1 1", out.stderr

"""The sandbox's own contract: plain data back, layers reported, isolation required for grading."""
from __future__ import annotations

import numpy as np
import pytest

import grader.sandbox as sandbox
from grader.pipeline import Options, grade_file
from grader.sandbox import IsolationUnavailable, Limits, run_job


def _stmt(src):
    return [{"label": "cell 1", "source": src, "kind": "def"}]


def test_plain_round_trip_of_results():
    src = ("import numpy as np\n"
           "def f(a):\n"
           "    return {'x': a * 2, 'n': 3, 'ok': True, 's': 'hi', 't': (np.float64(1.5), [1, 2]), 'none': None}\n")
    calls = [{"id": "c0", "steps": [{"let": "o", "call": "f", "args": [{"__dl__": "nd", "key": "a"}]}], "returns": "o"}]
    res = run_job(_stmt(src), calls, {"a": np.arange(3.0)}, require_isolation=False)
    v = res.outcomes["c0"].value
    assert np.array_equal(v["x"], [0.0, 2.0, 4.0]) and v["n"] == 3 and v["ok"] is True
    assert v["t"] == [1.5, [1, 2]] and v["none"] is None and res.outcomes["c0"].status == "ok"


def test_torch_values_come_back_as_arrays():
    src = ("import torch\n"
           "def f():\n"
           "    net = torch.nn.Sequential(torch.nn.Linear(2, 3, bias=False), torch.nn.ReLU())\n"
           "    return torch.ones(2, requires_grad=True) * 2, net\n")
    calls = [{"id": "c0", "steps": [{"let": "o", "call": "f"}], "returns": "o"}]
    res = run_job(_stmt(src), calls, {}, require_isolation=False)
    t, net = res.outcomes["c0"].value
    assert isinstance(t, np.ndarray) and t.tolist() == [2.0, 2.0]
    assert net["__module__"] == "Sequential" and [x["type"] for x in net["leaves"]] == ["Linear", "ReLU"]
    assert net["params"]["0.weight"].shape == (3, 2)


def test_rng_and_instrumented_sgd_in_steps():
    src = ("import torch\n"
           "def draw(rng):\n"
           "    return rng.normal(size=2)\n"
           "def fit(model, opt, loss_fn, x, y):\n"
           "    for _ in range(3):\n"
           "        opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step()\n"
           "    return float(loss)\n")
    calls = [{"id": "c0", "steps": [{"let": "o", "call": "draw", "args": [{"__dl__": "rng", "seed": 5}]}], "returns": "o"},
             {"id": "c1", "steps": [{"torch_seed": 0},
                                    {"let": "m", "call": "torch.nn.Linear", "args": [2, 1]}], "returns": "m"}]
    res = run_job(_stmt(src), calls, {}, require_isolation=False)
    assert np.allclose(res.outcomes["c0"].value, np.random.default_rng(5).normal(size=2))
    # `torch.nn.Linear` is reachable only through the submission's own `import torch`
    assert res.outcomes["c1"].status == "ok"


def test_isolation_is_required_for_grading(monkeypatch, tmp_path, toy_rubric, toy_source):
    monkeypatch.setattr(sandbox, "available_layers", lambda: ("rlimits",))
    p = tmp_path / "s.py"
    p.write_text(toy_source)
    with pytest.raises(IsolationUnavailable, match="--unsafe"):
        grade_file(p, toy_rubric)
    res = grade_file(p, toy_rubric, opts=Options(unsafe=True))
    assert res.layers in (("rlimits",), ("rlimits", "zygote")) and res.score == res.max_score


def test_load_timeout_is_reported():
    src = "import time\ntime.sleep(30)\n"  # not kept by extraction, so give it as a statement directly
    calls = [{"id": "c0", "steps": [{"call": "f"}]}]
    res = run_job([{"label": "cell 1", "source": src, "kind": "import"}], calls, {},
                  limits=Limits(load_timeout_s=1), require_isolation=False)
    o = res.outcomes["c0"]
    assert o.status == "timeout" and "loading your definitions took longer than 1 s" in o.error["message"]


def test_worker_can_use_tmp_and_job_dir():
    src = ("import tempfile, os\n"
           "def f():\n"
           "    with tempfile.NamedTemporaryFile('w', delete=False) as t:\n"
           "        t.write('x')\n"
           "    open('here.txt', 'w').write('y')\n"
           "    return os.path.getsize(t.name) + os.path.getsize('here.txt')\n")
    calls = [{"id": "c0", "steps": [{"let": "o", "call": "f"}], "returns": "o"}]
    res = run_job(_stmt(src), calls, {}, require_isolation=False)
    assert res.outcomes["c0"].value == 2, res.outcomes["c0"].error


def test_python_under_tmp_is_visible(monkeypatch, tmp_path):
    """CI may clone the project (and its venv) under /tmp, which the sandbox replaces by a tmpfs."""
    if "namespaces" not in sandbox.available_layers():
        pytest.skip("bubblewrap not available")
    from grader.sandbox import isolation

    args = isolation.bwrap_args()
    tmpfs = args.index("/tmp", args.index("--tmpfs"))
    for host, _ in isolation.python_binds():
        assert args.index(host, args.index("--ro-bind", tmpfs)) > tmpfs

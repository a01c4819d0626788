"""The sandbox's own contract: plain data back, layers reported, isolation required for grading."""
from __future__ import annotations

import time
from pathlib import Path

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


# ----------------------------------------------------------------------------
# the trust boundary, attacked from inside (needs bubblewrap and root)

needs_uid = pytest.mark.skipif("uid" not in sandbox.available_layers(),
                               reason="boundary attacks need the uid layer (root + bubblewrap)")


@pytest.fixture
def root_secret(tmp_path):
    """A root-only host file (0600 in a 0700 directory)."""
    d = tmp_path / "secret"
    d.mkdir(mode=0o700)
    f = d / "key.txt"
    f.write_text("TOPSECRET-" + "x" * 20)
    f.chmod(0o600)
    return f


def _warm_zygote(src):
    """Start the zygote ``src`` will use before a timed run (its start-up is not the job's)."""
    sandbox.get_zygote(sandbox.preload_for(_stmt(src)), (), sandbox.available_layers())


def _all_text(res) -> str:
    return repr(res)


@needs_uid
@pytest.mark.parametrize("use_zygote", [True, False], ids=["zygote", "fresh"])
def test_symlinks_and_fifos_in_the_job_dir_leak_nothing(root_secret, use_zygote):
    names = ["stdout.txt", "stderr.txt", "load.json", "todo.json", "calls.json", "out/c0.json", "out/c0.npz",
             "out/c1.json", "defs.json", "inputs.npz"]
    src = ("import os\n"
           f"NAMES = {names!r}\n"
           f"TARGET = {str(root_secret)!r}\n"
           "os.makedirs('out', exist_ok=True)\n"
           "for i, n in enumerate(NAMES):\n"
           "    target = TARGET if i % 3 else '/dev/zero'\n"
           "    try:\n"
           "        os.symlink(target, n)\n"
           "    except OSError:\n"
           "        pass\n"
           "os.mkfifo('fifo')\n"
           "def f():\n"
           "    print('hello'); return [sorted(os.listdir('.')), os.path.exists(TARGET)]\n")
    calls = [{"id": "c0", "steps": [{"let": "o", "call": "f"}], "returns": "o"},
             {"id": "c1", "steps": [{"let": "o", "call": "f"}], "returns": "o"}]
    res = run_job(_stmt(src), calls, {}, use_zygote=use_zygote, limits=Limits(timeout_s=5))
    assert res.outcomes["c0"].status == "ok" and res.outcomes["c1"].status == "ok", res
    listing, visible = res.outcomes["c0"].value
    assert "stdout.txt" in listing and "fifo" in listing and visible is False
    assert "TOPSECRET" not in _all_text(res) and res.stdout_tail == "hello\nhello\n"


@needs_uid
def test_fake_progress_does_not_extend_the_deadline():
    src = ("import os, threading, time, struct\n"
           "def spam():\n"
           "    os.write(3, struct.pack('>II', 10**6, 0))  # a frame that keeps arriving, never completes\n"
           "    while True:\n"
           "        for fd in (1, 2, 3):\n"
           "            try:\n"
           "                os.write(fd, b' ' if fd == 3 else b'S c0\\nL\\nD c0\\n')\n"
           "            except OSError:\n"
           "                pass\n"
           "        time.sleep(0.005)\n"
           "def f():\n"
           "    threading.Thread(target=spam, daemon=True).start()\n"
           "    time.sleep(60)\n")
    calls = [{"id": "c0", "steps": [{"call": "f"}]}]
    _warm_zygote(src)
    t0 = time.monotonic()
    res = run_job(_stmt(src), calls, {}, limits=Limits(timeout_s=2))
    elapsed = time.monotonic() - t0
    assert res.outcomes["c0"].status == "timeout" and "2 s" in res.outcomes["c0"].error["message"]
    assert 2 <= elapsed < 2 + 1 + 1.5  # the call's limit +- 1 s, plus starting the sandbox


@needs_uid
def test_budget_is_enforced_while_the_worker_runs():
    src = "import time\ndef f():\n    time.sleep(60)\n"
    calls = [{"id": f"c{i}", "steps": [{"call": "f"}]} for i in range(3)]
    _warm_zygote(src)
    t0 = time.monotonic()
    res = run_job(_stmt(src), calls, {}, limits=Limits(timeout_s=30, budget_s=2))
    assert time.monotonic() - t0 < 2 + 2.5
    assert res.outcomes["c0"].status == "timeout" and "budget" in res.outcomes["c0"].error["message"]
    assert [res.outcomes[c].status for c in ("c1", "c2")] == ["skipped", "skipped"]


@needs_uid
def test_print_flood_is_cut_and_costs_bounded_grader_memory():
    import resource

    src = ("def f():\n"
           "    line = 'y' * 1023 + '\\n'\n"
           "    for _ in range(2**20):  # 1 GiB\n"
           "        print(line, end='')\n")
    calls = [{"id": "c0", "steps": [{"call": "f"}]}]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res = run_job(_stmt(src), calls, {}, limits=Limits(timeout_s=60, file_size_mb=16))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert res.outcomes["c0"].status == "error" and "output limit exceeded" in res.outcomes["c0"].error["message"]
    assert len(res.stdout_tail) <= 2000 and grown_mb < 32


@needs_uid
def test_huge_results_are_refused_not_allocated():
    src = ("import numpy as np\n"
           "def f():\n"
           "    return np.zeros(40 * 2**20 // 8)\n"
           "def g():\n"
           "    return 1\n")
    calls = [{"id": "c0", "steps": [{"let": "o", "call": "f"}], "returns": "o"},
             {"id": "c1", "steps": [{"let": "o", "call": "g"}], "returns": "o"}]
    res = run_job(_stmt(src), calls, {}, limits=Limits(output_mb=8))
    assert res.outcomes["c0"].status == "error" and res.outcomes["c0"].error["type"] == "OutputTooLarge"
    assert res.outcomes["c1"].value == 1


@needs_uid
def test_forged_result_frames_are_refused():
    src = ("import os, json, struct\n"
           "def f():\n"
           "    head = json.dumps({'kind': 'result', 'id': 'c1', 'status': 'ok', 'value': 42, 'payload': []}).encode()\n"
           "    os.write(3, struct.pack('>II', len(head), 0) + head)\n"
           "    return 1\n"
           "def g():\n"
           "    return 2\n")
    calls = [{"id": "c0", "steps": [{"let": "o", "call": "f"}], "returns": "o"},
             {"id": "c1", "steps": [{"let": "o", "call": "g"}], "returns": "o"}]
    res = run_job(_stmt(src), calls, {})
    assert res.outcomes["c0"].status == "crashed" and "malformed" in res.outcomes["c0"].error["message"]
    assert res.outcomes["c1"].value == 2  # run again in a fresh worker, not the forged 42


@needs_uid
@pytest.mark.parametrize("use_zygote", [True, False], ids=["zygote", "fresh"])
def test_nothing_of_the_host_is_visible_inside(use_zygote):
    import grader

    checkout = str(Path(grader.__file__).resolve().parents[1])
    src = ("import os, sys, importlib\n"
           "def f():\n"
           "    seen = {'env': dict(os.environ), 'path': list(sys.path), 'cwd': os.getcwd(), 'cmdlines': []}\n"
           "    for p in os.listdir('/proc'):\n"
           "        if p.isdigit() or p == 'self':\n"
           "            try:\n"
           "                seen['cmdlines'].append(open(f'/proc/{p}/cmdline', 'rb').read().decode('utf-8', 'replace'))\n"
           "            except OSError:\n"
           "                pass\n"
           "    try:\n"
           "        seen['cmdlines'].append(open('/proc/1/cmdline', 'rb').read().decode('utf-8', 'replace'))\n"
           "    except OSError as e:\n"
           "        seen['pid1'] = type(e).__name__\n"
           "    for m in ('grader', 'reference'):\n"
           "        try:\n"
           "            importlib.import_module(m); seen[m] = 'imported'\n"
           "        except ImportError:\n"
           "            seen[m] = 'ImportError'\n"
           "    seen['checkout'] = os.path.exists(" + repr(checkout) + ")\n"
           "    return seen\n")
    calls = [{"id": "c0", "steps": [{"let": "o", "call": "f"}], "returns": "o"}]
    res = run_job(_stmt(src), calls, {}, use_zygote=use_zygote)
    seen = res.outcomes["c0"].value
    assert seen["grader"] == seen["reference"] == "ImportError" and seen["checkout"] is False
    assert seen["cmdlines"], "the worker sees at least its own command line"
    blob = repr(seen)
    assert checkout not in blob and "/work" not in blob and "bwrap" not in blob, blob


@needs_uid
@pytest.mark.parametrize("use_zygote", [True, False], ids=["zygote", "fresh"])
def test_data_files_are_bound_read_only(tmp_path, use_zygote):
    data = tmp_path / "tiny.npz"
    np.savez(data, x=np.arange(4.0))
    src = ("import numpy as np\n"
           "def f(path):\n"
           "    with np.load(path) as z:\n"
           "        total = float(z['x'].sum())\n"
           "    try:\n"
           "        open(path, 'ab').write(b'x'); wrote = True\n"
           "    except OSError:\n"
           "        wrote = False\n"
           "    return [path, total, wrote]\n")
    calls = [{"id": "c0", "steps": [{"let": "o", "call": "f", "args": [{"__dl__": "data_file", "name": "tiny.npz"}]}],
              "returns": "o"}]
    res = run_job(_stmt(src), calls, {}, data_files=[data], use_zygote=use_zygote)
    assert res.outcomes["c0"].value == ["/data/tiny.npz", 6.0, False], res.outcomes["c0"]


@needs_uid
@pytest.mark.parametrize("use_zygote", [True, False], ids=["zygote", "fresh"])
def test_writable_area_has_size_and_inode_caps(use_zygote):
    src = ("import os\n"
           "def files(d):\n"
           "    n = 0\n"
           "    try:\n"
           "        while n < 100000:\n"
           "            open(f'{d}/f{n}', 'w').close(); n += 1\n"
           "    except OSError:\n"
           "        pass\n"
           "    return n\n"
           "def fill(d):\n"
           "    with open(f'{d}/big', 'wb') as f:\n"
           "        for _ in range(64):\n"
           "            f.write(b'x' * 2**20)\n")
    calls = [{"id": f"files{d}", "steps": [{"let": "o", "call": "files", "args": [d]}], "returns": "o"} for d in ("/job", "/tmp")]
    calls += [{"id": f"fill{d}", "steps": [{"call": "fill", "args": [d]}]} for d in ("/job", "/tmp")]
    res = run_job(_stmt(src), calls, {}, use_zygote=use_zygote, limits=Limits(disk_mb=16, inodes=400))
    o = res.outcomes
    assert 100 < o["files/job"].value < 400 and 100 < o["files/tmp"].value < 400, o
    for d in ("/job", "/tmp"):
        assert o[f"fill{d}"].status == "error" and "limit exceeded" in o[f"fill{d}"].error["message"], o[f"fill{d}"]

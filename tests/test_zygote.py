"""The pre-loaded forking sandbox: same outcomes as fresh interpreters, survives its children, restarts."""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from grader.sandbox import DEFAULT_PRELOAD, Limits, available_layers, get_zygote, run_job

SRC = '''
import os, sys, time
import numpy as np
from scipy.special import erf

def ok(x):
    return {"y": np.asarray(x) * 2, "erf": float(erf(0.5)), "s": "hi", "t": (1, None)}

def boom(x):
    raise ValueError("boom %d" % x)

def leave(x):
    sys.exit(3)

def hard_exit(x):
    os._exit(0)

def segfault(x):
    import ctypes
    ctypes.string_at(0)

def whoami(x):
    return [os.getcwd(), sorted(os.listdir(".")), sorted(os.listdir("/tmp"))]

def scribble(x):
    open("left-behind.txt", "w").write("x")
    open("/tmp/left-behind.txt", "w").write("x")
    return x
'''

KINDS = ["ok", "boom", "missing_fn", "leave", "hard_exit", "segfault", "whoami", "scribble"]


def _stmt():
    return [{"label": "cell 1", "source": SRC, "kind": "def"}]


def _calls(i):
    kind = KINDS[i % len(KINDS)]
    return [{"id": f"c{i}", "steps": [{"let": "o", "call": kind, "args": [i]}], "returns": "o"},
            {"id": f"after{i}", "steps": [{"let": "o", "call": "ok", "args": [[i, 1]]}], "returns": "o"}]


def _summary(res):
    out = {}
    for cid, o in res.outcomes.items():
        v = o.value
        if isinstance(v, dict) and "y" in v:
            v = {**v, "y": np.asarray(v["y"]).tolist()}
        out[cid] = (o.status, v, (o.error or {}).get("type"), (o.error or {}).get("message", "")[:60])
    return out


needs_isolation = pytest.mark.skipif("namespaces" not in available_layers(), reason="needs bubblewrap (bwrap)")


def test_twenty_jobs_through_one_zygote_match_fresh_interpreters():
    iso = "namespaces" in available_layers()
    zy = get_zygote(DEFAULT_PRELOAD, (), available_layers())
    pid, starts = zy.proc.pid, zy.starts
    for i in range(20):
        calls = _calls(i)
        a = run_job(_stmt(), calls, {}, require_isolation=iso, use_zygote=True)
        b = run_job(_stmt(), calls, {}, require_isolation=iso, use_zygote=False)
        assert "zygote" in a.layers and "zygote" not in b.layers
        assert _summary(a) == _summary(b), (KINDS[i % len(KINDS)], _summary(a), _summary(b))
        assert a.outcomes[f"after{i}"].status == "ok"  # a crash of one call never costs the next
    assert zy.proc.pid == pid and zy.starts == starts, "a child's crash or exit must not take the zygote down"


def test_each_child_has_a_fresh_job_dir_and_tmp():
    iso = "namespaces" in available_layers()
    if "uid" not in available_layers():
        pytest.skip("private tmpfs per child needs root + bubblewrap")
    for _ in range(2):
        scribble = run_job(_stmt(), [{"id": "s", "steps": [{"call": "scribble", "args": [1]}]}], {}, require_isolation=iso)
        assert scribble.outcomes["s"].status == "ok"
        res = run_job(_stmt(), [{"id": "w", "steps": [{"let": "o", "call": "whoami", "args": [1]}], "returns": "o"}],
                      {}, require_isolation=iso)
        cwd, here, tmp = res.outcomes["w"].value
        assert cwd == "/job" and "left-behind.txt" not in here and tmp == []


def test_outcomes_of_crashes_are_scored():
    iso = "namespaces" in available_layers()
    calls = [{"id": k, "steps": [{"let": "o", "call": k, "args": [1]}], "returns": "o"}
             for k in ("segfault", "hard_exit", "leave", "boom", "ok")]
    res = run_job(_stmt(), calls, {}, require_isolation=iso)
    o = res.outcomes
    assert o["segfault"].status == "crashed" and "exit code -11" in o["segfault"].error["message"]
    assert o["hard_exit"].status == "crashed" and "sys.exit / os._exit" in o["hard_exit"].error["message"]
    assert o["leave"].status == "error" and "sys.exit(3)" in o["leave"].error["message"]
    assert o["boom"].status == "error" and o["boom"].error["message"] == "boom 1"
    assert o["ok"].status == "ok" and res.restarts == 2


def test_dead_zygote_is_restarted():
    iso = "namespaces" in available_layers()
    zy = get_zygote(DEFAULT_PRELOAD, (), available_layers())
    starts = zy.starts
    os.killpg(zy.proc.pid, 9)
    zy.proc.wait(timeout=10)
    calls = [{"id": "a", "steps": [{"let": "o", "call": "ok", "args": [[1]]}], "returns": "o"}]
    res = run_job(_stmt(), calls, {}, require_isolation=iso)
    assert res.outcomes["a"].status == "ok" and res.outcomes["a"].value["y"].tolist() == [2]
    assert zy.starts == starts + 1 and zy.alive()


@needs_isolation
def test_double_fork_daemon_cannot_reach_the_next_child():
    if "uid" not in available_layers():
        pytest.skip("needs the uid layer (root + bubblewrap)")
    daemon = '''
import os, time
def spawn():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for _ in range(600):
                for d in ("/tmp", "/job"):
                    try:
                        open(d + "/from-daemon", "w").write("x")
                    except OSError:
                        pass
                time.sleep(0.05)
            os._exit(0)
        os._exit(0)
    time.sleep(0.3)
    return os.getuid()

def look():
    time.sleep(0.5)
    procs = [p for p in os.listdir("/proc") if p.isdigit()]
    return [sorted(os.listdir("/tmp")), sorted(os.listdir("/job")), len(procs), os.getuid()]
'''
    st = [{"label": "cell 1", "source": daemon, "kind": "def"}]
    first = run_job(st, [{"id": "d", "steps": [{"let": "o", "call": "spawn"}], "returns": "o"}], {})
    uid = first.outcomes["d"].value
    assert isinstance(uid, int) and uid >= 61000
    time.sleep(0.2)
    alive = [p for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) == uid]
    assert alive == [], f"processes of the finished job's uid {uid} survive: {alive}"
    second = run_job(st, [{"id": "l", "steps": [{"let": "o", "call": "look"}], "returns": "o"}], {})
    tmp, job, nprocs, uid2 = second.outcomes["l"].value
    assert tmp == [] and "from-daemon" not in job and nprocs == 1


def _uid_of(pid):
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def test_the_zygote_imports_what_a_job_imports_once():
    """One zygote per process: a job's own imports (of numpy/scipy/matplotlib/torch) are added to it."""
    from grader.sandbox import zygote as zmod

    iso = "namespaces" in available_layers()
    zmod.stop_all()
    a = get_zygote(("numpy",), (), available_layers())
    assert a.loaded == ["numpy"] and get_zygote(DEFAULT_PRELOAD, (), available_layers()) is a
    probe = "def f():\n    import sys\n    return sorted(m for m in ('scipy.stats', 'scipy.optimize') if m in sys.modules)\n"
    calls = [{"id": "f", "steps": [{"let": "o", "call": "f"}], "returns": "o"}]
    plain = [{"label": "c", "source": "import numpy as np\n" + probe, "kind": "def"}]
    assert run_job(plain, calls, {}, require_isolation=iso).outcomes["f"].value == []
    stats = [{"label": "c", "source": "from scipy.stats import norm\n" + probe, "kind": "def"}]
    assert run_job(stats, calls, {}, require_isolation=iso).outcomes["f"].value == ["scipy.optimize", "scipy.stats"]
    assert a.alive() and a.starts == 1
    # a later job that does not import scipy finds it loaded in the zygote: nothing was started again
    assert run_job(plain, calls, {}, require_isolation=iso).outcomes["f"].value == ["scipy.optimize", "scipy.stats"]
    assert a.starts == 1
    zmod.stop_all()


def test_pyplot_is_deferred_until_used():
    """``import matplotlib.pyplot as plt`` in a job that never plots does not execute pyplot (0.3 s)."""
    from grader.sandbox import zygote as zmod

    iso = "namespaces" in available_layers()
    zmod.stop_all()  # a fresh zygote: an earlier notebook job may have imported pyplot in this process's one
    src = [{"label": "c", "kind": "def", "source": (
        "import sys\nimport matplotlib.pyplot as plt\nimport matplotlib.pyplot\nfrom matplotlib import pyplot\n"
        "def loaded():\n    return type(sys.modules['matplotlib.pyplot']).__name__\n"
        "def draw():\n    plt.plot([0, 1], [1, 2])\n"
        "    return [len(plt.get_fignums()), type(sys.modules['matplotlib.pyplot']).__name__, pyplot.gcf() is plt.gcf()]\n")}]
    calls = [{"id": "a", "steps": [{"let": "o", "call": "loaded"}], "returns": "o"},
             {"id": "b", "steps": [{"let": "o", "call": "draw"}], "returns": "o"}]
    res = run_job(src, calls, {}, require_isolation=iso, preload=DEFAULT_PRELOAD)
    assert res.outcomes["a"].value == "_Deferred"
    assert res.outcomes["b"].value == [1, "module", True]


def test_a_notebook_that_plots_gets_the_zygotes_pyplot():
    """A job executing cells that import pyplot: the zygote imports it for real once, before the fork."""
    from grader.sandbox import zygote as zmod

    iso = "namespaces" in available_layers()
    zmod.stop_all()
    probe = "import sys\nseen = type(sys.modules['matplotlib.pyplot']).__name__\ndef pyplot_was():\n    return seen\n"
    calls = [{"id": "p", "steps": [{"let": "o", "call": "pyplot_was"}], "returns": "o"}]
    sliced = [{"label": "c", "kind": "def", "source": "import matplotlib.pyplot as plt\n" + probe}]
    assert run_job(sliced, calls, {}, require_isolation=iso).outcomes["p"].value == "_Deferred"
    cells = [{"label": "cell 1", "source": probe + "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\n"}]
    res = run_job([], calls, {}, require_isolation=iso, cells=cells)
    assert res.outcomes["p"].value == "module"  # loaded before this very job's child started
    assert "figure" in [o["type"] for o in res.cells[0]["outputs"]]  # and the cell's figure is still captured
    # every later child of that zygote shares it, a slice job's too
    assert run_job(sliced, calls, {}, require_isolation=iso).outcomes["p"].value == "module"
    zmod.stop_all()


def test_preload_follows_the_imports():
    from grader.sandbox import preload_for

    def st(src):
        return [{"label": "c", "source": src}]

    assert preload_for(st("import numpy as np\nx = 'import torch'")) == ("numpy",)
    assert preload_for(st("import numpy\n  from scipy.optimize import brentq")) == ("numpy", "scipy.optimize")
    assert preload_for(st("import matplotlib.pyplot as plt")) == ("numpy", "matplotlib.pyplot")
    assert preload_for(st("from scipy import stats, optimize as opt")) == (
        "numpy", "scipy", "scipy.optimize", "scipy.stats")
    assert preload_for(st("import scipy") + st("import torch.nn as nn, os")) == ("numpy", "scipy", "torch.nn")


def test_limits_apply_in_the_child():
    iso = "namespaces" in available_layers()
    src = [{"label": "c", "source": "import numpy as np\ndef f():\n    return np.ones(10**9).sum()\n", "kind": "def"}]
    calls = [{"id": "f", "steps": [{"let": "o", "call": "f"}], "returns": "o"}]
    res = run_job(src, calls, {}, require_isolation=iso, limits=Limits(memory_mb=2048))
    assert res.outcomes["f"].status == "error" and "out of memory" in res.outcomes["f"].error["message"]
    assert 0 < res.peak_rss_mb < 2048
    np.testing.assert_equal(res.layers[-1], "zygote")


def test_concurrent_jobs_from_threads_share_one_zygote():
    from concurrent.futures import ThreadPoolExecutor

    iso = "namespaces" in available_layers()

    def one(i):
        calls = [{"id": "a", "steps": [{"let": "o", "call": "ok", "args": [[i]]}], "returns": "o"}]
        return run_job(_stmt(), calls, {}, require_isolation=iso).outcomes["a"].value["y"].tolist()

    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(one, range(8)))
    assert got == [[2 * i] for i in range(8)]


def test_a_forked_process_starts_its_own_zygote():
    import multiprocessing as mp

    iso = "namespaces" in available_layers()
    zy = get_zygote(DEFAULT_PRELOAD, (), available_layers())
    ctx = mp.get_context("fork")
    with ctx.Pool(1) as pool:
        child_pid = pool.apply(_zygote_pid_in_child, (iso,))
    assert child_pid != zy.proc.pid and zy.alive()


def _zygote_pid_in_child(iso):
    calls = [{"id": "a", "steps": [{"let": "o", "call": "ok", "args": [[1]]}], "returns": "o"}]
    assert run_job(_stmt(), calls, {}, require_isolation=iso).outcomes["a"].status == "ok"
    return get_zygote(DEFAULT_PRELOAD, (), available_layers()).proc.pid


def test_worker_package_imports_nothing_of_the_grader():
    import ast
    from pathlib import Path

    import grader.sandbox.worker as w

    for p in Path(w.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(p.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            assert not [n for n in names if n.split(".")[0] in ("grader", "reference")], (p.name, names)


def _job_in_forked_child(_):
    from grader.sandbox import zygote as zmod

    iso = "namespaces" in available_layers()
    src = [{"label": "c", "source": "import os\ndef f():\n    return os.getpid() > 0\n", "kind": "def"}]
    calls = [{"id": "f", "steps": [{"let": "o", "call": "f"}], "returns": "o"}]
    value = run_job(src, calls, {}, require_isolation=iso).outcomes["f"].value
    (z,) = zmod._registry.values()
    return value, z.attached, z.starts


def test_forked_pool_processes_share_the_parents_zygote():
    """A local pool forked after share() connects to the parent's zygote instead of starting its own."""
    import multiprocessing

    from grader.sandbox import zygote as zmod

    zmod.stop_all()
    z = get_zygote(DEFAULT_PRELOAD, (), available_layers())
    z.share()
    with multiprocessing.get_context("fork").Pool(2) as pool:
        got = pool.map(_job_in_forked_child, range(4))
    assert got == [(True, True, 0)] * 4  # every job ran, through a private connection, no zygote started
    assert z.alive() and z.starts == 1
    # the parent still uses its own control socket
    src = [{"label": "c", "source": "def f():\n    return 1\n", "kind": "def"}]
    calls = [{"id": "f", "steps": [{"let": "o", "call": "f"}], "returns": "o"}]
    assert run_job(src, calls, {}, require_isolation="namespaces" in available_layers()).outcomes["f"].value == 1
    zmod.stop_all()


def test_a_pool_process_starts_its_own_zygote_when_the_shared_one_died():
    import multiprocessing

    from grader.sandbox import zygote as zmod

    zmod.stop_all()
    z = get_zygote(DEFAULT_PRELOAD, (), available_layers())
    z.share()
    with multiprocessing.get_context("fork").Pool(1) as pool:
        kids = Path(f"/proc/{z.proc.pid}/task/{z.proc.pid}/children").read_text().split()
        for pid in kids or [z.proc.pid]:
            os.kill(int(pid), 9)  # the zygote itself (bubblewrap's child, in a session of its own)
        z.proc.wait(timeout=10)
        value, attached, starts = pool.apply(_job_in_forked_child, (0,))
    assert value is True and not attached and starts == 1
    zmod.stop_all()


def test_a_job_right_after_the_zygote_died_still_runs():
    """Death between two jobs (even before this process noticed) is not the next student's failure."""
    from grader.sandbox import zygote as zmod

    iso = "namespaces" in available_layers()
    zmod.stop_all()
    z = get_zygote(DEFAULT_PRELOAD, (), available_layers())
    kids = Path(f"/proc/{z.proc.pid}/task/{z.proc.pid}/children").read_text().split()
    for pid in kids or [z.proc.pid]:
        os.kill(int(pid), 9)
    calls = [{"id": "a", "steps": [{"let": "o", "call": "ok", "args": [[1]]}], "returns": "o"}]
    res = run_job(_stmt(), calls, {}, require_isolation=iso)
    assert res.outcomes["a"].status == "ok" and res.outcomes["a"].value["y"].tolist() == [2]
    assert z.starts == 2
    zmod.stop_all()


def test_the_child_collects_its_own_garbage():
    """The zygote freezes its objects before each fork (no copy-on-write of them by the child's collections) and
    collects nothing itself; the student's code gets an ordinary, enabled collector."""
    iso = "namespaces" in available_layers()
    src = [{"label": "c", "kind": "def", "source": (
        "import gc, weakref\n"
        "class Node:\n    pass\n"
        "def collect():\n"
        "    a, b = Node(), Node()\n    a.other, b.other = b, a\n    gone = weakref.ref(a)\n    del a, b\n"
        "    return [gc.isenabled(), gc.collect() > 0, gone() is None, gc.get_freeze_count() > 1000]\n")}]
    calls = [{"id": "g", "steps": [{"let": "o", "call": "collect"}], "returns": "o"}]
    res = run_job(src, calls, {}, require_isolation=iso, preload=DEFAULT_PRELOAD)
    assert res.outcomes["g"].value == [True, True, True, True], res.outcomes["g"]
    assert "zygote" in res.layers

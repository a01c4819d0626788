"""The student's self-check on macOS and Windows (``grader.sandbox.portable``), simulated on Linux.

The platform is simulated in this process: ``sys.platform`` is patched, and
what the Linux path needs and those systems lack is hidden (``os.memfd_create``
and prctl on both; on Windows also ``os.fork`` and the ``resource`` and
``fcntl`` modules; bubblewrap on both). Real checks then run through the
portable path: a spawned child of this Python, a loopback channel proved with
a token, temporary files for its output, the rlimits the simulated system has
(macOS) or none (Windows: wall-clock deadlines only). The child itself is a
real Linux process, so what differs inside a real macOS or Windows child (the
Windows parent watch, ``taskkill``, ``RLIMIT_DATA`` enforcement on macOS) is
not exercised here.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import nbformat
import numpy as np
import pytest

import grader.sandbox as package
from grader import selfcheck
from grader.authoring import skeleton
from grader.authoring.release import build
from grader.rubric import get_rubric
from grader.sandbox import Limits, portable, run_job
from grader.student import Checker, cli, deps, display

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "signal-propagation"
LINUX = sys.platform.startswith("linux") and not portable.problems()
pytestmark = pytest.mark.skipif(not LINUX, reason="simulates macOS and Windows on a Linux machine")


def _hide(monkeypatch, system: str):
    """Make this process look like ``system`` (``darwin`` or ``win32``) to the sandbox's path choice."""
    monkeypatch.setattr(package, "available_layers", lambda: ("rlimits",))  # no bubblewrap there
    monkeypatch.setattr(sys, "platform", system)
    monkeypatch.delattr(os, "memfd_create")
    monkeypatch.setattr(ctypes, "CDLL", lambda *a, **k: types.SimpleNamespace())  # a libc without prctl
    if system == "win32":
        monkeypatch.delattr(os, "fork")
        monkeypatch.setitem(sys.modules, "resource", None)
        monkeypatch.setitem(sys.modules, "fcntl", None)


@pytest.fixture(params=["darwin", "win32"])
def laptop(request, monkeypatch):
    _hide(monkeypatch, request.param)
    return request.param


LAYER = {"darwin": "rlimits: cpu, memory (data), file size, memory (polled)", "win32": "timeout only"}


# ----------------------------------------------------------------------------
# which path is taken


def test_linux_takes_the_linux_path_unchanged():
    assert portable.problems() == [] and not portable.needed()
    assert portable.rlimit_plan() == ["cpu", "memory (address space)", "file size", "core", "open files"]


@pytest.mark.parametrize("hide,says", [
    (lambda mp: mp.setattr(sys, "platform", "darwin"), "darwin is not Linux"),
    (lambda mp: mp.delattr(os, "memfd_create"), "no os.memfd_create"),
    (lambda mp: mp.delattr(os, "fork"), "no os.fork"),
    (lambda mp: mp.setitem(sys.modules, "resource", None), "no resource module"),
    (lambda mp: mp.setitem(sys.modules, "fcntl", None), "no fcntl module"),
    (lambda mp: mp.setattr(ctypes, "CDLL", lambda *a, **k: types.SimpleNamespace()), "no prctl"),
])
def test_any_missing_linux_feature_selects_the_portable_path(monkeypatch, hide, says):
    hide(monkeypatch)
    assert portable.problems() == [says] and portable.needed()


def test_limits_planned_per_system(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert portable.rlimit_plan() == ["cpu", "memory (data)", "file size", "core", "open files"]  # no RLIMIT_AS
    assert portable.poll_memory() and portable.planned_layer() == LAYER["darwin"]
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "resource", None)
    assert portable.rlimit_plan() == [] and not portable.poll_memory()
    assert portable.planned_layer() == "timeout only"
    assert portable.layer(["core", "open files"]) == "timeout only" and portable.layer(["cpu"]) == "rlimits: cpu"


def test_the_checker_refuses_only_where_no_subprocess_can_start(monkeypatch):
    for system in ("linux", "darwin", "win32", "cygwin"):
        monkeypatch.setattr(sys, "platform", system)
        assert deps.platform_problem() is None
    monkeypatch.setattr(sys, "platform", "emscripten")
    assert "JupyterLite" in deps.platform_problem()


def test_grading_still_needs_bubblewrap(laptop):
    with pytest.raises(package.IsolationUnavailable):
        run_job([], [], {}, require_isolation=True)


# ----------------------------------------------------------------------------
# the portable path itself


def _stmt(src):
    return [{"label": "cell 1", "source": textwrap.dedent(src), "kind": "def"}]


def _call(cid, fn, *args):
    return {"id": cid, "steps": [{"let": "o", "call": fn, "args": list(args)}], "returns": "o"}


SRC = """
import numpy as np
def double(a):
    return 2 * a
def spin():
    while True:
        pass
def leave():
    import os
    os._exit(3)
def flood():
    while True:
        print("x" * 10000)
def where():
    import os
    return os.getcwd()
"""


def test_calls_timeouts_and_crashes(laptop):
    a = {"__dl__": "nd", "key": "a"}
    calls = [_call("c0", "double", a), _call("c1", "spin"), _call("c2", "leave"), _call("c3", "double", a),
             _call("c4", "where")]
    t0 = time.monotonic()
    res = run_job(_stmt(SRC), calls, {"a": np.arange(3.0)}, require_isolation=False, limits=Limits(timeout_s=2))
    assert time.monotonic() - t0 < 30
    assert res.layers == (LAYER[laptop],)
    got = {c: o.status for c, o in res.outcomes.items()}
    assert got == {"c0": "ok", "c1": "timeout", "c2": "crashed", "c3": "ok", "c4": "ok"}, res.outcomes
    assert np.array_equal(res.outcomes["c0"].value, [0.0, 2.0, 4.0])
    assert "exit code 3" in res.outcomes["c2"].error["message"]
    assert "2 s, this call's time limit" in res.outcomes["c1"].error["message"]
    assert res.restarts == 2
    workdir = res.outcomes["c4"].value
    assert Path(workdir).name.startswith("dlgrade-job-") and not Path(workdir).exists()  # private, then removed


def test_print_flood_is_cut(laptop):
    res = run_job(_stmt(SRC), [_call("c0", "flood")], {}, require_isolation=False,
                  limits=Limits(timeout_s=3, file_size_mb=1))
    assert res.outcomes["c0"].status in ("error", "timeout"), res.outcomes
    if laptop == "win32":  # no RLIMIT_FSIZE: the child's own streams stop writing
        assert "[output cut: the file-size limit]" in res.stdout_tail
    else:
        assert res.outcomes["c0"].status == "error" and "File too large" in res.outcomes["c0"].error["message"]


def test_memory_hog_on_the_simulated_mac(monkeypatch):
    _hide(monkeypatch, "darwin")
    src = "def hog():\n    return bytearray(3 * 2**30)\n"
    res = run_job(_stmt(src), [_call("c0", "hog")], {}, require_isolation=False,
                  limits=Limits(timeout_s=10, memory_mb=1024))
    assert res.outcomes["c0"].status in ("error", "crashed"), res.outcomes
    assert "Memory" in json.dumps(res.outcomes["c0"].error)


def test_the_channel_is_only_the_childs(monkeypatch):
    """A local process that connects to the listener first, without the token, is dropped."""
    job = portable._PortableJob([], [], {}, {}, Limits(), {}, {}, {}, None, {}, None)
    try:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        job._proc = types.SimpleNamespace(poll=lambda: None)
        rogue = socket.create_connection(("127.0.0.1", port))
        rogue.sendall(b"guess\n")
        child = socket.create_connection(("127.0.0.1", port))
        child.sendall(b"0123abcd\n")
        conn = job._accept(listener, "0123abcd", time.monotonic() + 10)
        conn.setblocking(True)
        child.sendall(b"hi")
        assert conn.recv(2) == b"hi"
        assert rogue.recv(10) == b""  # closed by the supervisor
        for s in (conn, child, rogue, listener):
            s.close()
    finally:
        job.close()


ORPHAN = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
import grader.sandbox as package
package.available_layers = lambda: ("rlimits",)
del os.memfd_create
from grader.sandbox import Limits, run_job
print(os.getpid(), flush=True)
run_job([{"label": "c", "kind": "def", "source": "def spin():\n    while True:\n        pass\n"}],
        [{"id": "c0", "steps": [{"let": "o", "call": "spin"}], "returns": "o"}], {}, require_isolation=False,
        limits=Limits(timeout_s=300, load_timeout_s=60, budget_s=300))
"""


def _children_of(pid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                cmd = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "dlgrade_worker" in cmd and f'"parent": {pid},' in cmd:
                out.append(int(name))
    return out


def test_the_child_ends_when_its_parent_is_killed():
    """No PR_SET_PDEATHSIG on the portable path: the child's watchdog sees its parent gone."""
    parent = subprocess.Popen([sys.executable, "-c", ORPHAN, str(ROOT)], stdout=subprocess.PIPE, text=True)
    pid = int(parent.stdout.readline())
    deadline = time.monotonic() + 60
    while not _children_of(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    kids = _children_of(pid)
    assert kids, "the worker did not start"
    time.sleep(1.0)  # spinning in the student's loop by now
    os.kill(pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _children_of(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _children_of(pid)
    for k in left:
        os.kill(k, signal.SIGKILL)
    assert not left, "the orphaned worker kept running"


# ----------------------------------------------------------------------------
# the student's self-check through it


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build(get_rubric(ASSIGNMENT), tmp_path_factory.mktemp("bundle"), wheel=False)


def _cells(solutions: bool) -> list[tuple[int, str]]:
    nb = skeleton.build_notebook(get_rubric(ASSIGNMENT), solutions=solutions)
    srcs = [c.source for c in nb.cells if c.cell_type == "code"]
    return list(enumerate(srcs, start=1))


def test_self_check_of_the_live_kernel(laptop, bundle, capsys):
    check = Checker(ASSIGNMENT, bundle=bundle)
    assert check.problem is None and capsys.readouterr().out == ""
    plan, keys = selfcheck.load_bundle(selfcheck.bundle_data_dir(bundle))
    right = selfcheck.check_cells(_cells(True), plan, keys)
    assert right.score == right.max_score > 0 and right.layers == (LAYER[laptop],), right
    assert not right.warnings, right.warnings
    blank = selfcheck.check_cells(_cells(False), plan, keys, ["D1"])
    assert [i.item_id for i in blank.items] == ["D1"] and blank.score == 0
    assert "not implemented yet" in blank.items[0].message
    assert display.text(ASSIGNMENT, right).endswith(f"isolation: {LAYER[laptop]})")


def test_dlgrade_check_on_a_notebook_file(laptop, bundle, tmp_path, capsys):
    nb = skeleton.build_notebook(get_rubric(ASSIGNMENT), solutions=True)
    path = tmp_path / "worked.ipynb"
    path.write_text(nbformat.writes(nb))
    assert cli.main([str(path), "--json", "--bundle", str(bundle)]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["layers"] == [LAYER[laptop]]
    assert res["items"] and all(i["status"] == "passed" for i in res["items"]), res["items"]

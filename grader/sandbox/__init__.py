"""The trust boundary: the only place where student code runs.

:func:`run_job` writes a job directory (the student's definitions, the calls to
make, their array inputs, data files), starts :mod:`grader.sandbox.worker` in
it under the isolation layers this machine supports, watches its progress,
kills it when a call overruns, restarts it for the remaining calls, and reads
back plain results (JSON and ``.npz`` loaded with ``allow_pickle=False``).

Layers (each reported in every result):

``rlimits``
    address space, CPU seconds, file size, open files, no core dumps; a
    scrubbed environment; a private temporary working directory; stdout and
    stderr to size-capped files, never through a pipe into memory.
``namespaces``
    bubblewrap: new pid/net/ipc/uts namespaces (no network; the whole process
    tree dies with the sandbox), a new root that holds only the system
    directories, the Python installation and the job directory. The grader,
    the reference, the rubrics and answer keys are not in it.
``uid``
    the worker drops to an unprivileged uid of its own (``setpriv``), so
    ``RLIMIT_NPROC`` stops fork bombs and nothing else on the machine is
    writable.
"""
from __future__ import annotations

import itertools
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from grader.sandbox import worker

WORKER_SOURCE = Path(__file__).with_name("worker.py")
MAX_JSON_BYTES = 20 * 2**20
MAX_NPZ_BYTES = 512 * 2**20
_UID_BASE = 61000


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission's worker."""

    timeout_s: float = 20.0
    """Wall time of one call (the worker is killed and restarted past it)."""
    load_timeout_s: float = 60.0
    """Wall time to import the submission's definitions (``import torch`` ~2 s)."""
    budget_s: float = 600.0
    """Wall time for the whole submission; calls left after it are skipped."""
    memory_mb: int = 4096
    """Address-space limit (numpy and torch import under 4 GiB, not 512 MiB)."""
    file_size_mb: int = 64
    """Largest file the worker may write (caps print floods)."""
    nproc: int = 512
    """Processes and threads of the sandbox uid (with the ``uid`` layer)."""


@dataclass
class CallOutcome:
    """What happened to one call, as plain data."""

    status: str
    """``ok``, ``missing``, ``error``, ``timeout``, ``crashed`` or ``skipped``."""
    value: object = None
    """The decoded result (``ok`` only)."""
    error: dict | None = None
    """``type``, ``message``, ``where``, ``trace`` for anything but ``ok``."""
    seconds: float = 0.0


@dataclass
class JobResult:
    """Outcome of running one submission's calls."""

    outcomes: dict[str, CallOutcome]
    load_warnings: list[dict] = field(default_factory=list)
    layers: tuple[str, ...] = ()
    stdout_tail: str = ""
    stderr_tail: str = ""
    restarts: int = 0


class IsolationUnavailable(RuntimeError):
    """The machine cannot hide the answer keys from student code."""


# ----------------------------------------------------------------------------
# what this machine supports


@lru_cache(maxsize=1)
def available_layers() -> tuple[str, ...]:
    """Isolation layers that work here, probed once per process."""
    layers = ["rlimits"]
    bwrap = shutil.which("bwrap")
    if bwrap:
        try:
            ok = subprocess.run([bwrap, *_bwrap_args(Path("/tmp"), uid=None), "true"],
                                capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            layers.append("namespaces")
            if os.geteuid() == 0 and shutil.which("setpriv"):
                probe = subprocess.run(
                    [bwrap, *_bwrap_args(Path("/tmp"), uid=_UID_BASE), *_setpriv(_UID_BASE), "true"],
                    capture_output=True, timeout=10)
                if probe.returncode == 0:
                    layers.append("uid")
    return tuple(layers)


def _bind_paths() -> list[Path]:
    """The Python installation the worker needs, read-only."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
             Path(sys.executable).resolve().parent.parent}
    return sorted(paths)


def _secret_paths() -> list[Path]:
    """Paths that must be invisible inside the sandbox, if a bind exposes them."""
    import grader

    here = [Path(grader.__file__).resolve().parent]
    try:
        import reference
    except ImportError:  # a student's release bundle has no reference at all
        pass
    else:
        here.append(Path(reference.__file__).resolve().parent)
    extra = os.environ.get("DLGRADE_SECRET_PATHS", "")
    here += [Path(p).resolve() for p in extra.split(os.pathsep) if p]
    return here


def _bwrap_args(jobdir: Path, uid: int | None) -> list[str]:
    args = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session"]
    for sysdir in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc"):
        p = Path(sysdir)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), sysdir]
        elif p.exists():
            args += ["--ro-bind", sysdir, sysdir]
    # the fresh /tmp, /proc and /dev come *before* the Python binds: a venv may live under /tmp
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    made = {Path("/tmp")}
    for p in _bind_paths():
        for parent in reversed(p.parents):
            if str(parent) != "/" and parent not in made and not str(parent).startswith(("/usr", "/etc")):
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        args += ["--ro-bind", str(p), str(p)]
    for secret in _secret_paths():
        if any(secret == b or b in secret.parents for b in _bind_paths()):
            args += ["--tmpfs", str(secret)]
    args += ["--bind", str(jobdir), "/job", "--chdir", "/job", "--cap-drop", "ALL"]
    if uid is not None:
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return args


def _setpriv(uid: int) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
            "--pdeathsig", "KILL", "--"]


_uid_lock = threading.Lock()
_uid_in_use: set[int] = set()
_uid_counter = itertools.count()


def _take_uid() -> int:
    """A sandbox uid no other worker of this machine is using (one per worker)."""
    offset = (os.getpid() % 400) * 16
    with _uid_lock:
        for _ in range(16):
            uid = _UID_BASE + offset + next(_uid_counter) % 16
            if uid not in _uid_in_use:
                _uid_in_use.add(uid)
                return uid
    raise RuntimeError("no free sandbox uid")


def _release_uid(uid):
    with _uid_lock:
        _uid_in_use.discard(uid)


# ----------------------------------------------------------------------------
# running a job


def scrubbed_env(workdir: str) -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's leaks in."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "LANG": "C.UTF-8", "TMPDIR": "/tmp",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/mpl", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONHASHSEED": "0"}
    for keep in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # correctness on some CPUs
        if keep in os.environ:
            env[keep] = os.environ[keep]
    return env


def run_job(statements: list[dict], calls: list[dict], arrays: dict[str, np.ndarray], *,
            aliases: dict[str, list[str]] | None = None, data_files: list[Path] = (),
            limits: Limits = Limits(), require_isolation: bool = True,
            timeouts: dict[str, float] | None = None, groups: dict[str, str] | None = None) -> JobResult:
    """Run ``calls`` against the submission's ``statements`` in a sandbox.

    ``timeouts`` overrides the per-call wall time by call id; ``groups`` maps a
    call id to its check: when one call of a check times out, the check's
    remaining calls are skipped instead of each waiting for its own timeout.
    Raises :class:`IsolationUnavailable` when ``require_isolation`` and the
    machine cannot run bubblewrap.
    """
    layers = available_layers()
    if require_isolation and "namespaces" not in layers:
        raise IsolationUnavailable(
            "bubblewrap (bwrap) is not usable here, so student code could read the answer keys. "
            "Install it (`apt-get install bubblewrap`) or pass --unsafe to grade without isolation.")
    outer = Path(tempfile.mkdtemp(prefix="dlgrade-job-"))  # 0700, the grader's own
    jobdir = outer / "job"
    jobdir.mkdir(mode=0o711)  # bwrap (root without capabilities) must be able to chdir into it
    uid = _take_uid() if "uid" in layers else None
    try:
        _write_job(jobdir, statements, calls, arrays, aliases or {}, data_files)
        if uid is not None:
            for p in [jobdir, *jobdir.rglob("*")]:
                os.chown(p, uid, uid)
        return _supervise(jobdir, [c["id"] for c in calls], layers, uid, limits,
                          timeouts or {}, groups or {})
    finally:
        if uid is not None:
            _release_uid(uid)
        shutil.rmtree(outer, ignore_errors=True)


def _write_job(jobdir, statements, calls, arrays, aliases, data_files):
    (jobdir / "out").mkdir()
    shutil.copyfile(WORKER_SOURCE, jobdir / "_dlgrade_worker.py")
    (jobdir / "defs.json").write_text(json.dumps({"statements": statements}))
    (jobdir / "calls.json").write_text(json.dumps(
        {"calls": calls, "aliases": aliases, "torch_threads": 1}, allow_nan=True))
    if arrays:
        np.savez(jobdir / "inputs.npz", **arrays)
    for f in data_files:
        shutil.copyfile(f, jobdir / Path(f).name)


def _command(jobdir: Path, uid: int | None, layers, progress_fd: int) -> tuple[list[str], str]:
    python = sys.executable
    if "namespaces" in layers:
        inner = [python, "-I", "/job/_dlgrade_worker.py", "/job", str(progress_fd)]
        cmd = [shutil.which("bwrap"), *_bwrap_args(jobdir, uid)]
        if uid is not None:
            cmd += _setpriv(uid)
        return cmd + inner, "/job"
    return [python, "-I", str(jobdir / "_dlgrade_worker.py"), str(jobdir), str(progress_fd)], str(jobdir)


def _limits_fn(limits: Limits, cpu_s: int, with_nproc: bool):
    def apply():
        mem = limits.memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
        fsize = limits.file_size_mb * 2**20
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        if with_nproc:
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.nproc, limits.nproc))
    return apply


def _supervise(jobdir, call_ids, layers, uid, limits, timeouts, groups) -> JobResult:
    outcomes: dict[str, CallOutcome] = {}
    pending = list(call_ids)
    load_warnings: list[dict] = []
    restarts = -1
    started = time.monotonic()
    while pending:
        restarts += 1
        if time.monotonic() - started > limits.budget_s:
            for cid in pending:
                outcomes[cid] = CallOutcome("skipped", error=_err(
                    "BudgetExhausted", f"the submission's time budget of {limits.budget_s:.0f} s was used up"))
            break
        (jobdir / "todo.json").write_text(json.dumps(pending))
        if uid is not None:
            os.chown(jobdir / "todo.json", uid, uid)
        finished, current, reason = _run_once(jobdir, pending, layers, uid, limits, timeouts)
        lw = _read_json(jobdir / "load.json")
        if lw and not load_warnings:
            load_warnings = lw.get("warnings", [])
        for cid in finished:
            outcomes[cid] = _read_outcome(jobdir, cid)
        pending = [c for c in pending if c not in outcomes]
        if current is None:
            if pending:  # died or timed out before any call: loading the definitions failed
                kind, msg = reason
                for cid in pending:
                    outcomes[cid] = CallOutcome(kind, error=_err("LoadFailed", f"loading your definitions failed: {msg}"))
                pending = []
            continue
        kind, msg = reason
        outcomes[current] = CallOutcome(kind, error=_err("Timeout" if kind == "timeout" else "WorkerDied", msg))
        pending = [c for c in pending if c != current]
        if kind == "timeout" and current in groups:
            for cid in [c for c in pending if groups.get(c) == groups[current]]:
                outcomes[cid] = CallOutcome("skipped", error=_err(
                    "Skipped", "not run: an earlier case of this check timed out"))
            pending = [c for c in pending if c not in outcomes]
    out, err = _tail(jobdir / "stdout.txt"), _tail(jobdir / "stderr.txt")
    return JobResult({c: outcomes[c] for c in call_ids}, load_warnings, layers, out, err, max(restarts, 0))


def _run_once(jobdir, pending, layers, uid, limits, timeouts):
    """One worker process over ``pending``: (calls finished, call running at the end, reason)."""
    read_fd, write_fd = os.pipe()
    cmd, cwd = _command(jobdir, uid, layers, write_fd)
    budget = int(limits.load_timeout_s + sum(timeouts.get(c, limits.timeout_s) for c in pending)) + 5
    stdout = open(jobdir / "stdout.txt", "ab")
    stderr = open(jobdir / "stderr.txt", "ab")
    try:
        proc = subprocess.Popen(cmd, cwd=None if "namespaces" in layers else cwd, stdin=subprocess.DEVNULL,
                                stdout=stdout, stderr=stderr, env=scrubbed_env(cwd), pass_fds=(write_fd,),
                                start_new_session=True,
                                preexec_fn=_limits_fn(limits, budget, uid is not None))
    finally:
        os.close(write_fd)
        stdout.close()
        stderr.close()
    finished, current, buf = [], None, b""
    deadline = time.monotonic() + limits.load_timeout_s
    phase = "load"
    reason = None
    try:
        while True:
            wait = deadline - time.monotonic()
            if wait <= 0:
                what = (f"loading your definitions took longer than {limits.load_timeout_s:.0f} s"
                        if phase == "load" else
                        f"stopped after {timeouts.get(current, limits.timeout_s):.0f} s (time limit); "
                        "look for an infinite loop or a far too expensive computation")
                reason = ("timeout", what)
                break
            ready, _, _ = select.select([read_fd], [], [], min(wait, 1.0))
            if not ready:
                continue
            chunk = os.read(read_fd, 65536)
            if not chunk:  # the worker closed the pipe: exited or died
                reason = _death_reason(proc, jobdir, limits)
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                text = line.decode("utf-8", "replace").strip()
                if text == "L":
                    phase = "calls"
                    deadline = time.monotonic() + limits.timeout_s
                elif text.startswith("S ") and text[2:] in pending:
                    current = text[2:]
                    phase = "calls"
                    deadline = time.monotonic() + timeouts.get(current, limits.timeout_s)
                elif text.startswith("D ") and text[2:] == current:
                    finished.append(current)
                    current = None
    finally:
        os.close(read_fd)
        _kill(proc)
    if current is None and reason and reason[0] != "timeout" and len(finished) == len(pending):
        reason = None
    return finished, current, reason or ("crashed", "the worker stopped unexpectedly")


def _death_reason(proc, jobdir, limits):
    try:
        code = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return ("crashed", "the worker stopped talking")
    tail = _tail(jobdir / "stderr.txt", 4000)
    if "MemoryError" in tail or code in (-signal.SIGKILL, 137):
        return ("crashed", f"the worker was killed (exit {code}); most likely the memory limit of "
                           f"{limits.memory_mb} MiB")
    if code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return ("timeout", "the CPU-time limit was exceeded")
    if code == 0:
        return ("crashed", "your code ended the process (sys.exit / os._exit) during this call")
    last = [ln for ln in tail.strip().splitlines() if ln.strip()][-1:] or [""]
    return ("crashed", f"the process ended with exit code {code} during this call "
                       f"(os._exit, a crash in native code, or a resource limit) {last[0][:200]}".rstrip())


def _kill(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.kill()
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _err(kind, message):
    return {"type": kind, "message": message, "where": "", "trace": ""}


def _read_json(path: Path, limit=MAX_JSON_BYTES):
    try:
        if path.stat().st_size > limit:
            return None
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _read_outcome(jobdir: Path, cid: str) -> CallOutcome:
    from grader.values import from_plain

    base = jobdir / "out" / worker.safe_file(cid)
    data = _read_json(base.with_suffix(".json"))
    if not isinstance(data, dict) or data.get("status") not in ("ok", "missing", "error"):
        return CallOutcome("error", error=_err("BadResult", "the result file was missing or malformed"))
    seconds = float(data.get("seconds", 0.0)) if isinstance(data.get("seconds"), (int, float)) else 0.0
    if data["status"] != "ok":
        err = data.get("error") if isinstance(data.get("error"), dict) else {}
        return CallOutcome(data["status"], error={k: str(err.get(k, ""))[:2000] for k in ("type", "message", "where", "trace")},
                           seconds=seconds)
    arrays = {}
    npz = base.with_suffix(".npz")
    if npz.exists():
        if npz.stat().st_size > MAX_NPZ_BYTES:
            return CallOutcome("error", error=_err("OutputTooLarge", "the returned arrays are too large"))
        try:
            with np.load(npz, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except (ValueError, OSError) as exc:
            return CallOutcome("error", error=_err("BadResult", f"the returned arrays could not be read ({exc})"))
    try:
        value = from_plain(data.get("value"), arrays)
    except (KeyError, TypeError, ValueError) as exc:
        return CallOutcome("error", error=_err("BadResult", f"the result could not be decoded ({exc})"))
    return CallOutcome("ok", value=value, seconds=seconds)


def _tail(path: Path, n: int = 2000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def worker_fingerprint() -> str:
    """sha256 of the code that runs inside the sandbox (part of the answer-key version)."""
    import hashlib

    return hashlib.sha256(WORKER_SOURCE.read_bytes()).hexdigest()

"""The student's self-check where the Linux sandbox cannot run: macOS and Windows laptops.

The Linux path (bubblewrap, or without it the rlimits fallback) needs
``memfd_create``, ``prctl(PR_SET_PDEATHSIG)``, ``fork`` and the ``resource``
and ``fcntl`` modules. Where any of them is missing (:func:`problems`),
:func:`grader.sandbox.supervisor.run_job` comes here instead: it is the
student's own code on their own machine (``dlgrade grade`` still refuses to run
without bubblewrap unless ``--unsafe``), so it runs "as sandboxed as a laptop
allows":

- a plain subprocess of the student's own Python (``-I -S -B``, a scrubbed
  environment, a private temporary working directory), started with
  :class:`subprocess.Popen` (no fork), in a process group of its own (POSIX:
  a new session, killed with ``killpg``; Windows: a new process group, killed
  with ``taskkill /T``);
- the same framed, size-capped channel as every worker, over a loopback TCP
  connection the child opens to a listener of this process and proves with a
  one-time token sent on its stdin (``socket.socketpair`` cannot be inherited
  by a spawned process on Windows); stdout and stderr go to temporary files;
- rlimits where the ``resource`` module exists (:func:`rlimit_plan`: CPU
  seconds, memory, file size, no core dumps, open files; on macOS the data
  segment instead of the address space, plus a polled peak-RSS limit, since
  macOS does not enforce ``RLIMIT_AS``); on Windows none: the wall-clock
  deadlines of this process (the same per-call, load and budget limits as
  everywhere) are the only limits;
- no ``PR_SET_PDEATHSIG``: this process kills the child on a timeout and when
  the job ends, and the child's watchdog thread exits when its parent is gone.

Every result's layers say which limits were active: ``rlimits: cpu, memory
(data), file size, memory (polled)`` or ``timeout only``.
"""
from __future__ import annotations

import importlib
import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.sandbox import isolation
from grader.sandbox.supervisor import JobResult, Limits, _Dead, _grace, _Job, _Timeout
from grader.sandbox.worker import wire

PORTABLE_BOOT = ("import sys,json;sys.path.insert(0,sys.argv[1]);sys.path+=json.loads(sys.argv[2])['sites'];"
                 "from dlgrade_worker.__main__ import boot;boot(['portable',sys.argv[2]])")
TIMEOUT_ONLY = "timeout only"
QUIET = ("core", "open files")
"""Limits set but not named in the layers (they bound no resource a student's code would use up)."""
POLL_S = 0.25


# ----------------------------------------------------------------------------
# which path this machine takes


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _has_prctl() -> bool:
    ctypes = _module("ctypes")
    if ctypes is None:
        return False
    try:
        return hasattr(ctypes.CDLL(None), "prctl")
    except (OSError, TypeError, AttributeError):  # Windows: CDLL(None) is a TypeError
        return False


def problems() -> list[str]:
    """What the Linux path needs and this machine lacks (empty: the Linux path runs, unchanged)."""
    out = []
    if not sys.platform.startswith("linux"):
        out.append(f"{sys.platform} is not Linux")
    for attr in ("memfd_create", "fork"):
        if not hasattr(os, attr):
            out.append(f"no os.{attr}")
    for mod in ("resource", "fcntl"):
        if _module(mod) is None:
            out.append(f"no {mod} module")
    if not _has_prctl():
        out.append("no prctl")
    return out


def needed() -> bool:
    """True where student code must take this portable path (macOS, Windows)."""
    return bool(problems())


def rlimit_plan() -> list[str]:
    """The rlimits the child is asked to set here (empty without ``resource``: Windows)."""
    if _module("resource") is None:
        return []
    memory = "memory (data)" if sys.platform == "darwin" else "memory (address space)"
    return ["cpu", memory, "file size", "core", "open files"]


def poll_memory() -> bool:
    """Whether the child also polls its peak resident set (macOS: its memory rlimits are not enforced)."""
    return sys.platform == "darwin" and _module("resource") is not None


def layer(active) -> str:
    """``rlimits: cpu, memory (data), file size`` or ``timeout only``: what bounded this job."""
    shown = [a for a in active if a not in QUIET]
    return f"rlimits: {', '.join(shown)}" if shown else TIMEOUT_ONLY


def planned_layer() -> str:
    return layer(rlimit_plan() + (["memory (polled)"] if poll_memory() else []))


# ----------------------------------------------------------------------------
# the child process


def site_paths() -> list[str]:
    """Where the child finds numpy & co. (it runs with ``-S``): this environment's site dirs, the user's too."""
    out = [str(p) for p in isolation.site_dirs()]
    try:
        import site

        user = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    except (AttributeError, OSError):
        user = None
    if user and Path(user).is_dir():
        out.append(user)
    out += [p for p in sys.path if p and Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    return list(dict.fromkeys(out))


def python_executable() -> str:
    """The interpreter to start: on Windows a venv's ``python.exe`` is a launcher, so its base interpreter."""
    if os.name == "nt":
        base = getattr(sys, "_base_executable", None)
        if base and Path(base).is_file():
            return base
    return sys.executable


def child_env(workdir: str) -> dict[str, str]:
    """The child's whole environment: what the Linux worker gets, with its temporary dirs in ``workdir``."""
    env = {**isolation.scrubbed_env(workdir), "TMPDIR": workdir, "TEMP": workdir, "TMP": workdir,
           "MPLCONFIGDIR": str(Path(workdir) / ".mpl"), "VECLIB_MAXIMUM_THREADS": "1"}
    if os.name == "nt":  # Python on Windows needs these to start (random numbers, DLLs)
        for keep in ("SYSTEMROOT", "SystemRoot", "WINDIR", "PATH", "PATHEXT", "COMSPEC"):
            if keep in os.environ:
                env[keep] = os.environ[keep]
        env["USERPROFILE"] = workdir
    return env


class _Starter:
    """Starts and kills the child (one private working directory for all restarts of a job)."""

    def __init__(self):
        self.workdir: str | None = None

    def start(self, spec: dict, token: str, out, err) -> subprocess.Popen:
        if self.workdir is None:
            self.workdir = tempfile.mkdtemp(prefix="dlgrade-job-")
        spec = {**spec, "workdir": self.workdir, "sites": site_paths()}
        cmd = [python_executable(), "-I", "-S", "-B", "-c", PORTABLE_BOOT, str(isolation.worker_copy()),
               json.dumps(spec)]
        kw: dict = {}
        if os.name == "nt":
            kw["creationflags"] = (getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
                                   | getattr(subprocess, "CREATE_NO_WINDOW", 0))
        else:
            kw["start_new_session"] = True
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out, stderr=err, cwd=self.workdir,
                                env=child_env(self.workdir), **kw)
        try:
            proc.stdin.write(token.encode() + b"\n")
            proc.stdin.close()
        except OSError:  # it died already: the caller sees it when it does not connect
            pass
        return proc

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        if proc.poll() is None or os.name != "nt":
            if os.name == "nt":
                try:
                    subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)], capture_output=True, timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    pass
                proc.kill()
            else:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # its process group: what it started, too
                except (ProcessLookupError, PermissionError):
                    pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def close(self):
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


# ----------------------------------------------------------------------------
# one job


def run_job(statements, calls, arrays, *, aliases=None, data_files=(), limits: Limits | None = None, timeouts=None,
            groups=None, uses=None, cells=None) -> JobResult:
    """:func:`grader.sandbox.run_job` on this portable path (same arguments, same :class:`JobResult`)."""
    data_files = tuple(str(f) for f in data_files)
    job = _PortableJob(statements, list(calls), arrays, aliases or {}, limits or Limits(), timeouts or {}, groups or {},
                       isolation.data_paths(data_files, False), None, uses or {}, cells)
    try:
        result = job.run(_Starter(), (planned_layer(),))
        result.layers = (layer(job.active),) if job.active is not None else result.layers
        return result
    finally:
        job.close()


class _PortableJob(_Job):
    """:class:`~grader.sandbox.supervisor._Job` with a spawned child, a loopback channel and temporary files.

    ``run`` (restarts, skipped checks, the budget), ``_converse`` (the job, the
    load report, the calls) and ``_execute`` (full mode) are the supervisor's
    own; ``_run_once`` has only the start, the channel and the exit status of
    this path.
    """

    active: list[str] | None = None
    """The limits the (first) child reported active."""
    _proc: subprocess.Popen | None = None

    @staticmethod
    def _open_outputs():
        return tempfile.TemporaryFile(prefix="dlgrade-stdout-"), tempfile.TemporaryFile(prefix="dlgrade-stderr-")

    def close(self):
        for f in (self.out, self.err):
            f.close()
        if self.starter is not None:
            self.starter.close()

    def tail(self, f, n=2000) -> str:
        size = os.fstat(f.fileno()).st_size
        if hasattr(os, "pread"):
            data = os.pread(f.fileno(), n, max(0, size - n))
        else:  # Windows; the file's offset is shared with the child, which is gone when this runs
            f.seek(max(0, size - n))
            data = f.read(n)
            f.seek(0, os.SEEK_END)
        return data.decode("utf-8", "replace")

    def _run_once(self, by_id, pending):
        lim = self.limits
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        token = secrets.token_hex(16)
        cpu_s = int(lim.load_timeout_s + sum(self.timeouts.get(c, lim.timeout_s) for c in pending)) + 5
        if self.cells is not None:
            cpu_s += int(lim.notebook_timeout_s + 2 * _grace(lim.cell_s)) + 1
        spec = {"host": "127.0.0.1", "port": listener.getsockname()[1], "parent": os.getpid(),
                "memory_mb": lim.memory_mb, "file_size_mb": lim.file_size_mb, "cpu_s": cpu_s,
                "rlimits": rlimit_plan(), "poll_memory": poll_memory()}
        reader = wire.FrameReader(max_message=lim.output_mb * 2**20,
                                  max_total=max(1, lim.total_output_mb * 2**20 - self.reader_total))
        chan = None
        self._proc = None
        try:
            deadline = min(time.monotonic() + lim.load_timeout_s, self.job_deadline)
            try:
                self._proc = self.starter.start(spec, token, self.out, self.err)
            except OSError as exc:
                return {}, None, ("crashed", f"the sandbox could not start ({type(exc).__name__}: {exc})"), None
            try:
                chan = self._accept(listener, token, deadline)
                hello, _ = self._recv(chan, reader, None, deadline)
                if hello.get("kind") != "hello" or not isinstance(hello.get("limits"), list):
                    raise wire.WireError("expected the worker's limits")
                if self.active is None:
                    self.active = [str(x)[:40] for x in hello["limits"][:16]]
            except _Timeout:
                return {}, None, ("timeout", self._budget_msg(deadline) or
                                        f"loading your definitions took longer than {lim.load_timeout_s:.0f} s"), None
            except _Dead:
                return {}, None, self._death_reason(self._read_status(None, time.monotonic() + 5)), None
            except wire.WireError as exc:
                return {}, None, ("crashed", f"the worker sent malformed data ({exc})"), None
            return self._converse(chan, reader, None, deadline, by_id, pending)[:4]
        finally:
            self.reader_total += reader.total
            listener.close()
            if chan is not None:
                chan.close()
            if self._proc is not None:
                self.starter.kill(self._proc)

    def _accept(self, listener, token: str, deadline: float) -> socket.socket:
        """The child's connection, once it proved itself with ``token`` (others are closed)."""
        want = token.encode() + b"\n"
        while True:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise _Timeout
            ready, _, _ = select.select([listener], [], [], min(wait, POLL_S))
            if not ready:
                if self._proc.poll() is not None:
                    raise _Dead
                continue
            conn, _ = listener.accept()
            conn.settimeout(max(0.1, min(5.0, deadline - time.monotonic())))
            got = b""
            try:
                while len(got) < len(want) and not got.endswith(b"\n"):
                    chunk = conn.recv(len(want) - len(got))
                    if not chunk:
                        break
                    got += chunk
            except OSError:
                got = b""
            if secrets.compare_digest(got, want):
                conn.setblocking(False)
                return conn
            conn.close()

    @staticmethod
    def _send(chan, header, arrays, deadline):
        frame = wire.encode_frame(header, arrays)
        view = memoryview(frame)
        while view:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise _Timeout
            _, ready, _ = select.select([], [chan], [], wait)
            if not ready:
                continue
            try:
                n = chan.send(view[:2**20])  # a non-blocking socket (no MSG_DONTWAIT on Windows)
            except BlockingIOError:
                continue
            except OSError:
                raise _Dead from None
            view = view[n:]

    def _recv(self, chan, reader, status_r, deadline):
        while True:
            ready = reader.frames()
            if ready:
                if len(ready) > 1:
                    raise wire.WireError("more messages than asked for")
                return ready[0]
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise _Timeout
            rl, _, _ = select.select([chan], [], [], min(wait, POLL_S))
            if not rl and self._proc is not None and self._proc.poll() is None:
                continue  # still running (no exit status to watch here: poll the process)
            try:
                chunk = chan.recv(min(reader.wants(), 2**20))
            except BlockingIOError:
                raise _Dead from None  # the process is gone and nothing more is coming
            except OSError:
                raise _Dead from None
            if not chunk:
                raise _Dead
            reader.feed(chunk)

    def _read_status(self, _status_r, deadline) -> dict:
        proc = self._proc
        if proc is None:
            return {}
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return {}
        return {"code": proc.returncode}

    def _death_reason(self, status, where="during this call"):
        code = status.get("code")
        lim = self.limits
        tail = self.tail(self.err, 4000)
        kill, xcpu = getattr(signal, "SIGKILL", None), getattr(signal, "SIGXCPU", None)
        if code is None:
            return ("crashed", "the worker stopped unexpectedly")
        if "MemoryError" in tail or (kill is not None and code in (-kill, 137)):
            return ("crashed", f"the worker was killed (exit {code}); most likely the memory limit of "
                               f"{lim.memory_mb} MiB")
        if xcpu is not None and code in (-xcpu, 128 + xcpu):
            return ("timeout", "the CPU-time limit was exceeded")
        if code == 0:
            return ("crashed", f"your code ended the process (sys.exit / os._exit) {where}")
        if code == 71 and "sandbox set-up failed" in tail:
            last = [ln for ln in tail.strip().splitlines() if "sandbox set-up failed" in ln][-1:]
            return ("crashed", f"the worker could not start ({last[0][:200]})")
        last = [ln for ln in tail.strip().splitlines() if ln.strip()][-1:] or [""]
        return ("crashed", f"the process ended with exit code {code} {where} "
                           f"(os._exit, a crash in native code, or a resource limit) {last[0][:200]}".rstrip())


__all__ = ["PORTABLE_BOOT", "TIMEOUT_ONLY", "layer", "needed", "problems", "rlimit_plan", "run_job", "site_paths"]

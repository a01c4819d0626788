"""The trusted side of a job: start the worker, send calls one by one, read capped frames back.

Nothing here opens a path the sandbox can write: results, load warnings and the
worker's exit status come over a socketpair and a pipe created before the
worker starts, stdout and stderr go to memfds read through the supervisor's
own descriptors, and every deadline is the supervisor's clock.
"""
from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from grader.sandbox import isolation
from grader.sandbox.worker import wire
from grader.sandbox.zygote import ZygoteError, get_zygote, preload_for

TAIL_BYTES = 2000


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission's worker."""

    timeout_s: float = 20.0
    """Wall time of one call, from the moment it is sent (the worker is killed and restarted past it)."""
    load_timeout_s: float = 60.0
    """Wall time to start and import the submission's definitions (``import torch`` ~2 s)."""
    budget_s: float = 120.0
    """Wall time for the whole submission, enforced while it runs; calls left after it are skipped."""
    memory_mb: int = 4096
    """Address-space limit (numpy and torch import under 4 GiB, not 512 MiB)."""
    file_size_mb: int = 64
    """Largest file the worker may write, stdout and stderr included (caps print floods)."""
    nproc: int = 512
    """Processes and threads of the sandbox uid (with the ``uid`` layer)."""
    output_mb: int = 256
    """Largest result (arrays included) one call may send back."""
    total_output_mb: int = 1024
    """Bytes the whole job may send back."""
    disk_mb: int = 256
    """The writable area (``/job`` and ``/tmp``, in memory) of one job."""
    inodes: int = 10_000
    """Files and directories the job may create."""
    cell_timeout_s: float | None = None
    """Full mode: wall time of one notebook cell (default: ``timeout_s``); later cells still run."""
    notebook_timeout_s: float = 60.0
    """Full mode: wall time of executing the whole notebook (cells not reached by then are not run)."""
    cell_output_kb: int = 64
    """Full mode: characters of stdout, stderr, results and tracebacks kept per cell (inside the worker)."""
    notebook_output_mb: int = 8
    """Full mode: everything kept of the executed notebook's outputs, figures included."""

    @property
    def cell_s(self) -> float:
        return self.cell_timeout_s if self.cell_timeout_s is not None else self.timeout_s


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
    peak_rss_mb: float = 0.0
    """Largest resident set of the worker process (with the zygote: pages shared with it included)."""
    cells: list[dict] = field(default_factory=list)
    """Full mode: one report per cell of the (first) execution, as checked plain data (see :func:`cell_report`)."""
    stopped: dict | None = None
    """Full mode: where and why the execution ended early (``at``: the cell's index, ``kind``, ``message``)."""


class IsolationUnavailable(RuntimeError):
    """The machine cannot hide the answer keys from student code."""


def _err(kind, message):
    return {"type": kind, "message": message, "where": "", "trace": ""}


def run_job(statements: list[dict], calls: list[dict], arrays: dict[str, np.ndarray], *,
            aliases: dict[str, list[str]] | None = None, data_files=(), limits: Limits = Limits(),
            require_isolation: bool = True, timeouts: dict[str, float] | None = None,
            groups: dict[str, str] | None = None, preload: tuple[str, ...] | None = None,
            use_zygote: bool = True, uses: dict[str, tuple[str, ...]] | None = None,
            cells: list[dict] | None = None, modules: tuple[str, ...] | None = None) -> JobResult:
    """Run ``calls`` against the submission's ``statements`` in a sandbox.

    ``cells`` (full mode): the notebook's code cells (``label``, ``source``), executed in order after
    ``statements`` (then the provided code only) and before the calls, each under ``limits.cell_s``
    inside the worker and the supervisor's own deadline (``cell_s`` plus a grace) outside it; the whole
    execution under ``limits.notebook_timeout_s``. Their reports come back in ``JobResult.cells``. When
    the worker dies or must be killed while executing, the pending calls are not run (their outcome
    says why): a dead worker gives no marks for what it did not reach.

    ``timeouts`` overrides the per-call wall time by call id; ``groups`` maps a
    call id to its check: when one call of a check times out, the check's
    remaining calls are skipped. ``uses`` maps a call id to the submission's
    functions it calls: once a function has timed out, the remaining calls that
    use it are skipped too (an infinite loop costs one timeout, not one per
    check). ``modules`` names the modules the job's code will import (default:
    :func:`~grader.sandbox.zygote.preload_for` the statements and cells, every
    import in them); they are sent with the job, and the zygote imports those
    it lacks once, for this job and the later ones. ``preload`` names the
    modules a new zygote imports before its first job (default: ``modules``).
    Both are speed hints only. ``use_zygote=False`` starts a fresh interpreter instead. Raises
    :class:`IsolationUnavailable` when ``require_isolation`` and the machine
    cannot run bubblewrap.
    """
    import grader.sandbox as package  # looked up at call time: tests replace available_layers there

    layers = tuple(package.available_layers())
    if require_isolation and "namespaces" not in layers:
        raise IsolationUnavailable(
            "bubblewrap (bwrap) is not usable here, so student code could read the answer keys. "
            "Install it (`apt-get install bubblewrap`) or pass --unsafe to grade without isolation.")
    from grader.sandbox import portable

    if "namespaces" not in layers and portable.needed():  # macOS, Windows: no memfd, prctl or fork here
        return portable.run_job(statements, calls, arrays, aliases=aliases, data_files=data_files, limits=limits,
                                timeouts=timeouts, groups=groups, uses=uses, cells=cells)
    data_files = tuple(str(f) for f in data_files)
    starter = None
    if use_zygote:
        modules = preload_for(list(statements) + list(cells or [])) if modules is None else tuple(modules)
        try:
            starter = _ZygoteStarter(get_zygote(tuple(preload or modules), data_files, layers), modules,
                                     executes=cells is not None)
        except ZygoteError:
            starter = None  # a fresh interpreter still grades; the layers say which path ran
    if starter is None:
        starter = _FreshStarter(layers, data_files)
    lease = isolation.take_uid() if "uid" in layers else None
    job = _Job(statements, list(calls), arrays, aliases or {}, limits,
               timeouts or {}, groups or {}, isolation.data_paths(data_files, "namespaces" in layers),
               lease.uid if lease else None, uses or {}, cells)
    try:
        return job.run(starter, layers + (("zygote",) if isinstance(starter, _ZygoteStarter) else ()))
    finally:
        job.close()
        if lease is not None:
            lease.release()


# ----------------------------------------------------------------------------
# how a worker is started and killed


class _FreshStarter:
    """A new sandboxed interpreter per worker (``python -I -S`` under bubblewrap)."""

    def __init__(self, layers, data_files):
        self.namespaced = "namespaces" in layers
        self.data_files = data_files
        self.hostdir = None

    def start(self, spec, chan, out, err, status):
        spec = {**spec, "chan": chan, "status": status}
        if self.namespaced:
            spec["workdir"] = "/job"
            spec["mount"] = spec.get("uid") is not None  # tmpfs with an inode cap and a hidepid /proc
            caps = ("CAP_SETUID", "CAP_SETGID", "CAP_SYS_ADMIN", "CAP_CHOWN") if spec["mount"] else ()
            half = max(1, spec["disk_mb"] // 2)
            cmd = isolation.python_command("fresh", spec, namespaced=True, bwrap=isolation.bwrap_args(
                data_files=self.data_files, caps=caps, tmp_mb=half, job_mb=half))
            cwd = None
        else:
            if self.hostdir is None:
                self.hostdir = tempfile.mkdtemp(prefix="dlgrade-job-")  # 0700, the grader's own
            spec |= {"workdir": self.hostdir, "pdeathsig": True}
            cmd = isolation.python_command("fresh", spec, namespaced=False)
            cwd = self.hostdir
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, pass_fds=(chan, status),
                                cwd=cwd, env=isolation.scrubbed_env(spec["workdir"]), start_new_session=True)
        return proc

    def kill(self, proc):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def finished(self, proc):
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill(proc)

    def close(self):
        if self.hostdir:
            import shutil

            assert shutil.rmtree.avoids_symlink_attacks
            shutil.rmtree(self.hostdir, ignore_errors=True)
            self.hostdir = None


class _ZygoteStarter:
    """A child forked by this process's zygote.

    ``executes``: the job runs a notebook's cells (full mode), so the zygote
    imports the modules it registers lazily (pyplot) for real before the fork.
    """

    def __init__(self, zygote, modules=(), executes: bool = False):
        self.zygote, self.modules, self.executes = zygote, list(modules), executes

    def start(self, spec, chan, out, err, status):
        return self.zygote.fork({**spec, "modules": self.modules, "executes": self.executes}, chan, out, err, status)

    def kill(self, pid):
        self.zygote.kill(pid)

    def finished(self, pid):
        pass

    def close(self):
        pass


# ----------------------------------------------------------------------------
# one job


class _Dead(Exception):
    """The worker is gone (or the channel broke)."""


class _Timeout(Exception):
    pass


class _Job:
    def __init__(self, statements, calls, arrays, aliases, limits, timeouts, groups, data_paths, uid, uses,
                 cells=None):
        self.uses = uses
        self.cells = None if cells is None else [{"label": str(c.get("label", "cell")), "source": str(c.get("source", ""))}
                                                 for c in cells]
        self.cell_reports: list[dict] = []
        self.stopped: dict | None = None
        self.executions = 0
        self.exec_stop: str | None = None
        """Why the execution of this worker's cells ended early (set by ``_run_once``)."""
        self.statements, self.calls, self.arrays, self.aliases = statements, calls, arrays, aliases
        self.limits, self.timeouts, self.groups, self.data_paths, self.uid = limits, timeouts, groups, data_paths, uid
        self.out, self.err = self._open_outputs()
        self.reader_total = 0
        self.rss_kb = 0
        self.starter = None

    @staticmethod
    def _open_outputs():
        """The worker's stdout and stderr: memfds (the portable job: temporary files)."""
        return os.memfd_create("dlgrade-stdout", os.MFD_CLOEXEC), os.memfd_create("dlgrade-stderr", os.MFD_CLOEXEC)

    def close(self):
        for fd in (self.out, self.err):
            os.close(fd)
        if self.starter is not None:
            self.starter.close()

    def tail(self, fd, n=TAIL_BYTES) -> str:
        size = os.fstat(fd).st_size
        return os.pread(fd, n, max(0, size - n)).decode("utf-8", "replace")

    def run(self, starter, layers) -> JobResult:
        self.starter = starter
        by_id = {c["id"]: c for c in self.calls}
        outcomes: dict[str, CallOutcome] = {}
        pending = list(by_id)
        load_warnings: list[dict] = []
        restarts = -1
        self.job_deadline = time.monotonic() + self.limits.budget_s
        if self.cells is not None and not pending:
            pending = [None]  # execute the notebook even when no call needs it (its outputs are kept)
        while pending:
            restarts += 1
            if time.monotonic() >= self.job_deadline:
                for cid in pending:
                    outcomes[cid] = CallOutcome("skipped", error=_err(
                        "BudgetExhausted", f"the submission's time budget of {self.limits.budget_s:.0f} s was used up"))
                break
            self.exec_stop = None
            finished, current, reason, warnings = self._run_once(by_id, [c for c in pending if c is not None])
            if warnings is not None and not load_warnings:
                load_warnings = warnings
            outcomes.update(finished)
            pending = [c for c in pending if c not in outcomes and c is not None]
            if current is None:
                if pending and self.exec_stop is not None:  # the notebook did not get to the calls
                    kind, _ = reason
                    for cid in pending:
                        outcomes[cid] = CallOutcome(kind, error=_err("NotebookStopped", f"not graded: {self.exec_stop}"))
                    pending = []
                elif pending:  # died or timed out before any call: loading the definitions failed
                    kind, msg = reason
                    for cid in pending:
                        outcomes[cid] = CallOutcome(kind, error=_err("LoadFailed", f"loading your definitions failed: {msg}"))
                    pending = []
                continue
            kind, msg = reason
            outcomes[current] = CallOutcome(kind, error=_err("Timeout" if kind == "timeout" else "WorkerDied", msg))
            pending = [c for c in pending if c != current]
            if kind == "timeout" and current in self.groups:
                for cid in [c for c in pending if self.groups.get(c) == self.groups[current]]:
                    outcomes[cid] = CallOutcome("skipped", error=_err(
                        "Skipped", "not run: an earlier case of this check timed out"))
                pending = [c for c in pending if c not in outcomes]
            if kind == "timeout" and self.uses.get(current):
                slow = set(self.uses[current])
                for cid in pending:
                    hit = sorted(slow & set(self.uses.get(cid, ())))
                    if hit:
                        outcomes[cid] = CallOutcome("skipped", error=_err(
                            "Skipped", f"skipped: `{hit[0]}` timed out earlier in this submission"))
                pending = [c for c in pending if c not in outcomes]
        return JobResult({c: outcomes[c] for c in by_id}, load_warnings, layers, self.tail(self.out),
                         self.tail(self.err), max(restarts, 0), round(self.rss_kb / 1024, 1), self.cell_reports,
                         self.stopped)

    # -- one worker process over `pending`

    def _run_once(self, by_id, pending):
        """(outcomes of finished calls, call running at the end or None, reason, load warnings or None)."""
        lim = self.limits
        chan, chan_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        status_r, status_w = os.pipe()
        cpu_s = int(lim.load_timeout_s + sum(self.timeouts.get(c, lim.timeout_s) for c in pending)) + 5
        if self.cells is not None:
            cpu_s += int(lim.notebook_timeout_s + 2 * _grace(lim.cell_s)) + 1
        spec = {"uid": self.uid, "memory_mb": lim.memory_mb, "file_size_mb": lim.file_size_mb, "nproc": lim.nproc,
                "cpu_s": cpu_s, "disk_mb": lim.disk_mb, "inodes": lim.inodes}
        reader = wire.FrameReader(max_message=lim.output_mb * 2**20,
                                  max_total=max(1, lim.total_output_mb * 2**20 - self.reader_total))
        handle = None
        try:
            handle = self.starter.start(spec, chan_child.fileno(), self.out, self.err, status_w)
        except (OSError, ZygoteError) as exc:
            chan.close()
            chan_child.close()
            os.close(status_r)
            os.close(status_w)
            return {}, None, ("crashed", f"the sandbox could not start ({type(exc).__name__}: {exc})"), None
        chan_child.close()
        os.close(status_w)
        status = {}
        try:
            deadline = min(time.monotonic() + lim.load_timeout_s, self.job_deadline)
            finished, current, reason, warnings, status = self._converse(chan, reader, status_r, deadline, by_id,
                                                                         pending)
            return finished, current, reason, warnings
        finally:
            self.reader_total += reader.total
            self.rss_kb = max(self.rss_kb, int(status.get("rss_kb", 0) or 0))
            chan.close()
            if handle is not None:
                if status.get("pidns"):  # the worker's parent was init of its pid namespace: nothing is left
                    self.starter.finished(handle)
                else:
                    self.starter.kill(handle)
                    if self.uid is not None:
                        isolation.kill_uid(self.uid)
                if not status:
                    status = _read_status(status_r, time.monotonic() + 1)
                    self.rss_kb = max(self.rss_kb, int(status.get("rss_kb", 0) or 0))
            os.close(status_r)

    def _converse(self, chan, reader, status_r, deadline, by_id, pending):
        """The conversation with a started worker (here and in the portable job): the job, the notebook's
        cells in full mode, the load report, then each pending call under its own deadline, then ``end``.

        (finished outcomes, call running at the end or None, reason, load warnings or None, exit status
        read so far); the caller cleans up.
        """
        lim = self.limits
        finished: dict[str, CallOutcome] = {}
        warnings, current = None, None
        try:
            message = {"kind": "job", "statements": self.statements, "aliases": self.aliases,
                       "data_files": self.data_paths, "torch_threads": 1, "statement_timeout_s": lim.timeout_s,
                       "max_message": lim.output_mb * 2**20}
            if self.cells is not None:
                message["full"] = {"cells": self.cells, "cell_timeout_s": lim.cell_s,
                                   "notebook_timeout_s": lim.notebook_timeout_s,
                                   "cell_output_chars": lim.cell_output_kb * 1024,
                                   "notebook_output_chars": lim.notebook_output_mb * 2**20}
            try:
                self._send(chan, message, None, deadline)
                header = self._recv(chan, reader, status_r, deadline)
                if self.cells is not None:
                    if header[0].get("kind") != "executing":
                        raise wire.WireError("expected the start of the execution")
                    warnings = _warnings(header[0].get("warnings"))
                    stop = self._execute(chan, reader, status_r)
                    if stop is not None:
                        return finished, None, stop, warnings, {}
                    header = self._recv(chan, reader, status_r, min(time.monotonic() + _grace(lim.cell_s),
                                                                    self.job_deadline))
                if header[0].get("kind") != "loaded":
                    raise wire.WireError("expected the load report")
                warnings = (warnings or []) + _warnings(header[0].get("warnings"))
            except _Timeout:
                reason = ("timeout", self._budget_msg(deadline) or
                          f"loading your definitions took longer than {lim.load_timeout_s:.0f} s")
                return finished, None, reason, None, {}
            for cid in pending:
                current = cid
                limit = self.timeouts.get(cid, lim.timeout_s)
                deadline = min(time.monotonic() + limit, self.job_deadline)  # starts when the call is sent
                call = by_id[cid]
                keys = wire.array_keys(call)
                self._send(chan, {"kind": "call", "call": call}, {k: self.arrays[k] for k in keys if k in self.arrays},
                           deadline)
                header, arrays = self._recv(chan, reader, status_r, deadline)
                if header.get("kind") != "result" or header.get("id") != cid:
                    raise wire.WireError("a result for another call")
                finished[cid] = _outcome(header, arrays)
                current = None
            try:
                self._send(chan, {"kind": "end"}, None, time.monotonic() + 2)
            except (_Timeout, _Dead):
                pass
            status = self._read_status(status_r, time.monotonic() + 5)
            return finished, None, None, warnings, status
        except _Timeout:
            limit = self.timeouts.get(current, lim.timeout_s)
            msg = self._budget_msg(deadline) or (
                f"it took longer than {limit:.0f} s, this call's time limit, and was stopped")
            return finished, current, ("timeout", msg), warnings, {}
        except _Dead:
            status = self._read_status(status_r, time.monotonic() + 5)
            return finished, current, self._death_reason(status), warnings, status
        except wire.WireError as exc:
            return finished, current, ("crashed", f"the worker sent malformed data ({exc})"), warnings, {}

    def _execute(self, chan, reader, status_r):
        """Receive one report per cell, each under its own deadline; None, or the (kind, message) of a stop."""
        lim = self.limits
        self.executions += 1
        first = self.executions == 1
        n = len(self.cells)
        cap_chars = lim.cell_output_kb * 1024
        left = [lim.notebook_output_mb * 2**20]  # what the trusted side keeps of the whole notebook
        saved = reader.max_message
        reader.max_message = min(saved, 12 * (cap_chars + 8192) + lim.notebook_output_mb * 2**20 + 2**20)
        nb_deadline = min(time.monotonic() + lim.notebook_timeout_s + _grace(lim.cell_s), self.job_deadline)
        reports: list[dict] = []
        i, stop = 0, None
        try:
            while i < n:
                deadline = min(time.monotonic() + lim.cell_s + _grace(lim.cell_s), nb_deadline)
                try:
                    header, _ = self._recv(chan, reader, status_r, deadline)
                except _Timeout:
                    why = self._budget_msg(deadline) or (
                        f"the notebook's time limit of {lim.notebook_timeout_s:g} s was used up"
                        if deadline >= nb_deadline else
                        f"it ran past its time limit of {lim.cell_s:g} s and did not stop, so the worker was killed")
                    stop = ("timeout", why)
                    break
                except _Dead:
                    status = self._read_status(status_r, time.monotonic() + 5)
                    self.rss_kb = max(self.rss_kb, int(status.get("rss_kb", 0) or 0))
                    stop = self._death_reason(status, where="in this cell")
                    break
                except wire.WireError as exc:
                    stop = ("crashed", f"the worker sent malformed data ({exc})")
                    break
                if header.get("kind") != "cell" or header.get("i") != i:
                    stop = ("crashed", "the worker sent malformed data (a cell report out of order)")
                    break
                reports.append(cell_report(header, cap_chars, left))
                i += 1
        finally:
            reader.max_message = saved
        if stop is not None:
            label = self.cells[i]["label"]
            again = "" if first else ", executed again after the worker died in an earlier call,"
            self.exec_stop = f"the notebook{again} stopped at {label}: {stop[1]}; later cells did not run"
            reports.append({"status": "crashed" if stop[0] == "crashed" else "timeout", "seconds": 0.0, "failed": None,
                            "error": {"type": "WorkerDied" if stop[0] == "crashed" else "Timeout", "message": stop[1]},
                            "outputs": []})
            reports += [{"status": "not_run", "seconds": 0.0, "failed": None, "outputs": [],
                         "error": {"type": "NotRun", "message": f"not run: the execution ended at {label}"}}
                        for _ in range(i + 1, n)]
        if first:
            self.cell_reports = reports
            if stop is not None:
                self.stopped = {"at": i, "kind": stop[0], "message": self.exec_stop}
        return stop

    _read_status = staticmethod(lambda fd, deadline: _read_status(fd, deadline))
    """The worker's exit status after it died mid-execution (the portable job waits for its process)."""

    def _budget_msg(self, deadline):
        if deadline >= self.job_deadline:
            return f"the submission's time budget of {self.limits.budget_s:.0f} s was used up"
        return None

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
                n = chan.send(view[:2**20], socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
            except OSError:
                raise _Dead from None
            view = view[n:]

    @staticmethod
    def _recv(chan, reader, status_r, deadline):
        while True:
            ready = reader.frames()
            if ready:
                if len(ready) > 1:
                    raise wire.WireError("more messages than asked for")
                return ready[0]
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise _Timeout
            rl, _, _ = select.select([chan, status_r], [], [], wait)
            if chan in rl:
                try:
                    chunk = chan.recv(min(reader.wants(), 2**20))
                except OSError:
                    raise _Dead from None
                if not chunk:
                    raise _Dead
                reader.feed(chunk)
            elif status_r in rl:
                raise _Dead

    def _death_reason(self, status, where="during this call"):
        code = status.get("code")
        lim = self.limits
        tail = self.tail(self.err, 4000)
        if code is None:
            return ("crashed", "the worker stopped unexpectedly")
        if "MemoryError" in tail or code in (-signal.SIGKILL, 137):
            return ("crashed", f"the worker was killed (exit {code}); most likely the memory limit of "
                               f"{lim.memory_mb} MiB")
        if code in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
            return ("timeout", "the CPU-time limit was exceeded")
        if code == 0:
            return ("crashed", f"your code ended the process (sys.exit / os._exit) {where}")
        last = [ln for ln in tail.strip().splitlines() if ln.strip()][-1:] or [""]
        return ("crashed", f"the process ended with exit code {code} {where} "
                           f"(os._exit, a crash in native code, or a resource limit) {last[0][:200]}".rstrip())


def _grace(cell_s: float) -> float:
    """How long past a cell's own limit the supervisor waits before it kills the worker."""
    return 2.0 + 0.1 * cell_s


_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_CELL_STATUS = ("ok", "error", "timeout", "not_run")


def _text(v, n: int) -> str:
    return v[:n] if type(v) is str else ""


def cell_report(header: dict, cap_chars: int, left: list[int]) -> dict:
    """One cell's report from the worker, checked and capped on the trusted side (it may be forged).

    Only the known output types with string fields survive; each cell keeps at most ``cap_chars``
    characters of text (plus a note), and the notebook at most ``left[0]`` in all (figures included).
    """
    status = header.get("status") if header.get("status") in _CELL_STATUS else "error"
    seconds = header.get("seconds")
    failed = header.get("failed")
    err = header.get("error") if isinstance(header.get("error"), dict) else None
    out = {"status": status, "seconds": float(seconds) if type(seconds) in (int, float) else 0.0,
           "failed": failed if type(failed) is int and 0 <= failed < 10**6 else None,
           "error": {"type": _text(err.get("type"), 100), "message": _text(err.get("message"), 600)} if err else None,
           "outputs": []}
    budget = min(cap_chars + 8192, max(0, left[0]))
    raw = header.get("outputs") if type(header.get("outputs")) is list else []
    for o in raw[:400]:
        if type(o) is not dict:
            continue
        kind = o.get("type")
        if kind == "stream" and o.get("name") in ("stdout", "stderr"):
            item = {"type": "stream", "name": o["name"], "text": _text(o.get("text"), budget)}
            size = len(item["text"])
        elif kind in ("result", "display"):
            item = {"type": kind, "text": _text(o.get("text"), budget)}
            size = len(item["text"])
        elif kind == "error":
            tb = [_text(x, budget) for x in (o.get("traceback") if type(o.get("traceback")) is list else [])[:200]]
            item = {"type": "error", "ename": _text(o.get("ename"), 200), "evalue": _text(o.get("evalue"), budget),
                    "traceback": tb}
            size = len(item["ename"]) + len(item["evalue"]) + sum(map(len, tb))
        elif kind == "figure" and type(o.get("png")) is str and len(o["png"]) <= left[0] and _BASE64.fullmatch(o["png"]):
            item, size = {"type": "figure", "png": o["png"]}, 0
            left[0] -= len(o["png"])
        else:
            continue
        if size > budget:
            break
        budget -= size
        left[0] -= size
        out["outputs"].append(item)
    return out


def _read_status(fd, deadline) -> dict:
    buf = b""
    while len(buf) < 4096:
        wait = deadline - time.monotonic()
        if wait <= 0:
            break
        rl, _, _ = select.select([fd], [], [], wait)
        if not rl:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
    try:
        status = json.loads(buf)
    except ValueError:
        return {}
    return status if isinstance(status, dict) else {}


def _warnings(raw) -> list[dict]:
    if not isinstance(raw, list):
        raise wire.WireError("malformed load report")
    return [{k: str(w.get(k, ""))[:2000] for k in ("label", "kind", "error", "id")} for w in raw[:1000] if isinstance(w, dict)]


def _outcome(header: dict, arrays: dict) -> CallOutcome:
    status = header.get("status")
    seconds = header.get("seconds")
    seconds = float(seconds) if type(seconds) in (int, float) else 0.0
    if status not in ("ok", "missing", "error"):
        return CallOutcome("error", error=_err("BadResult", "the result was malformed"), seconds=seconds)
    if status != "ok":
        err = header.get("error") if isinstance(header.get("error"), dict) else {}
        return CallOutcome(status, error={k: str(err.get(k, ""))[:2000] for k in ("type", "message", "where", "trace")},
                           seconds=seconds)
    try:
        value = wire.decode_result(header.get("value"), arrays)
    except wire.WireError as exc:
        return CallOutcome("error", error=_err("BadResult", f"the result could not be decoded ({exc})"), seconds=seconds)
    return CallOutcome("ok", value=value, seconds=seconds)



"""The pre-loaded forking sandbox: one zygote per grading process and preload set.

The zygote is ``dlgrade_worker`` in ``zygote`` mode inside its own bubblewrap
sandbox (or, without bubblewrap, a plain process with rlimits only). It has
imported numpy, scipy, matplotlib (and torch when asked) once; per job the
supervisor sends it the job's channel, stdout, stderr and status fds over a
``SOCK_SEQPACKET`` control socket (``SCM_RIGHTS``) and it forks the worker.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import weakref
from pathlib import Path

from grader.sandbox import isolation

NUMPY_PRELOAD = ("numpy",)
DEFAULT_PRELOAD = ("numpy", "scipy.special", "scipy.optimize", "scipy.integrate", "scipy.stats", "scipy.linalg",
                   "matplotlib")
TORCH_PRELOAD = DEFAULT_PRELOAD + ("torch",)
START_TIMEOUT_S = 120.0


_IMPORT = re.compile(r"^[ \t]*(?:import|from)[ \t]+(torch|scipy|matplotlib)\b", re.M)


def preload_for(statements: list[dict]) -> tuple[str, ...]:
    """The smallest standard preload set covering what ``statements`` import.

    numpy only, numpy + scipy + matplotlib, or that plus torch: a few zygotes
    per process at most. Only a speed hint (a fork of a process with scipy
    loaded costs more than one with numpy only); it decides nothing else.
    """
    found = set()
    for st in statements:
        found.update(_IMPORT.findall(str(st.get("source", ""))))
    if "torch" in found:
        return TORCH_PRELOAD
    if found:
        return DEFAULT_PRELOAD
    return NUMPY_PRELOAD


class ZygoteError(RuntimeError):
    """The zygote could not be started or stopped answering."""


class Zygote:
    """A running zygote (restart it with :meth:`ensure`)."""

    def __init__(self, preload: tuple[str, ...], data_files: tuple[str, ...], layers: tuple[str, ...]):
        self.preload, self.data_files, self.layers = preload, data_files, layers
        self.namespaced = "namespaces" in layers
        self.uid_layer = "uid" in layers
        self._lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.ctrl: socket.socket | None = None
        self.hostdir: str | None = None
        self.loaded: list[str] = []
        self.starts = 0
        self.owner = os.getpid()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ensure(self) -> None:
        with self._lock:
            if not self.alive():
                self._start()

    def _start(self) -> None:
        self._stop()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        spec = {"preload": list(self.preload), "ctrl": child.fileno(), "mount": self.uid_layer}
        if self.namespaced:
            spec |= {"workdir": "/job", "per_child_dir": not self.uid_layer}
            caps = ("CAP_SETUID", "CAP_SETGID", "CAP_SYS_ADMIN", "CAP_CHOWN", "CAP_KILL") if self.uid_layer else ()
            cmd = isolation.python_command("zygote", spec, namespaced=True, bwrap=isolation.bwrap_args(
                data_files=self.data_files, caps=caps, tmp_mb=64, job_mb=64, die_with_parent=False))
            cwd = None
        else:
            self.hostdir = tempfile.mkdtemp(prefix="dlgrade-zygote-")
            spec |= {"workdir": self.hostdir, "per_child_dir": True}
            cmd = isolation.python_command("zygote", spec, namespaced=False)
            cwd = self.hostdir
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=_zygote_log(), pass_fds=(child.fileno(),), cwd=cwd,
                                         env=isolation.scrubbed_env("/job" if self.namespaced else cwd),
                                         start_new_session=True)
        finally:
            child.close()
        self.ctrl = parent
        parent.settimeout(START_TIMEOUT_S)
        try:
            ready = json.loads(parent.recv(65536) or b"null")
        except (OSError, ValueError) as exc:
            self._stop()
            raise ZygoteError(f"the zygote did not start ({type(exc).__name__})") from None
        if not isinstance(ready, dict):
            self._stop()
            raise ZygoteError("the zygote did not start")
        self.loaded = ready.get("ready", [])
        self.starts += 1
        parent.settimeout(30)

    def _request(self, req: dict, fds=()) -> dict:
        try:
            socket.send_fds(self.ctrl, [json.dumps(req).encode()], list(fds))
            reply = self.ctrl.recv(65536)
        except OSError as exc:
            raise ZygoteError(f"the zygote stopped answering ({type(exc).__name__})") from None
        if not reply:
            raise ZygoteError("the zygote stopped answering")
        return json.loads(reply)

    def fork(self, job_spec: dict, chan: int, out: int, err: int, status: int) -> int:
        """Start one job; its pid in the zygote (for :meth:`kill`)."""
        with self._lock:
            if not self.alive():
                self._start()
            return int(self._request({"op": "fork", "spec": job_spec}, (chan, out, err, status))["pid"])

    def kill(self, pid: int) -> None:
        """Kill job ``pid``'s process group inside the zygote's sandbox."""
        with self._lock:
            if self.alive():
                try:
                    self._request({"op": "kill", "pid": pid})
                except ZygoteError:
                    self._stop()

    def _stop(self) -> None:
        if self.owner != os.getpid():  # inherited through fork(): the parent's zygote, not ours to kill
            if self.ctrl is not None:
                self.ctrl.close()
            self.ctrl = self.proc = self.hostdir = None
            return
        if self.ctrl is not None:
            self.ctrl.close()
            self.ctrl = None
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, 9)
                except (ProcessLookupError, PermissionError):
                    self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        if self.hostdir:
            import shutil

            shutil.rmtree(self.hostdir, ignore_errors=True)
            self.hostdir = None

    def stop(self) -> None:
        with self._lock:
            self._stop()


_registry: dict[tuple, Zygote] = {}
_registry_lock = threading.Lock()


def _forget_inherited():
    """In a forked child (e.g. a multiprocessing worker): start zygotes of its own."""
    global _registry_lock
    _registry_lock = threading.Lock()
    for z in _registry.values():
        z._lock = threading.Lock()
        z._stop()
    _registry.clear()


os.register_at_fork(after_in_child=_forget_inherited)


def get_zygote(preload: tuple[str, ...], data_files=(), layers: tuple[str, ...] = ()) -> Zygote:
    """This process's zygote for ``preload`` and ``data_files`` (started lazily, restarted when dead)."""
    key = (tuple(preload), tuple(str(Path(f).resolve()) for f in data_files), tuple(layers))
    with _registry_lock:
        z = _registry.get(key)
        if z is None:
            z = _registry[key] = Zygote(key[0], key[1], key[2])
            weakref.finalize(z, z._stop)
    z.ensure()
    return z


def stop_all() -> None:
    """Stop every zygote of this process (they also die with it)."""
    with _registry_lock:
        zs = list(_registry.values())
        _registry.clear()
    for z in zs:
        z.stop()


def _zygote_log():
    """Where the zygote's own stderr goes (``DLGRADE_ZYGOTE_LOG``, for debugging; else nowhere)."""
    path = os.environ.get("DLGRADE_ZYGOTE_LOG")
    return open(path, "ab") if path else subprocess.DEVNULL  # noqa: SIM115 - Popen dups it

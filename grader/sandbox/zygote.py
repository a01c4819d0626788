"""The pre-loaded forking sandbox: one zygote per grading process (shared with the local pool it forks).

The zygote is ``dlgrade_worker`` in ``zygote`` mode inside its own bubblewrap
sandbox (or, without bubblewrap, a plain process with rlimits only). It has
imported numpy, scipy and matplotlib once, and adds the modules of numpy, scipy,
matplotlib and torch that a job's code imports when the first such job comes; per job the
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
DEFAULT_PRELOAD = ("numpy", "scipy.special", "scipy.optimize", "scipy.integrate", "scipy.linalg", "matplotlib")
"""What a zygote imports before its first job: about 0.45 s. ``matplotlib`` is the Agg backend with
``matplotlib.pyplot`` registered lazily; ``scipy.stats`` (0.3 s) and ``torch`` are imported when a job's code
imports them (once, by the zygote)."""
TORCH_PRELOAD = DEFAULT_PRELOAD + ("torch",)
START_TIMEOUT_S = 120.0


_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^#\n;]+)", re.M)
_FROM = re.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+\(?([^#\n;)]+)", re.M)


def preload_for(statements: list[dict]) -> tuple[str, ...]:
    """The modules of numpy, scipy, matplotlib and torch that ``statements`` import, numpy first.

    ``import scipy.optimize``, ``from scipy import stats, optimize as opt``, ``import torch.nn as nn``:
    a zygote imports each once, when a job first needs it, so the job's child
    does not. Only a speed hint: it decides nothing else (a name that is not
    a module is tried once and ignored).
    """
    found = {"numpy"}
    for st in statements:
        src = str(st.get("source", ""))
        for m in _IMPORT.finditer(src):
            for part in m.group(1).split(","):
                found.add(part.split(" as ")[0].strip())
        for m in _FROM.finditer(src):
            base = m.group(1)
            found.add(base)
            if base in ("scipy", "torch", "numpy"):
                found.update(f"{base}.{n.split(' as ')[0].strip()}" for n in m.group(2).split(","))
    keep = [n for n in found if n.split(".")[0] in ("numpy", "scipy", "matplotlib", "torch")
            and all(p.isidentifier() for p in n.split(".")) and n.count(".") <= 1]
    return tuple(sorted(keep, key=lambda n: (n != "numpy", n)))


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
        self.shared = False  # forked children of this process may connect to it (see share())
        self.inherited: socket.socket | None = None  # in such a child: the owner's control socket, to connect
        self.attached = False  # this object talks to another process's zygote over a private connection
        self.rid = 0

    def alive(self) -> bool:
        if self.attached:
            return self.ctrl is not None
        return self.proc is not None and self.proc.poll() is None

    def ensure(self) -> None:
        with self._lock:
            if not self.alive():
                self._attach_or_start()

    def share(self) -> None:
        """Let processes forked from this one (a local pool's workers) use this zygote.

        Each such child asks it once for a private control socket (the
        ``connect`` request) instead of starting a zygote of its own; if that
        fails (the zygote died), it starts its own as before.
        """
        self.shared = True

    def _attach_or_start(self) -> None:
        inherited, self.inherited = self.inherited, None
        if inherited is not None:
            try:
                inherited.settimeout(30)
                socket.send_fds(inherited, [json.dumps({"op": "connect"}).encode()], [])
                for _ in range(64):  # siblings share this socket: any connect reply is a fresh private socket
                    msg, fds, _, _ = socket.recv_fds(inherited, 65536, 1)
                    if not msg:
                        break
                    reply = json.loads(msg)
                    if isinstance(reply, dict) and reply.get("op") == "connect" and len(fds) == 1:
                        self.ctrl = socket.socket(fileno=fds[0])
                        self.ctrl.settimeout(30)
                        self.attached = True
                        return
                    for fd in fds:
                        os.close(fd)
            except (OSError, ValueError):
                pass
            finally:
                inherited.close()
        self.attached = False
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
        self.rid += 1
        req = {**req, "rid": self.rid}
        try:
            socket.send_fds(self.ctrl, [json.dumps(req).encode()], list(fds))
            while True:  # a reply to an earlier request that timed out is skipped
                msg, got, _, _ = socket.recv_fds(self.ctrl, 65536, 1)
                for fd in got:
                    os.close(fd)
                if not msg:
                    raise ZygoteError("the zygote stopped answering")
                reply = json.loads(msg)
                if isinstance(reply, dict) and reply.get("rid") == self.rid:
                    return reply
        except (OSError, ValueError) as exc:
            raise ZygoteError(f"the zygote stopped answering ({type(exc).__name__})") from None

    def fork(self, job_spec: dict, chan: int, out: int, err: int, status: int) -> int:
        """Start one job; its pid in the zygote (for :meth:`kill`)."""
        with self._lock:
            for attempt in (0, 1):
                if not self.alive():
                    self._attach_or_start()
                try:
                    return int(self._request({"op": "fork", "spec": job_spec}, (chan, out, err, status))["pid"])
                except ZygoteError:
                    if attempt:
                        raise
                    # it died since the last job (a shared one: with the process that started it, say): the
                    # job is not the student's failure, so it goes to a zygote of this process's own
                    self._stop()
                    self.attached = False
            raise ZygoteError("the zygote stopped answering")

    def kill(self, pid: int) -> None:
        """Kill job ``pid``'s process group inside the zygote's sandbox."""
        with self._lock:
            if self.alive():
                try:
                    self._request({"op": "kill", "pid": pid})
                except ZygoteError:
                    self._stop()

    def _stop(self) -> None:
        if self.attached:  # another process's zygote: only our connection to it is ours to close
            if self.ctrl is not None:
                self.ctrl.close()
            self.ctrl = None
            return
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
    """In a forked child (e.g. a multiprocessing worker): keep shared zygotes to connect to, drop the rest.

    A zygote the parent shared (:meth:`Zygote.share`) is kept as a handle that
    connects on first use; any other is the parent's alone, and the child
    starts its own when it needs one.
    """
    global _registry_lock
    _registry_lock = threading.Lock()
    for key, z in list(_registry.items()):
        z._lock = threading.Lock()
        if z.shared and not z.attached and z.ctrl is not None and z.owner != os.getpid():
            z.inherited, z.ctrl, z.proc, z.hostdir = z.ctrl, None, None, None
            z.owner, z.shared, z.starts = os.getpid(), False, 0
            continue
        z._stop()
        del _registry[key]


os.register_at_fork(after_in_child=_forget_inherited)


def get_zygote(preload: tuple[str, ...], data_files=(), layers: tuple[str, ...] = ()) -> Zygote:
    """This process's zygote for ``data_files`` and ``layers`` (started lazily, restarted when dead).

    One per process and sandbox shape: ``preload`` is what a new one imports before its first job; a
    job's own imports (:func:`preload_for`, sent with the job) are added to a running one as they come.
    """
    key = (tuple(str(Path(f).resolve()) for f in data_files), tuple(layers))
    with _registry_lock:
        z = _registry.get(key)
        if z is None:
            z = _registry[key] = Zygote(tuple(preload), key[0], key[1])
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

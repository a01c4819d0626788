"""The processes inside the sandbox: a one-shot waiter or a zygote, and the student's worker.

Started by the supervisor as ``python -I -S -B -c BOOT PKG_PARENT SITE_DIRS MODE SPEC``
(see ``grader.sandbox.isolation.python_command``):

``fresh``
    this process (pid 1 of the sandbox) forks the worker, waits for it and
    writes its exit status to the status fd; nothing of the student runs here.
``zygote``
    imports the ``preload`` modules once, then forks one worker per request
    received on its control socket (``SOCK_SEQPACKET``; the request carries
    the job's channel, stdout, stderr and status fds by ``SCM_RIGHTS``),
    reaps it and writes its exit status to that job's status fd.

The worker gets fresh tmpfs ``/job`` and ``/tmp`` and a ``/proc`` showing only
its own processes (when the sandbox may mount), sets its rlimits, drops to the
job's uid, sets no-new-privs and the parent-death signal, then (:func:`serve`)
answers the calls the supervisor sends over the framed channel one at a time.
This package imports nothing of ``grader``.
"""
from __future__ import annotations

import builtins
import ctypes
import gc
import json
import os
import signal
import socket
import sys
import types
import time

try:
    import resource
except ImportError:  # Windows: only the portable start (``portable`` mode, worker/portable.py) runs there
    resource = None

from . import wire
from .cells import run_cells
from .interpreter import MissingName, describe_exception, load_definitions, run_case

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
CHAN_FD = 3
_libc = None


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(_c().mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


# ----------------------------------------------------------------------------
# process set-up of one job


def _die_with(parent: int):
    _check(_c().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    if os.getppid() != parent:
        os._exit(70)


def _private_dirs(spec) -> str | None:
    """Fresh tmpfs over /job and /tmp (half of ``disk_mb`` each) and a /proc showing only the job's processes.

    Done in a new mount namespace; returns None when this sandbox cannot
    mount (no CAP_SYS_ADMIN): the caller then uses a private directory.
    """
    if not spec.get("mount"):
        return None
    try:
        _check(_c().unshare(CLONE_NEWNS), "unshare")
    except OSError:
        return None
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    half, inodes = max(1, int(spec["disk_mb"]) // 2), max(16, int(spec["inodes"]) // 2)
    _mount("tmpfs", "/job", "tmpfs", MS_NOSUID | MS_NODEV, f"size={half}m,nr_inodes={inodes},mode=0755")
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={half}m,nr_inodes={inodes},mode=1777")
    uid = spec.get("uid")
    if uid is not None:
        os.chown("/job", uid, uid)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")
    return "/job"


def _drop(spec, cpu_s):
    """rlimits, then the uid, then no-new-privs and the parent-death signal (in that order)."""
    mem = int(spec["memory_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
    fsize = int(spec["file_size_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    uid = spec.get("uid")
    if uid is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (int(spec["nproc"]), int(spec["nproc"])))
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    _check(_c().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")


def _place_fds(fds: dict):
    """chan -> 3, stdout -> 1, stderr -> 2, stdin from /dev/null; everything else closed."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fds["out"], 1)
    os.dup2(fds["err"], 2)
    os.dup2(fds["chan"], CHAN_FD)
    os.closerange(CHAN_FD + 1, 4096)


def _wait_and_report(pid: int, status_fd: int):
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            status, usage = 0, None
            break
    report = {"code": os.waitstatus_to_exitcode(status), "rss_kb": int(usage.ru_maxrss) if usage else 0,
              "pidns": os.getpid() == 1}  # as init, its exit kills every process left in the namespace
    try:
        os.write(status_fd, json.dumps(report).encode())
    except OSError:
        pass


def _zygote_child(spec: dict, fds: dict, parent: int):
    """In the job's child of the zygote: private dirs, then the worker. Never returns."""
    try:
        os.close(fds.pop("status"))
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        workdir = _private_dirs(spec)
        if workdir is None:
            workdir = os.path.join(spec["workdir"], f"c{os.getpid()}")
            os.mkdir(workdir, 0o700)
            if spec.get("uid") is not None:
                os.chown(workdir, spec["uid"], spec["uid"])
    except BaseException as exc:  # noqa: BLE001 - to the zygote's log; the supervisor sees the job die
        try:
            os.write(2, f"dlgrade zygote: job set-up failed: {type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(72)
    _worker_process(spec, fds, workdir, parent)


def _close(fds):
    for fd in fds.values():
        try:
            os.close(fd)
        except OSError:
            pass


def _worker_process(spec, fds, workdir, parent):
    try:
        _place_fds(fds)
        os.chdir(workdir)
        os.environ["HOME"] = workdir
        _drop(spec, int(spec["cpu_s"]))
        _die_with(parent)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    except BaseException as exc:  # noqa: BLE001
        os.write(2, f"sandbox set-up failed: {type(exc).__name__}: {exc}\n".encode())
        os._exit(71)
    serve(CHAN_FD, spec)


# ----------------------------------------------------------------------------
# the worker: definitions, then calls, over the channel


def _send(sock, header, arrays=None):
    sock.sendall(wire.encode_frame(header, arrays))


def serve(chan_fd: int, spec: dict):
    """Load the definitions and answer calls until the supervisor says ``end``. Never returns."""
    sock = socket.socket(fileno=chan_fd)
    reader = wire.FrameReader(max_total=2**62)
    job, _ = wire.read_frame(sock.recv, reader)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    warnings = load_definitions(job["statements"], namespace, job.get("statement_timeout_s"))
    full = job.get("full")
    drawn: list = []  # the figures the executed notebook drew (full mode), for `notebook_figures` steps
    if isinstance(full, dict):  # full mode: the notebook's cells, in order, then the calls
        _send(sock, {"kind": "executing", "warnings": warnings})
        warnings = []
        _link_data_files(job.get("data_files") or {})
        drawn = run_cells(list(full.get("cells") or []), namespace, lambda report: _send(sock, report),
                  cell_timeout_s=float(full["cell_timeout_s"]), notebook_timeout_s=float(full["notebook_timeout_s"]),
                  cell_output_chars=int(full["cell_output_chars"]),
                  notebook_output_chars=int(full["notebook_output_chars"]))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(int(job.get("torch_threads", 1)))
    _send(sock, {"kind": "loaded", "warnings": warnings})
    ctx = {"namespace": namespace, "aliases": job.get("aliases", {}), "data_files": job.get("data_files", {}),
           "workdir": os.getcwd(), "notebook_figures": drawn}
    max_out = int(job.get("max_message", wire.MAX_MESSAGE))
    while True:
        try:
            header, arrays = wire.read_frame(sock.recv, reader)
        except EOFError:
            break
        if header.get("kind") != "call":
            break
        call = header["call"]
        ctx["arrays"] = arrays
        t0 = time.perf_counter()
        result, out_arrays = _one_call(call, ctx)
        result["seconds"] = round(time.perf_counter() - t0, 4)
        try:
            frame = wire.encode_frame({"kind": "result", "id": call["id"], **result}, out_arrays)
            if len(frame) > max_out:
                raise wire.WireError(f"{len(frame) >> 20} MiB")
        except BaseException as exc:  # noqa: BLE001 - too large, unencodable floats, ...
            frame = wire.encode_frame({"kind": "result", "id": call["id"], "status": "error", "seconds": result["seconds"],
                                       "error": {"type": "OutputTooLarge", "where": "", "trace": "",
                                                 "message": f"the result could not be sent ({type(exc).__name__}: "
                                                            f"{str(exc)[:200]})"}})
        del out_arrays, result
        sock.sendall(frame)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)  # skip interpreter teardown: student objects may hang in __del__


def _link_data_files(files: dict):
    """Full mode: the course's data files also under their own names in the job directory (notebooks open them so)."""
    for name, path in files.items():
        if isinstance(name, str) and "/" not in name and name not in (".", "..") and isinstance(path, str):
            try:
                os.symlink(path, name)
            except OSError:
                pass


def _one_call(call, ctx):
    out_arrays = {}
    try:
        value = run_case(call, ctx)
    except MissingName as exc:
        return {"status": "missing", "error": {"type": "MissingName", "message": str(exc), "where": "", "trace": ""}}, {}
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt, MemoryError, ...
        return {"status": "error", "error": describe_exception(exc)}, {}
    try:
        plain = wire.encode(value, out_arrays)
    except BaseException as exc:  # noqa: BLE001
        msg = str(exc) if isinstance(exc, wire.Unencodable) else f"{type(exc).__name__}: {exc}"
        return {"status": "error", "error": {"type": "UnsupportedResult", "where": "", "trace": "",
                                             "message": f"the returned value cannot be graded: {msg}"}}, {}
    return {"status": "ok", "value": plain}, out_arrays


# ----------------------------------------------------------------------------
# zygote


PRELOADABLE = ("numpy", "scipy", "matplotlib", "torch")
"""The packages a zygote imports, at start or when a job's code imports them (their public submodules too)."""
LAZY = ("matplotlib.pyplot",)
"""Imported lazily in the zygote (registered, executed on first attribute use): a notebook's
``import matplotlib.pyplot as plt`` costs nothing in a job that never plots (about 0.3 s otherwise)."""


def preloadable(name) -> bool:
    """``numpy``, ``scipy.optimize``, ``torch.nn``, ...: a public module of :data:`PRELOADABLE`, two levels at most."""
    parts = name.split(".") if isinstance(name, str) else []
    return (0 < len(parts) <= 2 and parts[0] in PRELOADABLE
            and all(p.isidentifier() and not p.startswith("_") for p in parts))


class _Deferred(types.ModuleType):
    """A module that is imported for real on first attribute use (see :data:`LAZY`).

    It sits in ``sys.modules`` with a ``__spec__`` that is not initializing, so
    a later ``import`` statement finds it without loading it (importlib's own
    LazyLoader would load on that check). Attribute reads go to the real
    module once loaded.
    """

    def __getattr__(self, attr):
        return getattr(self._dlgrade_real(), attr)

    def __dir__(self):
        return dir(self._dlgrade_real())

    def _dlgrade_real(self):
        real = self.__dict__.get("_dlgrade_module")
        if real is None:
            import importlib

            name = self.__name__
            if sys.modules.get(name) is self:
                del sys.modules[name]
            try:
                real = importlib.import_module(name)
            except BaseException:
                sys.modules.setdefault(name, self)
                raise
            self.__dict__["_dlgrade_module"] = real
        return real


def _lazy(name: str) -> None:
    """Register ``name`` as a :class:`_Deferred` module, unless it is imported already."""
    import importlib.util

    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    module = _Deferred(name)
    module.__spec__, module.__loader__, module.__file__ = spec, spec.loader, spec.origin
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)


def _preload(names, tried: set | None = None, eager: bool = False):
    """Import ``names`` (preloadable ones only, each tried once); those that loaded.

    ``eager`` (a job that executes a notebook's cells, which draw what they
    import): a :data:`LAZY` module among ``names`` is imported for real, so the
    children share it (a plotting cell then takes 0.05 s instead of 0.3-0.4 s:
    pyplot and the font manager loaded afresh in every child).
    """
    loaded = []
    for name in names:
        if tried is not None:
            key = f"{name} (eager)" if eager and name in LAZY else name
            if key in tried:
                continue
            tried.add(key)
        if not preloadable(name):
            continue
        try:
            if name.split(".")[0] == "matplotlib":
                import matplotlib

                matplotlib.use("Agg")
                for lazy in LAZY:
                    _lazy(lazy)
                if name not in LAZY:
                    __import__(name)
                elif eager:
                    module = sys.modules.get(name)
                    module._dlgrade_real() if isinstance(module, _Deferred) else __import__(name)
            else:
                __import__(name)
            loaded.append(name)
        except Exception:  # noqa: BLE001 - a missing optional module is only slower later
            pass
    return loaded


def zygote(spec: dict):
    """Preload, then fork one job per request on a control socket.

    The first control socket (``spec["ctrl"]``) belongs to the grading
    process that started the zygote; when it closes, the zygote exits. A
    ``connect`` request on any control socket returns a new, private one (the
    processes of a local pool, forked from that grading process, each get
    their own, so their requests and replies never interleave). A ``kill``
    reaches only jobs forked through the same control socket. The zygote reaps
    its children itself and writes each job's exit status to the status fd
    that came with the job's request.
    """
    import select
    import shutil

    primary = socket.socket(fileno=int(spec.get("ctrl", CHAN_FD)))
    if spec.get("pdeathsig"):
        _die_with(os.getppid())
    gc.disable()  # no collections in the zygote (no freed holes in the pages its children share); gc.freeze below
    tried: set[str] = set()
    loaded = _preload(spec.get("preload", []), tried)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    jobs: dict[int, tuple[int, str | None]] = {}  # pid -> (status fd, private dir to remove)
    owner: dict[int, socket.socket] = {}  # pid -> the control socket that forked it (kept after the reap)
    ctrls = [primary]
    me = os.getpid()
    primary.send(json.dumps({"ready": loaded}).encode())

    def reap():
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            fd, tmpdir = jobs.pop(pid, (None, None))
            if fd is not None:
                report = {"code": os.waitstatus_to_exitcode(status), "rss_kb": int(usage.ru_maxrss), "pidns": False}
                try:
                    os.write(fd, json.dumps(report).encode())
                except OSError:
                    pass
                os.close(fd)
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)  # follows no links (dir_fd based on Linux)

    def answer(ctrl, reply: dict, fds=()):
        try:
            socket.send_fds(ctrl, [json.dumps(reply).encode()], list(fds))
        except OSError:  # that controller is gone; its socket is dropped on its next EOF
            pass

    while True:
        try:
            ready, _, _ = select.select([*ctrls, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in ready:
            try:
                while os.read(wake_r, 4096):
                    pass
            except BlockingIOError:
                pass
            reap()
        for ctrl in [c for c in ready if c is not wake_r]:
            try:
                msg, fds, _, _ = socket.recv_fds(ctrl, 65536, 8)
            except OSError:
                msg, fds = b"", []
            if not msg:
                if ctrl is primary:
                    os._exit(0)
                ctrls.remove(ctrl)
                ctrl.close()
                for pid in [p for p, c in owner.items() if c is ctrl]:
                    del owner[pid]
                continue
            try:
                req = json.loads(msg)
                op, rid = req.get("op"), req.get("rid")
            except (ValueError, AttributeError):
                req, op, rid = {}, None, None
            if op == "fork" and len(fds) == 4:
                named = dict(zip(("chan", "out", "err", "status"), fds))
                job = {**spec, **req["spec"]}
                wanted = job.get("modules")
                if isinstance(wanted, list):  # the job's imports: loaded once here, for it and every later job
                    loaded += _preload(wanted[:64], tried, eager=job.get("executes") is True)
                sys.stdout.flush()
                sys.stderr.flush()
                gc.freeze()  # the child's collections skip the preloaded modules' objects: no copy-on-write of them
                pid = os.fork()
                if pid == 0:
                    gc.enable()
                    for c in ctrls:
                        c.close()
                    os.close(wake_r)
                    os.close(wake_w)
                    _zygote_child(job, named, me)
                jobs[pid] = (named.pop("status"), None if job.get("mount") else os.path.join(job["workdir"], f"c{pid}"))
                owner[pid] = ctrl
                _close(named)
                answer(ctrl, {"op": op, "rid": rid, "pid": pid})
                continue
            for fd in fds:
                os.close(fd)
            if op == "connect":
                mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                ctrls.append(mine)
                answer(ctrl, {"op": op, "rid": rid, "ok": True}, [theirs.fileno()])
                theirs.close()
                continue
            pid = req.get("pid")
            if op == "kill" and isinstance(pid, int) and owner.get(pid) is ctrl:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            answer(ctrl, {"op": op, "rid": rid, "ok": True})


def fresh(spec: dict):
    """One job: this process waits while its child runs the worker."""
    fds = {"chan": int(spec["chan"]), "status": int(spec["status"]), "out": 1, "err": 2}
    if spec.get("pdeathsig"):
        _die_with(os.getppid())
    me = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(fds["status"])
        try:
            workdir = _private_dirs(spec) or spec["workdir"]  # inodes capped too, when it can mount
        except OSError as exc:
            os.write(2, f"sandbox set-up failed: {exc}\n".encode())
            os._exit(72)
        _worker_process(spec, fds, workdir, me)
    os.close(fds["chan"])
    _wait_and_report(pid, fds["status"])
    os._exit(0)


def boot(argv):
    mode, spec = argv[0], json.loads(argv[1])
    if mode == "zygote":
        zygote(spec)
    elif mode == "fresh":
        fresh(spec)
    elif mode == "portable":
        from .portable import start

        start(spec, serve)
    else:
        raise SystemExit(f"unknown mode {mode!r}")

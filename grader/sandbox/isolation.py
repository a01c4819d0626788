"""Isolation layers: probing, the bubblewrap command line, sandbox uids, the worker's environment."""
from __future__ import annotations

import atexit
import json
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from functools import lru_cache
from pathlib import Path

try:
    import fcntl  # POSIX only: the sandbox uids' locks (the ``uid`` layer, Linux)
except ImportError:  # Windows: the student's self-check takes the portable path (grader.sandbox.portable)
    fcntl = None

UID_BASE, UID_COUNT = 61000, 2000
UID_LOCK_DIR = Path("/run/dlgrade-uids")
VENV_INSIDE = "/venv"
WORKER_INSIDE = "/opt/dlgrade"
DATA_INSIDE = "/data"
PKG_NAME = "dlgrade_worker"
WORKER_PACKAGE = Path(__file__).with_name("worker")
BOOT = ("import sys;sys.path.insert(0,sys.argv[1]);sys.path+=[p for p in sys.argv[2].split(':') if p];"
        "from dlgrade_worker.__main__ import boot;boot(sys.argv[3:])")


# ----------------------------------------------------------------------------
# paths


def _is_venv() -> bool:
    return Path(sys.prefix).resolve() != Path(sys.base_prefix).resolve()


def site_dirs() -> list[Path]:
    """site-packages of this environment (added explicitly: the worker runs with ``-S``)."""
    paths = sysconfig.get_paths()
    return sorted({Path(paths["purelib"]).resolve(), Path(paths["platlib"]).resolve()})


def inside(path: Path) -> str:
    """Where a host path of the Python installation appears in the sandbox."""
    path = Path(path).resolve()
    if _is_venv():
        venv = Path(sys.prefix).resolve()
        if path == venv or venv in path.parents:
            return str(Path(VENV_INSIDE) / path.relative_to(venv))
    return str(path)


def python_binds() -> list[tuple[str, str]]:
    """(host, inside) read-only binds of the Python installation."""
    binds = [(str(Path(sys.base_prefix).resolve()), str(Path(sys.base_prefix).resolve()))]
    if _is_venv():
        binds.append((str(Path(sys.prefix).resolve()), VENV_INSIDE))
    return binds


def python_inside() -> str:
    return f"{VENV_INSIDE}/bin/python" if _is_venv() else str(Path(sys.executable).resolve())


_copy_lock = threading.Lock()
_copy: Path | None = None


def _remove_copy(root: Path, owner: int) -> None:
    """Remove this process's worker copy at exit (not a forked child's: the copy is its parent's)."""
    if os.getpid() == owner:
        shutil.rmtree(root, ignore_errors=True)


def worker_copy() -> Path:
    """A private read-only copy of the worker package (made once per process); its parent dir."""
    global _copy
    with _copy_lock:
        if _copy is None or not (_copy / PKG_NAME / "__main__.py").is_file():
            root = Path(tempfile.mkdtemp(prefix="dlgrade-worker-"))
            shutil.copytree(WORKER_PACKAGE, root / PKG_NAME, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_old.py"))
            for p in [root, *root.rglob("*")]:
                p.chmod(0o755 if p.is_dir() else 0o644)
            atexit.register(_remove_copy, root, os.getpid())
            _copy = root
        return _copy


def secret_paths() -> list[Path]:
    """The checkout, the grader and the reference: hidden if a bind would expose them.

    The reference is *located* (``find_spec``), never imported: nothing of it runs here.
    """
    pkg = Path(__file__).resolve().parents[1]
    here = [pkg]
    if (pkg.parent / "pyproject.toml").exists() or (pkg.parent / ".git").exists():
        here.append(pkg.parent)  # a checkout (its rubrics, tests...); never site-packages of an installed wheel
    spec = importlib.util.find_spec("reference")  # None in a student's release bundle
    if spec is not None and spec.origin:
        here.append(Path(spec.origin).resolve().parent)
    extra = os.environ.get("DLGRADE_SECRET_PATHS", "")
    here += [Path(p).resolve() for p in extra.split(os.pathsep) if p]
    return here


def bwrap_args(*, data_files=(), caps=(), tmp_mb: int = 128, job_mb: int = 128,
               die_with_parent: bool = True) -> list[str]:
    """bubblewrap options: new namespaces, system dirs and Python read-only, tmpfs /tmp and /job.

    ``die_with_parent`` ties the sandbox to the *thread* that starts it
    (``PR_SET_PDEATHSIG``): right for one job, wrong for a zygote that outlives
    the thread that happened to start it (it exits when its control socket closes).
    """
    args = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            *(["--die-with-parent"] if die_with_parent else []), "--new-session", "--as-pid-1"]
    for sysdir in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc"):
        p = Path(sysdir)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), sysdir]
        elif p.exists():
            args += ["--ro-bind", sysdir, sysdir]
    # the fresh /tmp, /proc and /dev come *before* the Python binds: Python may live under /tmp
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(tmp_mb * 2**20), "--tmpfs", "/tmp"]
    made = {Path("/tmp")}
    binds = python_binds() + [(str(worker_copy()), WORKER_INSIDE)]
    for host, dest in binds:
        for parent in reversed(Path(dest).parents):
            if str(parent) != "/" and parent not in made and not str(parent).startswith(("/usr", "/etc")):
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        args += ["--ro-bind", host, dest]
    for secret in secret_paths():
        for host, dest in binds:
            if secret == Path(host) or Path(host) in secret.parents:
                args += ["--tmpfs", str(Path(dest) / secret.relative_to(host))]
    if data_files:
        args += ["--perms", "0755", "--dir", DATA_INSIDE]
        for f in data_files:
            args += ["--ro-bind", str(Path(f).resolve()), f"{DATA_INSIDE}/{Path(f).name}"]
    args += ["--perms", "1777", "--size", str(job_mb * 2**20), "--tmpfs", "/job", "--chdir", "/job",
             "--cap-drop", "ALL"]
    for cap in caps:
        args += ["--cap-add", cap]
    return args


def python_command(mode: str, spec: dict, *, namespaced: bool, bwrap: list[str] | None = None) -> list[str]:
    """The command that starts ``dlgrade_worker`` in ``mode`` (``fresh`` or ``zygote``)."""
    if namespaced:
        sites = ":".join(inside(p) for p in site_dirs())
        return [shutil.which("bwrap"), *(bwrap or []), python_inside(), "-I", "-S", "-B", "-c", BOOT,
                WORKER_INSIDE, sites, mode, json.dumps(spec)]
    sites = ":".join(str(p) for p in site_dirs())
    return [sys.executable, "-I", "-S", "-B", "-c", BOOT, str(worker_copy()), sites, mode, json.dumps(spec)]


def data_paths(data_files, namespaced: bool) -> dict[str, str]:
    """Data file name -> its path as the worker sees it."""
    return {Path(f).name: (f"{DATA_INSIDE}/{Path(f).name}" if namespaced else str(Path(f).resolve()))
            for f in data_files}


# ----------------------------------------------------------------------------
# what this machine supports


@lru_cache(maxsize=1)
def available_layers() -> tuple[str, ...]:
    """Isolation layers that work here, probed once per process (the probes run side by side)."""
    layers = ["rlimits"]
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return tuple(layers)
    probes = [[bwrap, *bwrap_args(), python_inside(), "-I", "-S", "-c", "pass"]]
    if os.geteuid() == 0:
        u = UID_BASE
        probes.append([bwrap, *bwrap_args(caps=("CAP_SETUID", "CAP_SETGID")), python_inside(), "-I", "-S", "-c",
                       f"import os;os.setgroups([]);os.setresgid({u},{u},{u});os.setresuid({u},{u},{u});"
                       "assert os.getuid()!=0"])
    ok = []
    procs = []
    try:
        for cmd in probes:
            procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        for p in procs:
            try:
                ok.append(p.wait(timeout=20) == 0)
            except subprocess.TimeoutExpired:
                ok.append(False)
    except OSError:
        pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    if not ok or not ok[0]:
        return tuple(layers)
    layers.append("namespaces")
    if len(ok) > 1 and ok[1]:
        layers.append("uid")
    return tuple(layers)


# ----------------------------------------------------------------------------
# sandbox uids: one per job, never shared between grading processes


class UidLease:
    """An exclusive sandbox uid, held through an ``fcntl`` lock on a file of its own."""

    def __init__(self, uid: int, fd: int):
        self.uid, self._fd = uid, fd

    def release(self):
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock
            self._fd = None


def take_uid() -> UidLease:
    """Lock the first free uid of the sandbox range (process-safe and thread-safe)."""
    UID_LOCK_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    start = (os.getpid() * 37 + threading.get_ident()) % UID_COUNT
    for i in range(UID_COUNT):
        uid = UID_BASE + (start + i) % UID_COUNT
        fd = os.open(UID_LOCK_DIR / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return UidLease(uid, fd)
    raise RuntimeError(f"all {UID_COUNT} sandbox uids are in use")


def kill_uid(uid: int, rounds: int = 100) -> int:
    """SIGKILL every live process of ``uid`` (found in /proc), until none is left; how many were killed."""
    killed = 0
    for _ in range(rounds):
        found = 0
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                if os.stat(f"/proc/{name}").st_uid != uid:
                    continue
                with open(f"/proc/{name}/stat", "rb") as f:
                    state = f.read(512).rsplit(b")", 1)[1].split()[0]
                if state in (b"Z", b"X"):
                    continue
                os.kill(int(name), signal.SIGKILL)
                found += 1
            except (OSError, IndexError):
                continue
        if not found:
            return killed
        killed += found
        time.sleep(0.002)
    return killed


def scrubbed_env(workdir: str) -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's leaks in."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "LANG": "C.UTF-8", "TMPDIR": "/tmp",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/mpl"}
    for keep in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # correctness on some CPUs
        if keep in os.environ:
            env[keep] = os.environ[keep]
    return env

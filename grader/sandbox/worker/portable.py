"""The worker's own start where the Linux sandbox cannot run (macOS, Windows): the student's self-check.

Started by :mod:`grader.sandbox.portable` as a plain subprocess of the
student's own Python (``python -I -S -B -c PORTABLE_BOOT PKG_PARENT SPEC``,
no fork, no memfd, no prctl), it

1. reads a one-time token from stdin (a pipe from the parent; never on the
   command line), connects to the parent's loopback listener and sends it,
   so the channel is the parent's and nobody else's;
2. sets the rlimits the parent asked for that this system accepts (none
   without the ``resource`` module: Windows) and starts a watchdog thread that
   ends this process when the parent is gone (its stand-in for
   ``PR_SET_PDEATHSIG``) and, where the parent asks (macOS, whose
   ``RLIMIT_AS`` cannot be relied on), when the peak resident set passes the
   memory limit;
3. says which limits are active (``{"kind": "hello", "limits": [...]}``),
   then answers the calls like every worker (:func:`serve`, the same framed,
   size-capped channel).

This module imports nothing of ``grader``.
"""
from __future__ import annotations

import os
import socket
import sys
import threading
import time

from . import wire

POLL_S = 0.5
MEMORY_EXIT = 137


def start(spec: dict, serve) -> None:
    """Connect, limit, report, then :func:`serve` (never returns)."""
    try:
        token = sys.stdin.readline().strip()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        sock = socket.create_connection((spec["host"], int(spec["port"])), timeout=30)
        sock.settimeout(None)
        sock.sendall(token.encode() + b"\n")
        workdir = spec["workdir"]
        os.chdir(workdir)
        os.environ["HOME"] = workdir
        active = apply_limits(spec)
        if spec.get("poll_memory"):
            active.append("memory (polled)")
        watch(spec, "memory (polled)" in active)
        if "file size" not in active:
            cap_streams(int(spec["file_size_mb"]) * 2**20)
        sock.sendall(wire.encode_frame({"kind": "hello", "limits": active}))
    except BaseException as exc:  # noqa: BLE001 - the parent sees the exit; stderr says why
        try:
            os.write(2, f"sandbox set-up failed: {type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(71)
    serve(sock.detach(), spec)


def apply_limits(spec: dict) -> list[str]:
    """Set the rlimits named in ``spec["rlimits"]``; the names of those this system accepted.

    ``cpu``, ``memory (address space)``, ``memory (data)``, ``file size``,
    ``core``, ``open files``. A limit is clamped to the hard limit already in
    force; one the system refuses is left out (and so not reported active).
    """
    try:
        import resource
    except ImportError:
        return []
    cpu = int(spec["cpu_s"])
    mem = int(spec["memory_mb"]) * 2**20
    fsize = int(spec["file_size_mb"]) * 2**20
    table = {"cpu": ("RLIMIT_CPU", cpu, cpu + 5), "memory (address space)": ("RLIMIT_AS", mem, mem),
             "memory (data)": ("RLIMIT_DATA", mem, mem), "file size": ("RLIMIT_FSIZE", fsize, fsize),
             "core": ("RLIMIT_CORE", 0, 0), "open files": ("RLIMIT_NOFILE", 256, 256)}
    active = []
    for name in spec.get("rlimits") or []:
        if name not in table or not hasattr(resource, table[name][0]):
            continue
        which, soft, hard = table[name]
        key = getattr(resource, which)
        try:
            _, old_hard = resource.getrlimit(key)
            if old_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, old_hard), min(hard, old_hard)
            resource.setrlimit(key, (soft, hard))
        except (ValueError, OSError):
            continue
        active.append(name)
    return active


def _parent_alive_posix(parent: int):
    return lambda: os.getppid() == parent


def _parent_waiter_windows(parent: int):
    """A function that blocks until ``parent`` exits (None when it cannot be watched)."""
    import ctypes

    synchronize, infinite = 0x00100000, 0xFFFFFFFF
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle = kernel32.OpenProcess(synchronize, False, parent)
    if not handle:
        return None
    return lambda: kernel32.WaitForSingleObject(handle, infinite)


def watch(spec: dict, poll_memory: bool) -> None:
    """A daemon thread that ends this process when the parent is gone or (``poll_memory``) the memory is over."""
    parent = int(spec.get("parent") or 0)
    limit_kb = int(spec["memory_mb"]) * 1024
    if os.name == "nt" and parent:
        try:
            waiter = _parent_waiter_windows(parent)
        except (OSError, AttributeError):
            waiter = None
        if waiter is not None:
            def orphaned():
                waiter()
                os._exit(70)

            threading.Thread(target=orphaned, daemon=True, name="dlgrade-parent").start()
        alive = None
    else:
        alive = _parent_alive_posix(parent) if parent else None
    peak = _peak_kb() if poll_memory else None
    if alive is None and peak is None:
        return

    def loop():
        while True:
            time.sleep(POLL_S)
            if alive is not None and not alive():
                os._exit(70)
            if peak is not None and peak() > limit_kb:
                os.write(2, f"MemoryError: over the memory limit of {limit_kb // 1024} MiB (polled)\n".encode())
                os._exit(MEMORY_EXIT)

    threading.Thread(target=loop, daemon=True, name="dlgrade-watch").start()


def _peak_kb():
    """The peak resident set of this process in KiB, as a function (None without ``resource``)."""
    try:
        import resource
    except ImportError:
        return None
    scale = 1024 if sys.platform == "darwin" else 1  # ru_maxrss: bytes on macOS, KiB elsewhere
    return lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // scale


class _Capped:
    """A text stream that stops writing (silently, after one note) once ``left`` characters are used."""

    def __init__(self, stream, left: list):
        self._stream, self._left = stream, left

    def write(self, text):
        n = len(text)
        if self._left[0] > 0:
            keep = text[:self._left[0]]
            self._left[0] -= len(keep)
            self._stream.write(keep)
            if self._left[0] <= 0:
                self._stream.write("\n[output cut: the file-size limit]\n")
                self._stream.flush()
        return n

    def __getattr__(self, name):
        return getattr(self._stream, name)


def cap_streams(limit: int) -> None:
    """``sys.stdout`` and ``sys.stderr`` together write at most ``limit`` characters (no ``RLIMIT_FSIZE``)."""
    left = [limit]
    sys.stdout = _Capped(sys.stdout, left)
    sys.stderr = _Capped(sys.stderr, left)

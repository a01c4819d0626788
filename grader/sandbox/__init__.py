"""The trust boundary: the only place where student code runs.

:func:`run_job` starts ``dlgrade_worker`` (the :mod:`grader.sandbox.worker`
package) under the isolation layers this machine supports, sends it the
submission's definitions and then the calls one at a time over a socketpair,
and reads back size-capped frames (JSON header plus raw numeric arrays; no
pickle, no npz). The trusted side never opens a path the sandbox can write.

Layers (each reported in every result):

``rlimits``
    address space, CPU seconds, file size, open files, no core dumps; a
    scrubbed environment; stdout and stderr to size-capped memfds.
``namespaces``
    bubblewrap: new pid/net/ipc/uts namespaces (no network; the whole process
    tree dies with the sandbox), a new root with only the system directories,
    the Python installation, the worker package and the data files, all
    read-only, plus size-capped tmpfs ``/job`` and ``/tmp``. The grader, the
    reference, the rubrics and answer keys are not in it.
``uid``
    the worker drops to an unprivileged uid of its own (locked per job, so
    concurrent grading processes never share one).
``zygote``
    the worker was forked from a pre-loaded interpreter of this process
    (:mod:`grader.sandbox.zygote`) instead of starting afresh.

Where memfd, prctl or fork are missing (macOS, Windows: the student's
self-check), :mod:`grader.sandbox.portable` runs the job instead, in a spawned
subprocess with the rlimits that system has; its one layer names them
(``rlimits: cpu, memory (data), file size, memory (polled)`` or ``timeout only``).
"""
from __future__ import annotations

import hashlib

from typing import TYPE_CHECKING

from grader.sandbox.isolation import WORKER_PACKAGE, available_layers, scrubbed_env
from grader.sandbox.zygote import DEFAULT_PRELOAD, NUMPY_PRELOAD, TORCH_PRELOAD, get_zygote, preload_for, stop_all

if TYPE_CHECKING:
    from grader.sandbox.supervisor import CallOutcome, IsolationUnavailable, JobResult, Limits, run_job

# the supervisor (and numpy with it) is imported on first use of one of its names: `dlgrade grade` starts the
# batch's zygote (isolation and zygote: standard library only) before the grader's own imports
_SUPERVISOR = ("CallOutcome", "IsolationUnavailable", "JobResult", "Limits", "run_job")

__all__ = ["CallOutcome", "DEFAULT_PRELOAD", "IsolationUnavailable", "JobResult", "Limits", "NUMPY_PRELOAD",
           "TORCH_PRELOAD", "preload_for",
           "available_layers", "get_zygote", "run_job", "scrubbed_env", "stop_all",
           "worker_fingerprint"]


def worker_fingerprint() -> str:
    """sha256 over every file of the worker package (names and contents)."""
    h = hashlib.sha256()
    for p in sorted(WORKER_PACKAGE.rglob("*.py")):
        if p.name == "_old.py":
            continue
        h.update(p.relative_to(WORKER_PACKAGE).as_posix().encode() + b"\0")
        h.update(p.read_bytes() + b"\0")
    return h.hexdigest()


def __getattr__(name: str):
    if name in _SUPERVISOR:
        from grader.sandbox import supervisor  # the package's names, on first use

        value = globals()[name] = getattr(supervisor, name)
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Grade a class folder into the gradebook: resumable, parallel (processes or Dask), interruptible.

The parent process reads the submissions (the intake), decides what still
needs grading, sends each submission's bytes to a worker (a local process
or a Dask task), and commits every result the moment it comes back; it is
the gradebook's only writer. Ctrl-C cancels what is queued, stops the
workers and keeps what is committed.
"""
from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import os
import signal
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

from grader.batch.gradebook import Gradebook, GradebookBusy, GradebookError, merge_item
from grader.batch.prestart import prestart_sandbox
from grader.batch.intake import ID_FROM, IntakeError, Refused, Skipped, discover, materialise, read_payload
from grader.batch.progress import make_reporter
from grader.model import Options, plain_text
from grader.names import file_stem
from grader.pipeline.executed import SUFFIX as EXECUTED_SUFFIX
from grader.pipeline.executed import write_executed
from grader.pipeline import failed_submission, grade_file, prepare_keys
from grader.pipeline.keys import key_version
from grader.rubric import Rubric, RubricError, get_rubric, load_rubric_cached, rubric_dir
from grader.sandbox import available_layers


class BatchError(RuntimeError):
    """A batch that cannot start or go on (bad input, busy gradebook, no sandbox); one clear sentence."""

    exit_code = 2


def default_db_path(class_dir, assignment) -> Path:
    """Where the gradebook goes unless ``--db`` says: beside the class folder, ``<assignment>.gradebook.sqlite``."""
    return Path(class_dir).resolve().parent / f"{assignment}.gradebook.sqlite"


def check_out_path(path, *, create: bool = True) -> Path:
    """Make sure an output file can be written before grading starts (creates its folder); raises BatchError."""
    path = Path(path)
    if path.is_dir():
        raise BatchError(f"--out {path} is a folder; give a file name such as {path / 'results.csv'}")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise BatchError(f"cannot write {path}: {parent} is a file, not a folder")
    if not parent.exists():
        if not create:
            raise BatchError(f"the folder of {path} does not exist")
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BatchError(f"cannot create the folder {parent} for {path} ({exc.strerror or exc})") from None
    if not os.access(parent, os.W_OK):
        raise BatchError(f"cannot write {path}: the folder {parent} is not writable")
    return path


def options_key(opts) -> str:
    """The options that change a result (a rerun with other ones grades again)."""
    return json.dumps({"full": bool(opts.full), "items": sorted(opts.items), "public_only": bool(opts.public_only),
                       "mode": opts.mode}, sort_keys=True)


def default_executed_dir(db_path) -> Path:
    """Where executed notebooks go unless ``--executed`` says: ``<assignment>.executed/`` beside the gradebook."""
    db_path = Path(db_path)
    name = db_path.name
    stem = name[: -len(".gradebook.sqlite")] if name.endswith(".gradebook.sqlite") else db_path.stem
    return db_path.with_name(f"{stem}.executed")


def executed_path(executed_dir, student: str) -> Path:
    """``<dir>/<student's file stem>.executed.ipynb`` (the one injective name per student id)."""
    return Path(executed_dir) / f"{file_stem(student)}{EXECUTED_SUFFIX}"


# ----------------------------------------------------------------------------
# what runs in a worker (a local process or a Dask worker): importable, picklable


@lru_cache(maxsize=8)
def _rubric(ref: str):

    return load_rubric_cached(ref) if ref.endswith((".yaml", ".yml")) else get_rubric(ref)


def grade_path(path, rubric_ref: str, opts):
    """The default grade function: the pipeline's ``grade_file``."""

    return grade_file(path, _rubric(rubric_ref), opts=opts)


def grade_payload(payload, rubric_ref: str, opts, grade_fn=None) -> dict:
    """Write the submission's bytes to a fresh folder and grade it; the result as a plain dict."""
    with tempfile.TemporaryDirectory(prefix="dlgrade-sub-") as tmp:
        res = (grade_fn or grade_path)(materialise(payload, tmp), rubric_ref, opts)
        return res.to_dict() if hasattr(res, "to_dict") else dict(res)


_BUSY = False


class _Stop(BaseException):
    pass


def _on_term(signum, frame):
    if _BUSY:
        raise _Stop()  # unwinds run_job: its finally kills the sandbox
    os._exit(128 + signum)


def _worker_init():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, _on_term)
    try:  # die with the parent, even on kill -9 (Linux)
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(1)
    except (OSError, AttributeError):
        pass


def _local_task(payload, rubric_ref, opts, grade_fn):
    global _BUSY
    _BUSY = True
    try:
        return grade_payload(payload, rubric_ref, opts, grade_fn)
    except _Stop:
        os._exit(128 + signal.SIGTERM)
    finally:
        _BUSY = False


# ----------------------------------------------------------------------------
# backends: the same loop drives a process pool or a Dask client


class _Local:
    def __init__(self, workers: int):
        self.workers = workers
        self.pool = self._new()

    def _new(self):
        return cf.ProcessPoolExecutor(max_workers=self.workers, initializer=_worker_init)

    def window(self) -> int:
        return self.workers

    def submit(self, payload, rubric_ref, opts, grade_fn, key):
        return self.pool.submit(_local_task, payload, rubric_ref, opts, grade_fn)

    def wait(self, futures, timeout):
        return cf.wait(futures, timeout=timeout, return_when=cf.FIRST_COMPLETED)[0]

    def broken(self, exc) -> bool:
        return isinstance(exc, cf.process.BrokenProcessPool)

    def renew(self):
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new()

    def abort(self):
        procs = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                try:
                    os.kill(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for p in procs:
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(2)

    def close(self):
        self.pool.shutdown(wait=True)

    @property
    def where(self) -> str:
        return f" with {self.workers} worker process(es)"


class _Dask:
    def __init__(self, address: str, timeout_s: float = 20):
        try:
            import distributed
        except ImportError:
            raise BatchError("--scheduler needs Dask: pip install 'dlgrade[dask]'") from None
        self.distributed = distributed
        try:
            self.client = distributed.Client(address, timeout=f"{timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise BatchError(f"cannot reach the Dask scheduler at {address} ({exc})") from None
        self.address = address

    def window(self) -> int:
        return max(4, 2 * sum(self.client.nthreads().values()))

    def submit(self, payload, rubric_ref, opts, grade_fn, key):
        return self.client.submit(grade_payload, payload, rubric_ref, opts, grade_fn, key=key, pure=False)

    def wait(self, futures, timeout):
        deadline = time.monotonic() + timeout
        while True:  # Future.done() is local state the client keeps up to date
            done = {f for f in futures if f.done()}
            if done or time.monotonic() >= deadline:
                return done
            time.sleep(0.05)

    def broken(self, exc) -> bool:
        return False

    def renew(self):
        pass

    def abort(self):
        self.client.close(timeout=10)

    def close(self):
        self.client.close(timeout=10)

    @property
    def where(self) -> str:
        return f" on the Dask cluster {self.address} ({sum(self.client.nthreads().values())} worker threads)"


# ----------------------------------------------------------------------------


@dataclass
class BatchSummary:
    assignment: str
    db_path: Path
    run_id: int | None = None
    entries: int = 0
    graded: int = 0
    failed: int = 0
    """Graded results with an error (unreadable submission or grader error)."""
    already_done: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    elapsed: float = 0.0
    interrupted: bool = False
    remaining: int = 0
    regrade_item: str | None = None
    where: str = ""

    @property
    def reuploads(self) -> list[Skipped]:
        return [s for s in self.skipped if s.category == "older_upload"]

    @property
    def exit_code(self) -> int:
        return 130 if self.interrupted else 0

    def lines(self) -> list[str]:
        what = f"item {self.regrade_item} re-graded" if self.regrade_item else "graded"
        out = [f"{self.graded} {what} ({self.failed} with errors), {self.already_done} already graded, "
               f"{len(self.skipped)} entries not graded, in {self.elapsed:.1f} s -> {self.db_path}"]
        for s in self.skipped:
            out.append(f"  {s.path.name}: {s.reason}")
        if self.interrupted:
            out.append(f"interrupted: {self.graded} result(s) of this run are saved in {self.db_path}; "
                       f"{self.remaining} still to grade. Run the same command again to grade the rest.")
        return out


@dataclass
class _Task:
    entry: object
    base: dict | None = None
    """For an item re-grade: the stored results row the item is merged into."""
    suspect: bool = False
    """In flight when a worker process died: graded again, alone."""


def _rubric_ref(rubric) -> str:

    if rubric.path is not None and Path(rubric.path).resolve() != (rubric_dir() / f"{rubric.assignment}.yaml").resolve():
        return str(Path(rubric.path).resolve())
    return rubric.assignment


def _grader_version() -> str:
    try:

        return version("dlgrade")
    except Exception:  # noqa: BLE001 - not installed as a distribution
        return "unknown"


def run_batch(class_dir, rubric, *, db_path=None, opts=None, workers=None, scheduler=None, regrade=False,
              regrade_item=None, id_pattern=None, id_from="name", progress="auto", grade_fn=None,
              wait_s: float = 0, stream=None, scheduler_timeout_s: float = 20, executed_dir=None) -> BatchSummary:
    """Grade every submission of ``class_dir`` that the gradebook does not have yet; see the module docstring.

    ``rubric``: a Rubric or an assignment name. ``grade_fn(path, rubric_ref, opts)`` replaces the
    pipeline (tests). ``executed_dir``: where the executed notebook of a submission graded in full mode
    is written (``<student>.executed.ipynb``; default :func:`default_executed_dir`); it is not kept in the
    gradebook. Raises :class:`BatchError` (or GradebookBusy) for anything the user must fix.
    """

    t0 = time.monotonic()
    opts = opts or Options()
    try:
        rubric = rubric if isinstance(rubric, Rubric) else get_rubric(rubric)
    except RubricError as exc:
        raise BatchError(str(exc)) from None
    if regrade_item:
        try:
            rubric.item(regrade_item)
        except KeyError as exc:
            raise BatchError(f"--regrade-item: {exc.args[0]}") from None
        if regrade:
            raise BatchError("--regrade and --regrade-item exclude each other; use one")
    # the zygote (numpy, scipy, ... imported once) starts on the other core while the intake, the gradebook
    # and the keys are read; the pool's processes, forked after it is up, share it
    zygote_start = prestart_sandbox(rubric, opts) if scheduler is None and grade_fn is None else None
    try:
        intake = discover(class_dir, id_pattern=id_pattern, id_from=id_from)
    except IntakeError as exc:
        raise BatchError(str(exc)) from None
    layers: tuple[str, ...] = ()
    if scheduler is None and grade_fn is None:

        layers = available_layers()
        if not opts.unsafe and "namespaces" not in layers:
            err = BatchError("bubblewrap (bwrap) is not usable here, so student code could read the answer keys. "
                             "Install it (`apt-get install bubblewrap`) or pass --unsafe to grade without isolation.")
            err.exit_code = 3
            raise err
    db_path = Path(db_path) if db_path else default_db_path(class_dir, rubric.assignment)
    executed_dir = Path(executed_dir) if executed_dir else default_executed_dir(db_path)
    summary = BatchSummary(rubric.assignment, db_path, entries=len(intake.entries), skipped=list(intake.skipped),
                           regrade_item=regrade_item)
    try:
        gb = Gradebook.open(db_path)
    except GradebookError as exc:
        raise BatchError(str(exc)) from None
    with gb:
        gb.acquire_writer(wait_s)
        fp = key_version(rubric)
        okey = options_key(opts)
        ref = _rubric_ref(rubric)
        item_opts = dataclasses.replace(opts, items=(regrade_item,)) if regrade_item else opts

        tasks: list[_Task] = []
        pending_item = set()
        if regrade_item:
            gb.invalidate_item(rubric.assignment, regrade_item)
            pending_item = set(gb.pending_item_regrade(rubric.assignment, regrade_item))
        for e in intake.entries:
            row = gb.latest_row(e.student_id, rubric.assignment)
            same_file = (row is not None and row["sha256"] == e.sha256 and row["options_key"] == okey
                         and not row["grader_failed"])
            if regrade_item and same_file:
                if e.student_id in pending_item:
                    tasks.append(_Task(e, base=row))
                else:
                    summary.already_done += 1
            elif regrade or gb.needs_grading(e.student_id, e.sha256, fp, options_key=okey, assignment=rubric.assignment):
                tasks.append(_Task(e))
            else:
                summary.already_done += 1

        run_id = gb.start_run(rubric.assignment, fp, grader_version=_grader_version(), layers=layers,
                              options={**json.loads(okey), "unsafe": opts.unsafe, "regrade": regrade,
                                       "regrade_item": regrade_item, "workers": workers, "scheduler": scheduler,
                                       "id_from": id_from, "id_pattern": id_pattern, "class_dir": str(class_dir)})
        summary.run_id = run_id
        gb.record_skipped(run_id, intake.skipped)
        reporter = make_reporter(progress, stream=stream)
        backend = None
        queue = deque(tasks)
        inflight: dict = {}

        def commit(task: _Task, result: dict, sha: str, failed_grader: bool = False):
            e = task.entry
            result = {**result, "student": e.student_id, "path": plain_text(str(e.path)), "sha256": sha}
            keep_notebook(e.student_id, result.pop("notebook", None), result, whole=task.base is None)
            meta = {**e.meta(), "sha256": sha, "name": e.name, "rubric_fingerprint": fp, "options_key": okey,
                    "grader_failed": failed_grader}
            if task.base is not None and not failed_grader:
                result = merge_item(task.base["result"], result, regrade_item)
                meta["options_key"] = task.base["options_key"]
            gb.record(run_id, meta, result)
            summary.graded += 1
            bad = bool(result.get("error"))
            summary.failed += bad
            reporter.finish(e.student_id, result, bad)

        def keep_notebook(student: str, notebook, result: dict, whole: bool):
            """Write the executed notebook beside the results (or remove a stale one: the new result has none)."""
            path = executed_path(executed_dir, student)
            try:
                if notebook:
                    write_executed(path, notebook)
                elif whole:
                    path.unlink(missing_ok=True)
            except (OSError, ValueError) as exc:
                result["warnings"] = list(result.get("warnings", [])) + [
                    f"the executed notebook could not be written to {path} ({type(exc).__name__}: {exc})"]

        def fail(task: _Task, reason: str):
            res = failed_submission(Path(task.entry.path), rubric, item_opts if task.base else opts, reason).to_dict()
            commit(task, res, task.entry.sha256, failed_grader=True)

        status = "finished"
        try:
            if tasks:
                if grade_fn is None and scheduler is None:  # keys once here, not once per worker process
                    prepare_keys(rubric, item_opts if regrade_item else opts)
                if zygote_start is not None:
                    zygote_start.join()
                backend = _Dask(scheduler, scheduler_timeout_s) if scheduler else _Local(workers or os.cpu_count() or 1)
            reporter.start(len(tasks), already=summary.already_done, skipped=len(intake.skipped),
                           where=backend.where if backend else "")
            while queue or inflight:
                while queue and len(inflight) < backend.window():
                    if inflight and (queue[0].suspect or any(t.suspect for t, _ in inflight.values())):
                        break  # a suspect of a dead worker runs alone, so the next death names the culprit
                    task = queue.popleft()
                    e = task.entry
                    try:
                        payload = read_payload(e.path, e.kind, intake.root)
                    except Refused as exc:
                        fail(task, f"could not be read when its turn came: {exc}")
                        continue
                    if task.base is not None and payload.sha256 != task.base["sha256"]:
                        task.base = None  # changed since the intake: grade it whole
                    fut = backend.submit(payload, ref, item_opts if task.base else opts, grade_fn,
                                         key=f"dlgrade-{run_id}-{payload.sha256[:12]}-{len(inflight)}-{time.time_ns()}")
                    inflight[fut] = (task, payload.sha256)
                    reporter.begin(e.student_id)
                broken = False
                for fut in backend.wait(inflight, timeout=0.5):
                    task, sha = inflight.pop(fut)
                    exc = fut.exception()
                    if exc is None:
                        res = fut.result()
                        theirs = res.get("key_version")
                        if grade_fn is None and theirs and theirs != fp:
                            fail(task, f"grader error (the worker graded with rubric fingerprint {theirs}, this "
                                       f"grader has {fp}: install the same dlgrade version on the workers)")
                        else:
                            commit(task, res, sha)
                    elif type(exc).__name__ == "IsolationUnavailable":
                        err = BatchError(str(exc))
                        err.exit_code = 3
                        raise err
                    elif backend.broken(exc):  # a worker process died: every task in flight fails with it
                        broken = True
                        reporter.requeue(task.entry.student_id)
                        if task.suspect:
                            fail(task, "grader error (the grading process died on this submission, also when "
                                       "graded alone); please report it")
                        else:
                            task.suspect = True
                            queue.appendleft(task)
                    else:
                        fail(task, f"grader error ({type(exc).__name__}: {exc}); please report it")
                if broken:
                    for task, _ in inflight.values():
                        reporter.requeue(task.entry.student_id)
                        task.suspect = True
                        queue.appendleft(task)
                    inflight.clear()
                    backend.renew()
            if regrade_item and not gb.pending_item_regrade(rubric.assignment, regrade_item):
                gb.finish_item_regrade(rubric.assignment, regrade_item)
        except KeyboardInterrupt:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            status = "interrupted"
            summary.interrupted = True
            summary.remaining = len(queue) + len(inflight)
            if backend:
                backend.abort()
                backend = None
        except BaseException:
            status = "failed"
            if backend:
                backend.abort()
                backend = None
            raise
        finally:
            reporter.stop()
            if backend:
                backend.close()
            gb.finish_run(run_id, status)
            summary.elapsed = time.monotonic() - t0
            if status == "interrupted":
                signal.signal(signal.SIGINT, signal.default_int_handler)
    return summary


def run_from_args(args, *, stream=None, **run_kw) -> BatchSummary:
    """``dlgrade grade`` with the flags of :func:`add_grade_arguments` (plus directory, assignment, full,
    unsafe, item); raises :class:`BatchError` with the message and ``exit_code`` to use.
    ``run_kw`` overrides :func:`run_batch` arguments (``rubric``, ``grade_fn``, ``progress``...)."""

    opts = Options(full=getattr(args, "full", False), unsafe=getattr(args, "unsafe", False),
                   items=tuple(getattr(args, "item", None) or ()), mode=getattr(args, "mode", None) or "auto")
    kw = dict(rubric=args.assignment, db_path=args.db, opts=opts, workers=args.workers, scheduler=args.scheduler,
              executed_dir=getattr(args, "executed", None),
              regrade=args.regrade, regrade_item=args.regrade_item, id_pattern=args.id_pattern,
              id_from=args.id_from, progress="quiet" if args.quiet else "auto", wait_s=args.wait, stream=stream)
    kw.update(run_kw)
    try:
        return run_batch(args.directory, kw.pop("rubric"), **kw)
    except GradebookBusy as exc:
        raise BatchError(str(exc)) from None


def add_grade_arguments(parser) -> None:
    """The batch flags of ``dlgrade grade``: --db --workers --scheduler --regrade --regrade-item --id-pattern
    --id-from --quiet --wait."""

    g = parser.add_argument_group("batch")
    g.add_argument("--db", metavar="FILE", help="the gradebook (default: <assignment>.gradebook.sqlite beside "
                   "the class folder); a rerun grades only what is new")
    g.add_argument("--workers", type=int, metavar="N", help="parallel grading processes (default: the number of cores)")
    g.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="grade on this Dask cluster instead "
                   "(pip install 'dlgrade[dask]')")
    g.add_argument("--regrade", action="store_true", help="grade everything again, even unchanged submissions")
    g.add_argument("--regrade-item", metavar="ITEM", help="re-grade only this item for everybody (after a rubric fix)")
    g.add_argument("--id-pattern", metavar="REGEX", help="regular expression with a named group (?P<id>...) that "
                   "picks the student id from each file or folder name")
    g.add_argument("--id-from", choices=ID_FROM, default="name", help="student ids from the file name (default), "
                   "or from Moodle / Canvas download names")
    g.add_argument("--executed", metavar="DIR", help="where the executed notebooks of full-mode gradings go "
                   "(<student>.executed.ipynb; default: <assignment>.executed/ beside the gradebook)")
    g.add_argument("--quiet", action="store_true", help="no progress output")
    g.add_argument("--wait", nargs="?", type=float, const=float("inf"), default=0.0, metavar="SECONDS",
                   help="if another run holds the gradebook, wait for it (for SECONDS, default: as long as it takes)")

"""The batch's shared zygote, started as early as possible (standard library only).

A batch's first job waits for the zygote: bubblewrap plus numpy, scipy and
matplotlib imported once, 0.5-1 s. ``dlgrade grade`` therefore starts it in a
background thread before anything else: :func:`prestart_command` reads the
command line and the rubric's YAML (its ``reference`` and ``data_files``
only), probes the isolation layers and starts the zygote, while the main
thread imports the grader (another 0.5 s) and reads the class folder, the
gradebook and the answer keys. :func:`prestart_sandbox` (called by
:func:`~grader.batch.runner.run_batch`) asks for the zygote of the rubric it
actually loaded; the zygote registry hands it the one already starting when
the data files and layers agree, and the pool's processes, forked after it is
up, share it. The command-line reading is only a guess: when it was wrong
(another rubric, ``--scheduler``), the early zygote is stopped and nothing
else changes.
"""
from __future__ import annotations

import argparse
import importlib.util
import threading
from pathlib import Path

from grader.locations import course_dir, data_dir
from grader.sandbox.isolation import available_layers
from grader.sandbox.zygote import DEFAULT_PRELOAD, TORCH_PRELOAD, Zygote, get_zygote, preload_for

_early: list[Zygote] = []  # started by prestart_command; stopped when the batch wants another one
_chosen: list[Zygote] = []  # the one the batch asked for (prestart_sandbox)
_lock = threading.Lock()


def module_source(name: str) -> str:
    """A module's source read from its file, without running it ('' when it has none)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return ""
    return Path(spec.origin).read_text(encoding="utf-8")


def batch_preload(reference_modules) -> tuple[str, ...]:
    """What a batch's zygote imports before its first job: the standard set, and torch if the reference uses it.

    Read from the reference modules' source files (nothing is imported). A
    submission's other imports are added to the zygote when it first needs them.
    """
    found = preload_for([{"source": module_source(m)} for m in reference_modules])
    return TORCH_PRELOAD if any(m.split(".")[0] == "torch" for m in found) else DEFAULT_PRELOAD


def data_paths(names) -> tuple[str, ...]:
    """The host paths of a rubric's ``data_files`` (bound read-only into the sandbox)."""
    return tuple(str(data_dir() / f) for f in names)


def _start(preload, data_files, layers, unsafe: bool):
    if not unsafe and "namespaces" not in layers:
        return None
    z = get_zygote(preload, data_files, layers)
    z.share()
    return z


def prestart_sandbox(rubric, opts):
    """Start the batch's zygote in a background thread and share it with the processes forked later.

    Returns the thread (join it before forking the pool: a fork while it runs
    would copy a half-started zygote) or ``None``. A failure here costs
    nothing: each pool process then starts its own zygote, as without this.
    """
    layers = tuple(available_layers())
    if not opts.unsafe and "namespaces" not in layers:
        return None

    def start():
        try:
            z = _start(batch_preload(rubric.reference_modules), data_paths(rubric.data_files), layers, opts.unsafe)
        except Exception:  # noqa: BLE001 - only a speed-up
            return
        with _lock:
            _chosen[:] = [z] if z is not None else []
            stale = [e for e in _early if e is not z]
            _early[:] = [e for e in _early if e is z]
        for other in stale:
            other.stop()  # the command line's guess was another sandbox

    t = threading.Thread(target=start, name="dlgrade-zygote-start", daemon=True)
    t.start()
    return t


def _command(argv) -> tuple[Path, bool] | None:
    """(the rubric file, --unsafe) of a ``dlgrade grade`` command line that grades locally, else None."""
    p = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    p.add_argument("--course")
    p.add_argument("-a", "--assignment")
    p.add_argument("--unsafe", action="store_true")
    p.add_argument("--scheduler")
    p.add_argument("-h", "--help", action="store_true")
    try:
        known, rest = p.parse_known_args(list(argv))
    except SystemExit:  # argparse's way of saying "malformed": the real parser will say it better
        return None
    if not rest or rest[0] != "grade" or not known.assignment or known.scheduler or known.help:
        return None
    course = Path(known.course).expanduser().resolve() if known.course else course_dir()
    return course / "rubrics" / f"{known.assignment}.yaml", known.unsafe


def prestart_command(argv) -> threading.Thread | None:
    """For ``dlgrade grade``: start the batch's zygote in a background thread now (see the module docstring).

    Returns the thread, or None for any other command. Never raises: a
    guess that fails costs only the guess.
    """
    try:
        found = _command(argv)
    except Exception:  # noqa: BLE001 - only a speed-up
        return None
    if found is None:
        return None
    rubric_path, unsafe = found
    try:  # here, not in the thread: 0.05-0.1 s (mostly the layer probes), which the main thread's imports
        import yaml  # would otherwise stretch by competing for the interpreter

        raw = yaml.load(rubric_path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        ref = raw.get("reference") or ()
        ref = [ref] if isinstance(ref, str) else [str(r) for r in ref]
        spec = batch_preload(ref), data_paths(raw.get("data_files") or ()), tuple(available_layers())
    except Exception:  # noqa: BLE001 - the real command reads the rubric and says what is wrong
        return None

    def start():
        try:
            z = _start(*spec, unsafe)
        except Exception:  # noqa: BLE001 - only a speed-up; the batch asks again
            return
        if z is not None:
            with _lock:
                stale = bool(_chosen) and _chosen[0] is not z  # the batch already took another one
                if not stale:
                    _early.append(z)
            if stale:
                z.stop()

    t = threading.Thread(target=start, name="dlgrade-zygote-prestart", daemon=True)
    t.start()
    return t

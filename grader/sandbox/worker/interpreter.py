"""The case interpreter: decode a call's inputs, look names up (with aliases), run its steps.

The same code runs the submission inside the sandbox and the reference in the
trusted grader, so both are called in exactly the same way. Inputs are tagged
values of :mod:`.wire` only (no legacy forms here).
"""
from __future__ import annotations

import ast
import os
import signal
import threading
import traceback
import types

import numpy as np

from . import figures
from .alarm import Alarm
from .instrument import EventLog, _torch, make_instrumented_mse, make_instrumented_sgd
from .wire import INPUT_TAGS, TAG, WireError, check_tag

FIGURES = "figures"
"""The reserved ``returns`` entry: the figures the case's steps drew (:func:`figures.capture`)."""


class MissingName(Exception):
    """A name the rubric calls is not defined by the submission."""


def decode(value, env, ctx, depth=0):
    """Turn a tagged input value into the object passed to a function."""
    if depth > 64:
        raise WireError("input nested too deeply")
    if isinstance(value, list):
        return [decode(v, env, ctx, depth + 1) for v in value]
    if isinstance(value, dict):
        if TAG in value:
            return _decode_tag(value, env, ctx, depth)
        return {k: decode(v, env, ctx, depth + 1) for k, v in value.items()}
    return value


def _decode_tag(value, env, ctx, depth):
    tag = check_tag(value, INPUT_TAGS)
    if tag == "nd":
        return np.array(ctx["arrays"][value["key"]])  # a fresh copy per call: callees may mutate
    if tag == "rng":
        return np.random.default_rng(int(value["seed"]))
    if tag == "seed":
        return int(value["value"])
    if tag == "var":
        return resolve_path(str(value["path"]), env, ctx, names_allowed=False)
    if tag == "data_file":
        name = str(value["name"])
        files = ctx.get("data_files")
        if files is not None:
            if name not in files:
                raise WireError(f"no data file {name!r} in this job")
            return files[name]
        return os.path.join(ctx.get("workdir", "."), name)
    if tag == "events":
        return ctx["events"]
    if tag == "dict":
        return {str(k): decode(v, env, ctx, depth + 1) for k, v in value["items"]}
    if tag == "tensor":
        torch = _torch()
        data = decode(value["data"], env, ctx, depth + 1)
        t = torch.tensor(np.asarray(data), dtype=getattr(torch, str(value.get("dtype", "float32"))))
        if value.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if tag == "sgd":
        params = decode(value["params"], env, ctx, depth + 1)
        opts = {k: decode(v, env, ctx, depth + 1) for k, v in dict(value.get("kwargs") or {}).items()}
        return make_instrumented_sgd(params, ctx["events"], **opts)
    opts = {k: decode(v, env, ctx, depth + 1) for k, v in dict(value.get("kwargs") or {}).items()}  # mse
    return make_instrumented_mse(ctx["events"], **opts)


def lookup_name(name, ctx):
    """A top-level name of the submission, trying the rubric's aliases in turn."""
    ns = ctx["namespace"]
    candidates = [name] + list(ctx.get("aliases", {}).get(name, []))
    for cand in candidates:
        if cand in ns:
            return ns[cand]
    also = f" (also looked for: {', '.join(candidates[1:])})" if len(candidates) > 1 else ""
    raise MissingName(f"`{name}` is not defined{also}")


def read_value(path, ctx):
    """``{read: name.attr}``: a top-level value of the executed notebook (not a function, class or module)."""
    head, *rest = path.split(".")
    try:
        obj = lookup_name(head, ctx)
    except MissingName as exc:
        raise MissingName(f"{exc}: the rubric reads the value your notebook computes at the top level "
                          "(after running every cell in order)") from None
    for attr in rest:
        obj = getattr(obj, attr)
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type, types.ModuleType)):
        raise TypeError(f"`{path}` is a {type(obj).__name__} in your notebook, not a computed value")
    return obj


def resolve_path(path, env, ctx, names_allowed=True):
    """``a.b.c``: ``a`` a step variable (or a submission name), then attributes."""
    head, *rest = path.split(".")
    if head in env:
        obj = env[head]
    elif head == "events":
        obj = ctx["events"]
    elif names_allowed:
        obj = lookup_name(head, ctx)
    else:
        raise KeyError(f"no step variable {head!r}")
    for attr in rest:
        obj = getattr(obj, attr)
    return obj


def set_params_by_shape(module, values):
    """Copy ``values`` (arrays) into ``module``'s parameters, each into the parameter of its shape.

    Parameters are matched by shape, not by name or creation order, so a network built in any
    order (or with functional activations) gets the same given parameters; parameters sharing a
    shape take the arrays of that shape in registration order. The multiset of shapes must be the
    module's, or this raises ``ValueError`` naming both.
    """
    torch = _torch()
    params = list(module.parameters())
    pool: dict[tuple, list] = {}
    for v in values:
        pool.setdefault(tuple(np.shape(v)), []).append(v)
    have = sorted(tuple(p.shape) for p in params)
    want = sorted(shape for shape, vs in pool.items() for _ in vs)
    if have != want:
        raise ValueError(f"the module's parameters have shapes {[list(s) for s in have]}, "
                         f"expected {[list(s) for s in want]}")
    with torch.no_grad():
        for p in params:
            p.copy_(torch.as_tensor(np.asarray(pool[tuple(p.shape)].pop(0)), dtype=p.dtype))


def wants_figures(returns) -> bool:
    """Whether a case's ``returns`` asks for the figures its steps drew."""
    return returns == FIGURES or (isinstance(returns, list) and FIGURES in returns)


def run_case(case, ctx):
    """Run one case (a list of steps) and return the value of ``returns``.

    ``ctx`` holds ``namespace`` (the module dict whose functions are called),
    ``aliases``, ``arrays`` (inputs) and ``data_files`` (name -> path) or
    ``workdir`` (the directory of the data files).

    ``returns: figures`` (alone or in a list) is the figures the steps drew, as
    plain data (:func:`figures.capture`): every pyplot figure open after the
    last step, plus a ``Figure`` or ``Axes`` a step returned. Figures left open
    by earlier calls are closed before the first step.

    ``{notebook_figures: name}``: the figures the executed notebook drew. In the
    sandbox (``ctx["notebook_figures"]``, set by full mode: every cell's figures
    as data) they are those; in a trusted run (the reference or a mutant, no
    notebook) ``name`` is the reference's function that draws what the sheet
    asks for, called without arguments, and its figures are captured.
    """
    env = {}
    ctx["events"] = EventLog()
    last = None
    returns = case.get("returns")
    drawn = wants_figures(returns)
    notebook: list = []
    if drawn:
        figures.use_agg()
        figures.close_all()
    for step in case["steps"]:
        if "torch_seed" in step:
            _torch().manual_seed(int(step["torch_seed"]))
            continue
        if "np_seed" in step:  # legacy global-state notebooks
            np.random.seed(int(step["np_seed"]))
            continue
        if "notebook_figures" in step:
            executed = ctx.get("notebook_figures")
            if executed is not None:  # the sandbox: what the notebook's cells drew
                notebook.extend(d for d in executed if isinstance(d, dict))
            else:  # a trusted run: the reference's own drawing of the figure
                figures.use_agg()
                last = lookup_name(str(step["notebook_figures"]), ctx)()
            continue
        if "read" in step:
            last = read_value(str(step["read"]), ctx)
            if step.get("let"):
                env[step["let"]] = last
            continue
        if "set_params" in step:
            module = resolve_path(str(step["set_params"]), env, ctx, names_allowed=False)
            set_params_by_shape(module, decode(step.get("args", []), env, ctx)[0])
            continue
        target = resolve_path(step["call"], env, ctx)
        args = decode(step.get("args", []), env, ctx)
        kwargs = decode(step.get("kwargs", {}), env, ctx)
        last = target(*args, **kwargs)
        if step.get("let"):
            env[step["let"]] = last
    if drawn:
        returned = [last] + [v for k, v in env.items()]
        captured = notebook + figures.capture(close=True, extra=figures.figures_in(returned))
    if returns is None:
        return last
    if isinstance(returns, list):
        return [captured if r == FIGURES else resolve_path(r, env, ctx, names_allowed=False) for r in returns]
    if returns == FIGURES:
        return captured
    return resolve_path(returns, env, ctx, names_allowed=False)


def describe_exception(exc, label_prefix="cell"):
    """One-line summary plus the last frames that belong to the submission."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(label_prefix) or f.filename.startswith("<")]
    where = ""
    if frames:
        f = frames[-1]
        where = f" (in {f.name}, {f.filename} line {f.lineno})"
    try:
        msg = str(exc)
    except BaseException:  # noqa: BLE001
        msg = "<message unavailable>"
    if isinstance(exc, SystemExit):
        msg = f"your code called sys.exit({msg}); return a value instead"
    elif isinstance(exc, MemoryError):
        msg = "out of memory (the sandbox's memory limit): " + msg
    elif isinstance(exc, OSError) and getattr(exc, "errno", None) in (27, 28):
        msg = "output limit exceeded (too much printed or written): " + msg
    return {"type": type(exc).__name__, "message": msg[:500], "where": where,
            "trace": "".join(traceback.format_list(frames[-4:]))[-2000:]}


class StatementTimeout(BaseException):
    """A top-level statement of the submission ran past its time limit while loading."""


def load_definitions(statements, namespace, timeout_s=None):
    """Execute the statements in ``namespace``; a failing one becomes a warning.

    A statement's ``line`` (default 1) is where its source starts in its cell, so
    tracebacks name the cell's own line numbers (without padding the source).
    ``timeout_s`` stops any one statement that runs longer (a training loop
    kept because a graded function reads what it trains), with the same
    re-firing :class:`~.alarm.Alarm` as full mode's cells; the supervisor's
    load deadline still bounds the whole load.
    """
    warnings = []
    alarm = Alarm(StatementTimeout) if timeout_s is not None and timeout_s > 0 and hasattr(signal, "setitimer") \
        and threading.current_thread() is threading.main_thread() else None
    stopped = f"took longer than {timeout_s:g} s and was stopped" if alarm else ""

    def warn(st, error):
        warnings.append({"label": st["label"], "kind": st.get("kind", ""), "id": st.get("id", ""), "error": error})

    try:
        for st in statements:
            try:
                try:
                    tree = ast.parse(st["source"], st["label"], "exec")
                    line = st.get("line", 1)
                    if isinstance(line, int) and line > 1:
                        ast.increment_lineno(tree, line - 1)
                    code = compile(tree, st["label"], "exec")
                    if alarm:
                        alarm.arm(timeout_s, stopped)
                    try:
                        exec(code, namespace)  # noqa: S102 - this *is* the sandbox
                    finally:
                        if alarm:
                            alarm.disarm()
                except BaseException as exc:  # noqa: BLE001 - SystemExit too: report, continue
                    if alarm:
                        alarm.disarm()
                    d = describe_exception(exc)
                    warn(st, d["message"] if isinstance(exc, StatementTimeout) else f"{d['type']}: {d['message']}")
            except StatementTimeout:  # landed outside the student's code, in our own bookkeeping
                if alarm:
                    alarm.disarm()
                warn(st, stopped)
    finally:
        if alarm:
            alarm.close()
    return warnings

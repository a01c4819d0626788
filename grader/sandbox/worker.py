"""The code that runs *inside* the sandbox: load a student's definitions, run calls.

This file is copied into the job directory and started as a plain script
(``python -I _dlgrade_worker.py JOBDIR``); it imports nothing from dlgrade, so the
sandbox can hide the grader, the reference and the rubrics completely. The
trusted grader imports the same file to run the *reference* through the same
case interpreter (:func:`run_case`) and the same output encoding
(:func:`to_plain`), so both sides are called in exactly the same way.

Job directory protocol (all plain data, no pickle)::

    defs.json     {"statements": [{"label", "source"}, ...]}   student definitions
    calls.json    {"calls": [{"id", "steps", "returns"}], "aliases": {...}}
    inputs.npz    arrays referenced as {"__nd__": key} in calls.json
    todo.json     ["call id", ...]   the calls this run must do, in order
    out/N.json    one result per call: {"status", "value" | "error", "seconds"}
    out/N.npz     the arrays of that result (keys referenced from value)
    load.json     warnings from loading the definitions

Progress goes to the file descriptor named on the command line as lines ``L`` (definitions loaded),
``S id`` (call started) and ``D id`` (call done), so the supervisor can time
each call and kill the worker when one overruns.
"""
from __future__ import annotations

import io
import json
import os
import sys
import time
import traceback
import zlib

import numpy as np

MAX_DEPTH = 8
MAX_ITEMS = 10_000
_SPECIAL_KEYS = ("__nd__", "rng", "seed", "tensor", "var", "sgd", "mse", "data_file", "events")


class MissingName(Exception):
    """A name the rubric calls is not defined by the submission."""


# ----------------------------------------------------------------------------
# instrumentation (training-loop items)


class EventLog(list):
    """Ordered record of what an instrumented optimizer / loss saw."""

    def add(self, kind, **info):
        if len(self) < 1_000_000:
            self.append({"kind": kind, **info})


def _torch():
    import torch

    return torch


def make_instrumented_sgd(params, events, **kwargs):
    """A ``torch.optim.SGD`` that logs ``zero_grad`` and ``step`` calls.

    Each ``step`` also records whether the gradients it applies are *fresh*:
    equal to the sum of the gradient contributions since the previous step
    (hooks on the parameters see every contribution). So gradients left to
    accumulate are caught however the student zeroes them (or forgets to):
    ``optimizer.zero_grad()``, ``model.zero_grad()`` or ``p.grad = None``.
    """
    torch = _torch()

    class InstrumentedSGD(torch.optim.SGD):
        def __init__(self, params, **kw):
            super().__init__(params, **kw)
            self._contrib = {}
            for group in self.param_groups:
                for p in group["params"]:
                    if p.requires_grad:
                        p.register_hook(self._hook(p))

        def _hook(self, p):
            def hook(grad):
                old = self._contrib.get(id(p))
                self._contrib[id(p)] = grad.detach().clone() if old is None else old + grad.detach()
                return grad
            return hook

        def zero_grad(self, set_to_none: bool = True):
            events.add("zero_grad")
            return super().zero_grad(set_to_none=set_to_none)

        def step(self, closure=None):
            fresh = True
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    c = self._contrib.get(id(p))
                    # fresh gradients are bitwise the contributions (None + g = g, 0 + g = g)
                    if c is None or not torch.equal(p.grad, c):
                        fresh = False
            events.add("step", fresh=fresh)
            self._contrib.clear()
            return super().step(closure)

    if isinstance(params, torch.nn.Module):
        params = params.parameters()
    return InstrumentedSGD(params, **kwargs)


def make_instrumented_mse(events, **kwargs):
    """An ``nn.MSELoss`` that logs each call, its ``backward`` and the target seen."""
    torch = _torch()

    class InstrumentedMSE(torch.nn.MSELoss):
        def forward(self, input, target):  # noqa: A002 - torch's own argument names
            out = super().forward(input, target)
            fingerprint = zlib.crc32(target.detach().cpu().contiguous().numpy().tobytes())
            events.add("loss", target=fingerprint, n=int(target.shape[0]) if target.dim() else 1)
            if out.requires_grad:
                out.register_hook(lambda g: events.add("backward") or g)
            return out

    return InstrumentedMSE(**kwargs)


# ----------------------------------------------------------------------------
# decoding rubric values into Python objects


def decode(value, env, ctx):
    """Turn a plain (JSON) rubric value into the object passed to a function."""
    if isinstance(value, list):
        return [decode(v, env, ctx) for v in value]
    if isinstance(value, dict):
        if len(value) >= 1 and next(iter(value)) in _SPECIAL_KEYS:
            return _decode_special(value, env, ctx)
        return {k: decode(v, env, ctx) for k, v in value.items()}
    return value


def _decode_special(value, env, ctx):
    key = next(iter(value))
    arg = value[key]
    if key == "__nd__":
        return np.array(ctx["arrays"][arg])  # a fresh copy per call: callees may mutate
    if key == "rng":
        return np.random.default_rng(int(arg))
    if key == "seed":
        return int(arg)
    if key == "var":
        return resolve_path(str(arg), env, ctx, names_allowed=False)
    if key == "data_file":
        return os.path.join(ctx.get("workdir", "."), str(arg))
    if key == "events":
        return ctx["events"]
    torch = _torch()
    if key == "tensor":
        data = decode(arg, env, ctx)
        dtype = getattr(torch, value.get("dtype", "float32"))
        t = torch.tensor(np.asarray(data), dtype=dtype)
        if value.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if key == "sgd":
        opts = {k: decode(v, env, ctx) for k, v in dict(arg).items()}
        params = opts.pop("params")
        return make_instrumented_sgd(params, ctx["events"], **opts)
    if key == "mse":
        opts = {k: decode(v, env, ctx) for k, v in dict(arg or {}).items()}
        return make_instrumented_mse(ctx["events"], **opts)
    raise ValueError(f"unknown value type {key!r}")


def lookup_name(name, ctx):
    """A top-level name of the submission, trying the rubric's aliases in turn."""
    ns = ctx["namespace"]
    candidates = [name] + list(ctx.get("aliases", {}).get(name, []))
    for cand in candidates:
        if cand in ns:
            return ns[cand]
    also = f" (also looked for: {', '.join(candidates[1:])})" if len(candidates) > 1 else ""
    raise MissingName(f"`{name}` is not defined{also}")


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


def run_case(case, ctx):
    """Run one case (a list of steps) and return the value of ``returns``.

    ``ctx`` holds ``namespace`` (the module dict whose functions are called),
    ``aliases``, ``arrays`` (inputs) and ``workdir``. The same function runs the
    reference in the trusted grader and the submission in the sandbox.
    """
    env = {}
    ctx["events"] = EventLog()
    last = None
    for step in case["steps"]:
        if "torch_seed" in step:
            _torch().manual_seed(int(step["torch_seed"]))
            continue
        if "np_seed" in step:  # legacy global-state notebooks
            np.random.seed(int(step["np_seed"]))
            continue
        target = resolve_path(step["call"], env, ctx)
        args = decode(step.get("args", []), env, ctx)
        kwargs = decode(step.get("kwargs", {}), env, ctx)
        last = target(*args, **kwargs)
        if step.get("let"):
            env[step["let"]] = last
    returns = case.get("returns")
    if returns is None:
        return last
    if isinstance(returns, list):
        return [resolve_path(r, env, ctx, names_allowed=False) for r in returns]
    return resolve_path(returns, env, ctx, names_allowed=False)


# ----------------------------------------------------------------------------
# encoding results as plain data


class Unencodable(Exception):
    """The value cannot be sent back as plain data."""


def to_plain(obj, arrays, depth=0):
    """Encode ``obj`` as JSON-able data, arrays moved into ``arrays`` by key."""
    if depth > MAX_DEPTH:
        raise Unencodable("result nested too deeply")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return obj if abs(obj) < 2**63 else float(obj)
    if isinstance(obj, float):
        return obj
    if isinstance(obj, np.generic):
        return to_plain(obj.item(), arrays, depth)
    if isinstance(obj, np.ndarray):
        return _array(obj, arrays)
    if isinstance(obj, EventLog):
        return {"__events__": [dict(e) for e in obj]}
    torch = sys.modules.get("torch")
    if torch is not None:
        if isinstance(obj, torch.Tensor):
            return _array(obj.detach().cpu().resolve_conj().numpy(), arrays)
        if isinstance(obj, torch.nn.Module):
            return _module(obj, arrays, depth)
        if isinstance(obj, torch.Size):
            return [int(v) for v in obj]
    if isinstance(obj, (list, tuple)):
        if len(obj) > MAX_ITEMS:
            try:
                return _array(np.asarray(obj, dtype=float), arrays)
            except (TypeError, ValueError):
                raise Unencodable(f"a list of {len(obj)} items") from None
        return [to_plain(v, arrays, depth + 1) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_plain(v, arrays, depth + 1) for k, v in list(obj.items())[:MAX_ITEMS]}
    return {"__object__": type(obj).__name__, "repr": _safe_repr(obj)}


def _array(a, arrays):
    if a.dtype == object:
        try:
            a = a.astype(float)
        except (TypeError, ValueError):
            raise Unencodable("an array of Python objects (dtype=object)") from None
    key = f"a{len(arrays)}"
    arrays[key] = np.ascontiguousarray(a)
    return {"__nd__": key}


def _module(mod, arrays, depth):
    leaves = []
    for name, sub in mod.named_modules():
        if next(sub.children(), None) is None:  # a leaf (the root too, if it has no children)
            info = {"name": name, "type": type(sub).__name__}
            for pname in ("weight", "bias"):
                p = getattr(sub, pname, None)
                info[pname] = list(p.shape) if hasattr(p, "shape") else None
            leaves.append(info)
    params = {n: _array(p.detach().cpu().numpy(), arrays) for n, p in mod.named_parameters()}
    return {"__module__": type(mod).__name__, "leaves": leaves, "params": params}


def _safe_repr(obj, limit=200):
    try:
        r = repr(obj)
    except BaseException as exc:  # a __repr__ that raises must not crash the worker
        r = f"<{type(obj).__name__} (repr raised {type(exc).__name__})>"
    return r[:limit]


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
    except BaseException:
        msg = "<message unavailable>"
    if isinstance(exc, SystemExit):
        msg = f"your code called sys.exit({msg}); return a value instead"
    elif isinstance(exc, MemoryError):
        msg = "out of memory (the sandbox's memory limit): " + msg
    elif isinstance(exc, OSError) and getattr(exc, "errno", None) == 27:
        msg = "output limit exceeded (too much printed or written): " + msg
    return {"type": type(exc).__name__, "message": msg[:500], "where": where,
            "trace": "".join(traceback.format_list(frames[-4:]))[-2000:]}


# ----------------------------------------------------------------------------
# main loop (inside the sandbox)


def _load_definitions(statements, namespace):
    warnings = []
    for st in statements:
        try:
            code = compile(st["source"], st["label"], "exec")
            exec(code, namespace)  # noqa: S102 - this *is* the sandbox
        except BaseException as exc:  # noqa: BLE001 - SystemExit too: report, continue
            d = describe_exception(exc)
            warnings.append({"label": st["label"], "kind": st.get("kind", ""),
                             "error": f"{d['type']}: {d['message']}"})
    return warnings


def main(jobdir, progress_fd=None):
    fd = int(progress_fd) if progress_fd is not None else -1
    progress = os.fdopen(fd, "w", buffering=1) if fd >= 0 and _fd_open(fd) else io.StringIO()
    with open(os.path.join(jobdir, "calls.json")) as f:
        spec = json.load(f)
    with open(os.path.join(jobdir, "defs.json")) as f:
        statements = json.load(f)["statements"]
    with open(os.path.join(jobdir, "todo.json")) as f:
        todo = json.load(f)
    arrays = {}
    if os.path.exists(os.path.join(jobdir, "inputs.npz")):
        with np.load(os.path.join(jobdir, "inputs.npz"), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    load_warnings = _load_definitions(statements, namespace)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(int(spec.get("torch_threads", 1)))
    _write_json(os.path.join(jobdir, "load.json"), {"warnings": load_warnings})
    progress.write("L\n")
    calls = {c["id"]: c for c in spec["calls"]}
    ctx = {"namespace": namespace, "aliases": spec.get("aliases", {}), "arrays": arrays, "workdir": jobdir}
    os.makedirs(os.path.join(jobdir, "out"), exist_ok=True)
    for n, cid in enumerate(todo):
        progress.write(f"S {cid}\n")
        t0 = time.perf_counter()
        result, out_arrays = _one_call(calls[cid], ctx)
        result["seconds"] = round(time.perf_counter() - t0, 4)
        base = os.path.join(jobdir, "out", safe_file(cid))
        try:
            if out_arrays:
                np.savez(base + ".npz", **out_arrays)
            _write_json(base + ".json", result)
        except BaseException as exc:  # e.g. the file-size limit
            _write_json(base + ".json", {"status": "error", "error": {
                "type": "OutputTooLarge", "message": f"the result could not be stored ({type(exc).__name__})",
                "where": "", "trace": ""}, "seconds": result["seconds"]})
        progress.write(f"D {cid}\n")
    progress.flush()
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: student objects may hang in __del__


def _one_call(call, ctx):
    out_arrays = {}
    try:
        value = run_case(call, ctx)
    except MissingName as exc:
        return {"status": "missing", "error": {"type": "MissingName", "message": str(exc), "where": "", "trace": ""}}, {}
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt, MemoryError, ...
        return {"status": "error", "error": describe_exception(exc)}, {}
    try:
        plain = to_plain(value, out_arrays)
        json.dumps(plain, allow_nan=True)
    except BaseException as exc:  # noqa: BLE001
        msg = str(exc) if isinstance(exc, Unencodable) else f"{type(exc).__name__}: {exc}"
        return {"status": "error", "error": {"type": "UnsupportedResult", "message": f"the returned value cannot be graded: {msg}",
                                             "where": "", "trace": ""}}, {}
    return {"status": "ok", "value": plain}, out_arrays


def safe_file(cid):
    """The file name of a call's result (the supervisor reads it under the same name)."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in cid)


def _write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, allow_nan=True)


def _fd_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main(*sys.argv[1:3])

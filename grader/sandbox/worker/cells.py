"""Full mode, inside the sandbox: run the notebook's cells in order, each with a time limit and capped outputs.

The worker executes the cells itself (no Jupyter kernel): each cell's
top-level statements run in notebook order in one namespace, as a kernel
would run them, with ``sys.stdout`` and ``sys.stderr`` replaced by bounded
buffers, so a cell that prints a gigabyte keeps only its first
``cell_output_chars`` characters (the rest is counted, never stored, never
sent). A cell that raises is recorded (its error becomes the cell's error
output) and the next cell runs; a cell past its time limit is stopped by
``SIGALRM`` (re-sent every half second, so a bare ``except:`` does not swallow
it for long) and the next cell runs. What a cell cannot be stopped in (a
native call that never returns, a student who resets the timer) the
supervisor's own deadline stops by killing the worker: the execution ends
there.

After each cell the figures hook (``figures.capture``, a sibling module, when
it exists) collects matplotlib figures as PNG data. Each cell's report is plain
data sent over the channel as soon as the cell ends. This module imports
nothing of ``grader``.
"""
from __future__ import annotations

import ast
import base64
import importlib
import io
import linecache
import os
import sys
import time
import traceback

from .alarm import Alarm
from .figures import figures_in

WORKER_DIR = os.path.dirname(os.path.abspath(__file__))
NOTE = "[dlgrade] "
MAX_FIGURES = 20
"""Figures kept per cell."""
MAX_NOTEBOOK_FIGURES = 24
"""Figures whose data (lines, scatter, bars, labels: :func:`figures.capture`) is kept for the whole notebook,
for the rubric's ``notebook_figures`` steps (figure items judged on what the executed notebook drew)."""
NOTEBOOK_POINT_BUDGET = 400_000
"""Points (line, scatter and bar values) of all the kept figures' data together; a figure past it is kept
without its data (its PNG and labels only) and flagged ``data_dropped``."""


class CellTimeout(BaseException):
    """A cell ran past its time limit (raised by the timer inside the cell's code)."""


class Outputs:
    """One cell's outputs, kept up to ``cap`` characters; what goes beyond is counted, not stored."""

    def __init__(self, cap: int):
        self.items: list[dict] = []
        self.left = max(0, int(cap))
        self.cap = self.left
        self.dropped = 0
        self.notes: list[str] = []

    def _keep(self, s: str) -> str:
        keep = s[: self.left] if len(s) > self.left else s
        self.left -= len(keep)
        self.dropped += len(s) - len(keep)
        return keep

    def stream(self, name: str, s: str) -> None:
        keep = self._keep(s)
        if not keep:
            return
        last = self.items[-1] if self.items else None
        if last is not None and last["type"] == "stream" and last["name"] == name:
            last["parts"].append(keep)
        else:
            self.items.append({"type": "stream", "name": name, "parts": [keep]})

    def value(self, kind: str, text: str) -> None:
        """``result`` (the value of the cell's last expression) or ``display`` (``display(x)``)."""
        self.items.append({"type": kind, "text": self._keep(text)})

    def error(self, ename: str, evalue: str, lines: list[str]) -> None:
        kept = []
        for ln in lines:
            k = self._keep(ln)
            if not k:
                break
            kept.append(k)
        self.items.append({"type": "error", "ename": self._keep(ename) or ename[:100], "evalue": self._keep(evalue),
                           "traceback": kept})

    def plain(self) -> list[dict]:
        out = []
        for it in self.items:
            if it["type"] == "stream":
                out.append({"type": "stream", "name": it["name"], "text": "".join(it["parts"])})
            else:
                out.append(it)
        if self.dropped:
            out.append({"type": "stream", "name": "stderr", "text": f"\n{NOTE}{self.dropped:,} more characters of "
                        f"output were not kept (the cap is {self.cap:,} characters per cell)\n"})
        for n in self.notes:
            out.append({"type": "stream", "name": "stderr", "text": f"{NOTE}{n}\n"})
        return out


class _Stream(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` during a cell: writes go into the cell's bounded :class:`Outputs`."""

    def __init__(self, name: str):
        self.name_ = name
        self.outputs: Outputs | None = None

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        if self.outputs is not None:
            self.outputs.stream(self.name_, s)
        return len(s)

    def writable(self):
        return True

    def flush(self):
        pass

    def isatty(self):
        return False

    @property
    def encoding(self):
        return "utf-8"


_current: list[Outputs | None] = [None]
_shown: list = []
"""Matplotlib figures the running cell displayed (``display(fig)``, or a ``Figure`` as its last value): captured
after the cell with the pyplot ones, as Jupyter would show them."""


def _figures_of(obj) -> list:
    """The matplotlib figures ``obj`` is or holds (none when matplotlib is not in use)."""
    if "matplotlib.figure" not in sys.modules:
        return []
    try:
        return figures_in(obj)
    except Exception:  # noqa: BLE001 - a hostile object is text, not a figure
        return []


def _keep_closed(figs) -> None:
    """Figures the running cell closes (``plt.close()``, after ``savefig``, say) are still captured after it."""
    if _current[0] is None:  # our own capture closing them after the cell
        return
    for f in figs:
        if f is not None and not any(f is g for g in _shown):
            _shown.append(f)


def _hook_close() -> None:
    """Wrap pyplot's figure manager registry once, so a figure closed inside a cell is kept (see _keep_closed)."""
    if "matplotlib" not in sys.modules:
        return
    try:
        from matplotlib._pylab_helpers import Gcf
    except Exception:  # noqa: BLE001 - no pyplot: nothing to close
        return
    if getattr(Gcf, "_dlgrade_hooked", False):
        return
    destroy, destroy_all = Gcf.destroy.__func__, Gcf.destroy_all.__func__

    def _figure(manager):
        return getattr(getattr(manager, "canvas", None), "figure", None)

    def hooked_destroy(cls, num):
        try:
            manager = num if all(hasattr(num, a) for a in ("num", "destroy")) else cls.figs.get(num)
            _keep_closed([_figure(manager)])
        except Exception:  # noqa: BLE001 - never in the way of the student's close
            pass
        return destroy(cls, num)

    def hooked_destroy_all(cls):
        try:
            _keep_closed([_figure(m) for m in list(cls.figs.values())])
        except Exception:  # noqa: BLE001
            pass
        return destroy_all(cls)

    Gcf.destroy, Gcf.destroy_all = classmethod(hooked_destroy), classmethod(hooked_destroy_all)
    Gcf._dlgrade_hooked = True


def display(*objs, **kwargs):
    """IPython's ``display``: a matplotlib figure is shown (captured after the cell); any other object's
    text form becomes a display output of the running cell."""
    out = _current[0]
    for obj in objs:
        figs = _figures_of(obj)
        if figs:
            _shown.extend(f for f in figs if not any(f is g for g in _shown))
        elif out is not None:
            out.value("display", _repr(obj, out.left + 1))


def _repr(obj, limit: int) -> str:
    r = repr(obj)
    return str.__str__(r)[: max(0, limit)] if isinstance(r, str) else ""


def _safe_str(exc) -> str:
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        return "<message unavailable>"


def _error_lines(exc, limit_frames: int = 30) -> list[str]:
    """A traceback of the student's frames (the worker's own are left out), then the exception line."""
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(WORKER_DIR)]
        lines = ["Traceback (most recent call last):\n"] if frames else []
        if len(frames) > limit_frames:
            lines.append(f"  ... {len(frames) - limit_frames} frames left out ...\n")
        lines += traceback.format_list(frames[-limit_frames:])
    except BaseException:  # noqa: BLE001
        lines = []
    msg = _safe_str(exc)
    lines.append(f"{type(exc).__name__}: {msg}\n" if msg else f"{type(exc).__name__}\n")
    return lines


def _syntax_lines(exc) -> list[str]:
    if isinstance(exc, SyntaxError):
        text = (exc.text or "").rstrip("\n")
        where = f'  File "{exc.filename}", line {exc.lineno}\n' + (f"    {text.strip()}\n" if text else "")
        return [where, f"SyntaxError: {exc.msg}\n"]
    return [f"{type(exc).__name__}: the cell cannot be parsed\n"]


def _describe(exc) -> dict:
    if isinstance(exc, CellTimeout):
        return {"type": "Timeout", "message": _safe_str(exc)}
    msg = _safe_str(exc)
    if isinstance(exc, SystemExit):
        msg = f"your code called sys.exit({msg}); later cells still ran"
    elif isinstance(exc, MemoryError):
        msg = "out of memory (the sandbox's memory limit)" + (f": {msg}" if msg else "")
    elif isinstance(exc, OSError) and getattr(exc, "errno", None) in (27, 28):
        msg = "output or disk limit exceeded (too much written): " + msg
    return {"type": type(exc).__name__, "message": msg[:500]}


def _figures_hook():
    """``figures.capture`` of the sibling module, or None while that module does not exist (a no-op hook)."""
    try:
        mod = importlib.import_module(f"{__package__}.figures")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.endswith(".figures"):
            return None
        raise
    return getattr(mod, "capture", None)


def _points(fig: dict) -> int:
    """How many numbers of line, scatter and bar data a captured figure holds (its share of the budget)."""
    n = 0
    for ax in fig.get("axes", []) if isinstance(fig.get("axes"), list) else []:
        if not isinstance(ax, dict):
            continue
        n += sum(int(getattr(ln.get("x"), "size", 0)) for ln in ax.get("lines", []) if isinstance(ln, dict))
        n += sum(int(getattr(sc.get("offsets"), "size", 0)) // 2 for sc in ax.get("scatter", []) if isinstance(sc, dict))
        n += sum(int(getattr(g.get("x"), "size", 0)) for g in ax.get("bars", []) if isinstance(g, dict))
    return n


def _keep_data(fig: dict, cell: int, drawn: list, point_budget: list[int]) -> None:
    """Keep a captured figure's data for the notebook (``drawn``), within the figure and point caps."""
    if len(drawn) >= MAX_NOTEBOOK_FIGURES or not isinstance(fig, dict) or "axes" not in fig:
        return
    kept = dict(fig, cell=int(cell))
    n = _points(fig)
    if n > point_budget[0]:
        kept["axes"] = [{k: v for k, v in ax.items() if k not in ("lines", "scatter", "bars")}
                        for ax in fig["axes"] if isinstance(ax, dict)]
        kept["data_dropped"] = True
    else:
        point_budget[0] -= n
    drawn.append(kept)


def _figure_outputs(capture, out: Outputs, budget: list[int], cell: int = 0, drawn: list | None = None,
                    point_budget: list[int] | None = None) -> None:
    """Call the figures hook (only when matplotlib is in use) and keep each figure's PNG within ``budget``;
    with ``drawn``, also each figure's data (for the rubric's ``notebook_figures`` steps)."""
    if capture is None or ("matplotlib.pyplot" not in sys.modules and not _shown):
        _shown.clear()
        return
    shown, _shown[:] = list(_shown), []
    figs = capture(close=True, extra=shown) if shown else capture(close=True)
    for n, fig in enumerate(figs if isinstance(figs, list) else []):
        if drawn is not None:
            _keep_data(fig, cell, drawn, point_budget if point_budget is not None else [NOTEBOOK_POINT_BUDGET])
        png = fig.get("png") if isinstance(fig, dict) else None
        if hasattr(png, "tobytes"):  # figures.capture gives the PNG's bytes as a uint8 array
            png = base64.b64encode(png.tobytes()).decode("ascii")
        if not isinstance(png, str):
            continue
        if n >= MAX_FIGURES or len(png) > budget[0]:
            out.notes.append(f"figure {n + 1} was not kept (the notebook's output cap)")
            continue
        budget[0] -= len(png)
        out.items.append({"type": "figure", "png": png})


def run_cells(cells: list[dict], namespace: dict, send, *, cell_timeout_s: float, notebook_timeout_s: float,
              cell_output_chars: int, notebook_output_chars: int) -> list[dict]:
    """Run ``cells`` (``label``, ``source``) in order in ``namespace``; ``send(report)`` after each one.

    Returns the data of the figures the cells drew (:func:`figures.capture` per cell, each with its
    ``cell`` index; at most :data:`MAX_NOTEBOOK_FIGURES`, :data:`NOTEBOOK_POINT_BUDGET` points together).

    A report: ``i``, ``status`` (``ok``, ``error``, ``timeout``, ``not_run``), ``seconds``, ``failed``
    (the index of the top-level statement that raised, or None), ``error`` (``type``, ``message``),
    ``outputs`` (plain dicts: ``stream``, ``result``, ``display``, ``figure``, ``error``).
    """
    namespace.setdefault("display", display)
    out_stream, err_stream = _Stream("stdout"), _Stream("stderr")
    timer = Alarm(CellTimeout)
    capture = _figures_hook()
    budget = [int(notebook_output_chars)]  # characters left for the whole notebook (figures included)
    drawn: list[dict] = []
    point_budget = [NOTEBOOK_POINT_BUDGET]
    start = time.monotonic()
    try:
        for i, cell in enumerate(cells):
            left = notebook_timeout_s - (time.monotonic() - start)
            if left <= 0:
                send({"kind": "cell", "i": i, "status": "not_run", "seconds": 0.0, "failed": None, "outputs": [],
                      "error": {"type": "NotebookTimeout", "message": f"not run: the notebook's time limit of "
                                f"{notebook_timeout_s:g} s was used up"}})
                continue
            out = Outputs(min(cell_output_chars, budget[0]))
            _hook_close()
            t0 = time.monotonic()
            saved = sys.stdout, sys.stderr
            try:
                report = _run_cell(cell, namespace, out, timer, (out_stream, err_stream), min(cell_timeout_s, left),
                                   cell_timeout_s if cell_timeout_s <= left else None, notebook_timeout_s)
            except CellTimeout:  # landed outside the student's code, in our own bookkeeping
                report = {"status": "timeout", "failed": None,
                          "error": {"type": "Timeout", "message": f"took longer than {cell_timeout_s:g} s and was stopped"}}
            finally:
                timer.disarm()
                sys.stdout, sys.stderr = saved
                out_stream.outputs = err_stream.outputs = None
                _current[0] = None
            try:
                timer.arm(max(0.1, min(10.0, notebook_timeout_s - (time.monotonic() - start))), "figure capture")
                try:
                    _figure_outputs(capture, out, budget, i, drawn, point_budget)
                finally:
                    timer.disarm()
            except BaseException as exc:  # noqa: BLE001 - a figure that cannot be drawn is a note, not a crash
                out.notes.append(f"the figures of this cell could not be captured ({type(exc).__name__})")
            budget[0] -= out.cap - out.left
            send({"kind": "cell", "i": i, "seconds": round(time.monotonic() - t0, 4), "outputs": out.plain(), **report})
    finally:
        timer.close()
    return drawn


def _run_cell(cell, namespace, out, timer, streams, seconds, per_cell, notebook_s) -> dict:
    label, src = str(cell.get("label", "cell")), str(cell.get("source", ""))
    if not src.strip():
        return {"status": "ok", "failed": None, "error": None}
    try:
        tree = ast.parse(src, label, "exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        lines = _syntax_lines(exc)
        out.error(type(exc).__name__, _safe_str(getattr(exc, "msg", exc)), lines)
        return {"status": "error", "failed": None,
                "error": {"type": type(exc).__name__, "message": lines[-1].split(": ", 1)[-1].strip()}}
    linecache.cache[label] = (len(src), None, src.splitlines(True), label)  # tracebacks show the cell's lines
    body = tree.body
    show_last = bool(body) and isinstance(body[-1], ast.Expr) and not src.rstrip().endswith(";")
    message = (f"took longer than {per_cell:g} s and was stopped" if per_cell is not None else
               f"stopped: the notebook's time limit of {notebook_s:g} s was used up")
    failed, info = None, None
    out_stream, err_stream = streams
    out_stream.outputs = err_stream.outputs = out
    _current[0] = out
    timer.arm(seconds, message)
    try:
        try:
            sys.stdout, sys.stderr = out_stream, err_stream
            for k, node in enumerate(body):
                failed = k
                if show_last and k == len(body) - 1:
                    value = eval(compile(ast.Expression(node.value), label, "eval"), namespace)  # noqa: S307
                    figs = _figures_of(value)
                    if figs:  # a Figure (or Axes) as the cell's value: Jupyter shows the figure
                        _shown.extend(f for f in figs if not any(f is g for g in _shown))
                    elif value is not None:
                        out.value("result", _repr(value, out.left + 1))
                else:
                    exec(compile(ast.Module([node], type_ignores=[]), label, "exec"), namespace)  # noqa: S102
            failed = None
        except BaseException as exc:  # noqa: BLE001 - SystemExit, MemoryError, the timeout: all recorded
            info = _describe(exc)
            out.error(type(exc).__name__, info["message"] if isinstance(exc, CellTimeout) else _safe_str(exc),
                      _error_lines(exc))
    except BaseException as exc:  # noqa: BLE001 - describing the error raised or hung (a hostile __str__)
        info = info or {"type": type(exc).__name__, "message": "<the error could not be described>"}
    finally:
        timer.disarm()
    if info is None:
        return {"status": "ok", "failed": None, "error": None}
    return {"status": "timeout" if info["type"] == "Timeout" else "error", "failed": failed, "error": info}

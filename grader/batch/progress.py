"""Progress of a batch: a rich bar on a terminal, one plain line per submission otherwise, or nothing.

The ETA is ``remaining * elapsed / done`` over this run, recomputed at every
refresh, so it grows while one long submission runs instead of freezing.
"""
from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from grader.model import plain_text, shown_points


def _duration(s: float) -> str:
    s = int(round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class Reporter:
    """Quiet reporter; the others override what they show."""

    def __init__(self):
        self.total = 0
        self.done = 0
        self.failed = 0
        self.t0 = time.monotonic()
        self.running: dict[str, float] = {}

    def start(self, total: int, *, already: int = 0, skipped: int = 0, where: str = ""):
        self.total, self.t0 = total, time.monotonic()

    def begin(self, student_id: str):
        self.running[student_id] = time.monotonic()

    def finish(self, student_id: str, result: dict, failed: bool):
        self.running.pop(student_id, None)
        self.done += 1
        self.failed += bool(failed)

    def requeue(self, student_id: str):
        self.running.pop(student_id, None)

    def stop(self):
        pass

    # shared numbers
    def rate(self) -> float:
        el = time.monotonic() - self.t0
        return self.done / el if el > 0 else 0.0

    def eta(self) -> float | None:
        if not self.done:
            return None
        return (self.total - self.done) * (time.monotonic() - self.t0) / self.done

    def now_text(self, limit: int = 3) -> str:
        t = time.monotonic()
        now = sorted(self.running.items(), key=lambda kv: kv[1])[:limit]
        more = len(self.running) - len(now)
        return ", ".join(f"{sid} ({_duration(t - t0)})" for sid, t0 in now) + (f" +{more}" if more > 0 else "")


class PlainReporter(Reporter):
    """One line per finished submission (for logs and pipes)."""

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream or sys.stderr

    def _print(self, text: str):
        print(plain_text(text), file=self.stream, flush=True)  # ids and messages come from submissions

    def start(self, total, *, already=0, skipped=0, where=""):
        super().start(total)
        self._print(f"grading {total} submission(s){where}; {already} already graded, {skipped} entries not graded")

    def finish(self, student_id, result, failed):
        super().finish(student_id, result, failed)
        w = len(str(self.total))
        items = [i for i in result.get("items", []) if i.get("status") != "manual"]
        score = sum(i["points"] for i in items)
        top = sum(i["max_points"] for i in items)
        what = f"FAILED: {result.get('error')}" if failed else shown_points(score, top)
        eta = self.eta()
        self._print(f"[{self.done:{w}d}/{self.total}] {student_id}  {what}  ({result.get('seconds', 0):.1f} s)"
                    + (f"  eta {_duration(eta)}" if eta is not None and self.done < self.total else ""))


class _Live(ProgressColumn):
    def __init__(self, reporter: Reporter, what: str):
        super().__init__()
        self.reporter, self.what = reporter, what

    def render(self, task) -> Text:
        r = self.reporter
        if self.what == "failed":
            return Text(f"failed {r.failed}", style="red" if r.failed else "dim")
        if self.what == "rate":
            rate = r.rate()
            return Text(f"{rate * 60:.1f}/min" if rate < 1 else f"{rate:.2f}/s", style="cyan")
        if self.what == "eta":
            eta = r.eta()
            return Text("eta ?" if eta is None else f"eta {_duration(eta)}", style="magenta")
        now = r.now_text()
        return Text(plain_text(f"now: {now}") if now else "", style="dim")


class RichReporter(Reporter):
    """A rich progress bar: done/total, failed, rate, elapsed, ETA, who is being graded."""

    def __init__(self, console: Console | None = None):
        super().__init__()
        self.console = console or Console(stderr=True)
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            _Live(self, "failed"), _Live(self, "rate"), TimeElapsedColumn(), _Live(self, "eta"),
                            _Live(self, "now"), console=self.console, refresh_per_second=4)
        self.task = None

    def start(self, total, *, already=0, skipped=0, where=""):
        super().start(total)
        self.console.print(f"grading {total} submission(s){where}; {already} already graded, "
                           f"{skipped} entries not graded")
        self.bar.start()
        self.task = self.bar.add_task("grading", total=total)

    def finish(self, student_id, result, failed):
        super().finish(student_id, result, failed)
        self.bar.update(self.task, completed=self.done)

    def stop(self):
        self.bar.stop()


def make_reporter(mode: str = "auto", *, stream=None) -> Reporter:
    """``auto`` (rich on a terminal, else plain), ``rich``, ``plain`` or ``quiet``."""
    stream = stream or sys.stderr
    if mode == "auto":
        mode = "rich" if getattr(stream, "isatty", lambda: False)() else "plain"
    if mode == "rich":
        return RichReporter(Console(file=stream))
    if mode == "plain":
        return PlainReporter(stream)
    if mode == "quiet":
        return Reporter()
    raise ValueError(f"progress mode {mode!r}: one of auto, rich, plain, quiet")

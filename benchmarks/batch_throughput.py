"""Batch throughput: 1 vs 2 worker processes on the same generated class, side by side.

    python benchmarks/batch_throughput.py [--n 200] [--all-items] [--out benchmarks/results/batch_throughput.json]

The class is ``--n`` copies of examples/signal-propagation/alice.ipynb, each
with a different comment (so every sha256 differs), graded through
``run_batch`` into a fresh gradebook per worker count (items D1 and D3
unless ``--all-items``). Reported: submissions/s, the 2w/1w ratio, and the
peak memory of the grader (parent RSS, and parent plus all its child
processes: pool workers and sandboxes), sampled every 0.1 s, per stretch of
the class (up to 50, 50-100, 100-200 graded) to show it does not grow with
the class size. Needs bubblewrap (the real sandbox).
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.batch import run_batch  # noqa: E402
from grader.pipeline import Options, grade_file  # noqa: E402

ALICE = ROOT / "examples" / "signal-propagation" / "alice.ipynb"


def make_class(folder: Path, n: int) -> None:
    nb = json.loads(ALICE.read_text())
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    src = code["source"] if isinstance(code["source"], str) else "".join(code["source"])
    for i in range(n):
        code["source"] = src + f"\n# submission {i:04d}\n"
        (folder / f"student{i:04d}.ipynb").write_text(json.dumps(nb))


class Sampler(threading.Thread):
    """Peak RSS of this process and of this process plus its descendants, per stretch of graded count."""

    def __init__(self, db: Path, marks: list[int]):
        super().__init__(daemon=True)
        self.db, self.marks = db, marks
        self.stop = threading.Event()
        self.me = psutil.Process()
        self.stretches = [{"upto": m, "parent_mb": 0.0, "total_mb": 0.0, "seconds": None} for m in marks]
        self.t0 = time.monotonic()

    def _count(self) -> int:
        if not self.db.exists():
            return 0
        try:
            con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=1)
            try:
                return con.execute("SELECT count(*) FROM results").fetchone()[0]
            finally:
                con.close()
        except sqlite3.Error:
            return 0

    def run(self):
        while not self.stop.is_set():
            n = self._count()
            parent = self.me.memory_info().rss
            total = parent
            for c in self.me.children(recursive=True):
                try:
                    total += c.memory_info().rss
                except psutil.Error:
                    pass
            for s in self.stretches:
                if s["seconds"] is None:  # the first stretch not finished yet gets the sample
                    s["parent_mb"] = max(s["parent_mb"], parent / 2**20)
                    s["total_mb"] = max(s["total_mb"], total / 2**20)
                    if n >= s["upto"]:
                        s["seconds"] = round(time.monotonic() - self.t0, 2)
                    break
            time.sleep(0.1)


def bench(class_dir: Path, workers: int, opts: Options, n: int, tmp: Path) -> dict:
    db = tmp / f"w{workers}.sqlite"
    marks = [m for m in (50, 100, 200) if m < n] + [n]
    sampler = Sampler(db, marks)
    load0 = os.getloadavg()[0]
    sampler.start()
    t0 = time.perf_counter()
    s = run_batch(class_dir, "signal-propagation", db_path=db, opts=opts, workers=workers, progress="quiet")
    el = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    assert s.graded == n and s.failed == 0, (s.graded, s.failed)
    con = sqlite3.connect(db)
    scores = {r[0] for r in con.execute("SELECT score FROM results")}
    con.close()
    for m in sampler.stretches:
        m["parent_mb"], m["total_mb"] = round(m["parent_mb"], 1), round(m["total_mb"], 1)
    return {"workers": workers, "graded": s.graded, "seconds": round(el, 2),
            "submissions_per_s": round(n / el, 3), "scores": sorted(scores),
            "memory_by_stretch": sampler.stretches, "load_avg_1min": [round(load0, 2), round(os.getloadavg()[0], 2)]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="submissions in the generated class (default 200)")
    ap.add_argument("--all-items", action="store_true", help="all automatic items, not only D1 and D3")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "batch_throughput.json"))
    args = ap.parse_args(argv)
    opts = Options() if args.all_items else Options(items=("D1", "D3"))
    grade_file(ALICE, "signal-propagation", opts=opts)  # answer keys into the cache: both runs start warm
    with tempfile.TemporaryDirectory(prefix="dlgrade-bench-") as tmp:
        tmp = Path(tmp)
        cls = tmp / "class"
        cls.mkdir()
        make_class(cls, args.n)
        runs = {}
        for w in (1, 2):
            runs[w] = bench(cls, w, opts, args.n, tmp)
            r = runs[w]
            print(f"{w} worker(s): {args.n} submissions in {r['seconds']:.1f} s = {r['submissions_per_s']:.3f}/s; "
                  "peak MB (parent / with children) per stretch: "
                  + ", ".join(f"<={m['upto']}: {m['parent_mb']:.0f}/{m['total_mb']:.0f}" for m in r["memory_by_stretch"])
                  + f"; load {r['load_avg_1min'][0]}->{r['load_avg_1min'][1]}", flush=True)
    ratio = runs[2]["submissions_per_s"] / runs[1]["submissions_per_s"]
    out = {"what": "run_batch over generated signal-propagation submissions, 1 vs 2 worker processes",
           "n": args.n, "items": list(opts.items) or "all", "cpus": os.cpu_count(),
           "ratio_2w_over_1w": round(ratio, 3), "runs": [runs[1], runs[2]],
           "note": "baseline: the sandbox is being made faster separately; the machine was shared (see load_avg)"}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")
    print(f"ratio 2 workers / 1 worker: {ratio:.2f}x (goal >= 1.7x) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

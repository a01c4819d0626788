"""Full-execution mode vs ``jupyter nbconvert --to notebook --execute`` of the same notebook, side by side.

Rows, each the median of ``-n`` runs, interleaved so machine drift hits all alike:

- ``full mode (in process)``: :func:`grader.pipeline.grade_file` with ``--mode full``: every cell of the
  notebook executed in the sandbox (zygote fork, all layers), every item graded against it, the executed
  notebook built; answer keys already cached, the zygote warm (a batch after its first submission);
- ``full mode (CLI, cold)``: a fresh ``dlgrade check --all-items --mode full --executed`` process (Python
  start-up, imports, zygote start, keys from the cache);
- ``slice mode (in process)``: the same notebook through dependency slicing, for scale;
- ``nbconvert --execute``: a fresh ``jupyter nbconvert --to notebook --execute`` (kernel start-up, the
  cells; no grading at all).

The ratio column is nbconvert's median over the row's median (above 1: faster than nbconvert). Writes
``benchmarks/results/full_mode_speed.json``.

    python benchmarks/full_mode_speed.py [-a signal-propagation] [--notebook NB] [-n 5]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-a", "--assignment", default="signal-propagation")
    ap.add_argument("--notebook", help="default: examples/<assignment>/alice.ipynb")
    ap.add_argument("-n", "--repeat", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "full_mode_speed.json"))
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from grader.pipeline import Options, grade_file
    from grader.pipeline.keys import data_dir
    from grader.rubric import get_rubric

    jupyter = shutil.which("jupyter", path=str(BIN)) or shutil.which("jupyter")
    if jupyter is None:
        raise SystemExit("jupyter (nbconvert) is not installed: pip install -e '.[test]'")
    nb = Path(args.notebook or ROOT / "examples" / args.assignment / "alice.ipynb")
    full, sliced = Options(mode="full"), Options(mode="slice")
    first = grade_file(nb, args.assignment, opts=full)  # keys into the cache, the zygote started
    cells = [c for c in first.notebook["cells"] if c["cell_type"] == "code"]
    print(f"notebook: {nb.relative_to(ROOT) if nb.is_relative_to(ROOT) else nb}: {len(cells)} code cells; "
          f"full mode {first.score:g}/{first.max_score:g}, isolation: {', '.join(first.layers)}")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows = {"full mode (in process)": [], "full mode (CLI, cold)": [], "slice mode (in process)": [],
            "nbconvert --execute": []}
    load = [os.getloadavg()]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copy(nb, work / nb.name)
        for f in get_rubric(args.assignment).data_files:  # the notebook may open them, as in the sandbox
            shutil.copy(data_dir() / f, work / f)
        for _ in range(args.repeat):
            rows["full mode (in process)"].append(timed(lambda: grade_file(nb, args.assignment, opts=full)))
            rows["full mode (CLI, cold)"].append(timed(lambda: subprocess.run(
                [sys.executable, "-m", "grader.cli", "check", str(nb), "-a", args.assignment, "--all-items",
                 "--mode", "full", "--executed", str(work / "dlgrade.executed.ipynb"), "--json"],
                check=True, capture_output=True, env=env, cwd=work)))
            rows["slice mode (in process)"].append(timed(lambda: grade_file(nb, args.assignment, opts=sliced)))
            rows["nbconvert --execute"].append(timed(lambda: subprocess.run(
                [jupyter, "nbconvert", "--to", "notebook", "--execute", "--output", "out.ipynb",
                 "--ExecutePreprocessor.timeout=600", str(work / nb.name)],
                check=True, capture_output=True, cwd=work)))
            load.append(os.getloadavg())
    base = statistics.median(rows["nbconvert --execute"])
    print(f"{'what':<26}{'median s':>10}{'min s':>9}{'nbconvert / it':>16}")
    result = {}
    for name, ts in rows.items():
        med = statistics.median(ts)
        result[name] = {"n": len(ts), "median_s": med, "min_s": min(ts), "ratio_nbconvert_over_it": base / med}
        print(f"{name:<26}{med:>10.3f}{min(ts):>9.3f}{base / med:>15.2f}x")
    print(f"({args.repeat} runs each, interleaved; load average (1 min) {min(x[0] for x in load):.1f}-"
          f"{max(x[0] for x in load):.1f})")
    out = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "machine": platform.platform(),
           "cpus": os.cpu_count(), "python": platform.python_version(), "notebook": str(nb.relative_to(ROOT))
           if nb.is_relative_to(ROOT) else str(nb), "code_cells": len(cells), "layers": list(first.layers),
           "loadavg_1min": [x[0] for x in load], "rows": result}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

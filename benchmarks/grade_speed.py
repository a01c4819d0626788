"""Grading one submission: defs-only mode vs executing the notebook with nbconvert.

Side by side, in one run, on the same notebook (by default the worked example
``examples/<assignment>/alice.ipynb``, which like real notebooks has top-level
exploration code):

- ``defs-only (in process)``: :func:`grader.pipeline.grade_file`, every item,
  answer key already cached (the situation of a batch after its first
  submission);
- ``defs-only (CLI, cold)``: a fresh ``dlgrade check --all-items`` process,
  including Python start-up and imports;
- ``nbconvert --execute``: ``jupyter nbconvert --to notebook --execute`` of the
  same notebook (what a full-execution grader must do before any test runs).

Prints the median of ``--repeat`` runs of each and the ratios.

    python benchmarks/grade_speed.py [-a signal-propagation] [--repeat 5]
"""
from __future__ import annotations

import argparse
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
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from grader.pipeline import Options, grade_file

    nb = Path(args.notebook or ROOT / "examples" / args.assignment / "alice.ipynb")
    opts = Options()
    first = grade_file(nb, args.assignment, opts=opts)  # fills the answer-key cache
    print(f"notebook: {nb.relative_to(ROOT) if nb.is_relative_to(ROOT) else nb}  "
          f"score {first.score:g}/{first.max_score:g}, isolation: {', '.join(first.layers)}")
    jupyter = shutil.which("jupyter", path=str(BIN)) or shutil.which("jupyter")
    dlgrade = shutil.which("dlgrade", path=str(BIN)) or shutil.which("dlgrade")
    rows = {"defs-only (in process)": [], "defs-only (CLI, cold)": [], "nbconvert --execute": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copy(nb, work / nb.name)
        from grader.pipeline.keys import data_dir
        from grader.rubric import get_rubric

        for f in get_rubric(args.assignment).data_files:  # the notebook may load them
            shutil.copy(data_dir() / f, work / f)
        for _ in range(args.repeat):  # interleaved, so drift hits all three alike
            rows["defs-only (in process)"].append(timed(lambda: grade_file(nb, args.assignment, opts=opts)))
            rows["defs-only (CLI, cold)"].append(timed(lambda: subprocess.run(
                [dlgrade, "check", str(nb), "-a", args.assignment, "--all-items", "--json"],
                check=True, capture_output=True)))
            rows["nbconvert --execute"].append(timed(lambda: subprocess.run(
                [jupyter, "nbconvert", "--to", "notebook", "--execute", "--output", "out.ipynb",
                 "--ExecutePreprocessor.timeout=600", str(work / nb.name)],
                check=True, capture_output=True, cwd=work)))
    base = statistics.median(rows["nbconvert --execute"])
    print(f"{'mode':<26}{'median s':>10}{'min s':>9}{'vs nbconvert':>15}")
    for name, ts in rows.items():
        med = statistics.median(ts)
        print(f"{name:<26}{med:>10.3f}{min(ts):>9.3f}{base / med:>14.1f}x")
    print(f"({args.repeat} runs each, interleaved; 'vs nbconvert' = nbconvert median / mode median)")


if __name__ == "__main__":
    main()

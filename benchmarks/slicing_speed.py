"""Dependency slicing vs the old defs-only whitelist: extraction and grading time, side by side.

The baseline is the whitelist extractor as it was before slicing landed, read
from git (``--baseline-rev``, default the last commit before slicing), so both
run in one process on the same notebooks:

- ``extract``: the extractor alone on every notebook of ``examples/`` and
  ``tests/corpus/`` plus a synthetic 2000-cell notebook (median of ``--repeat``);
- ``grade``: :func:`grader.pipeline.grade_submission` of ``--grade`` notebooks
  with each extractor's output (answer keys cached; the sandbox as configured; the
  two alternate, round by round).

    python benchmarks/slicing_speed.py [--repeat 5] [--baseline-rev REV]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE_REV = "8ae947d"  # main just before dependency slicing (the whitelist extractor)


def baseline_extractor(rev: str):
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:grader/pipeline/extract.py"], check=True,
                         capture_output=True, text=True).stdout
    mod = types.ModuleType("whitelist_extract")
    sys.modules[mod.__name__] = mod  # dataclasses look their module up
    exec(compile(src, "whitelist_extract.py", "exec"), mod.__dict__)  # noqa: S102 - our own code, from git
    return mod.extract


def synthetic(n_cells: int = 2000):
    from grader.pipeline.load import Cell, Submission

    cells = [Cell(0, "code", "import numpy as np\n")]
    for i in range(1, n_cells):
        if i % 4 == 0:
            src = f"def f{i}(x):\n    return x * C{i - 1} + np.sum(W{i - 2})\n"
        elif i % 4 == 1:
            src = f"C{i} = {i} * 2.0\nprint(C{i})\n"
        elif i % 4 == 2:
            src = f"W{i} = np.ones(3)\nW{i} /= W{i}.sum()\n"
        else:
            src = f"C{i} = C{i - 2} + 1\nfor k in range(3):\n    pass\n"
        cells.append(Cell(i, "code", src))
    return Submission(Path("synthetic.ipynb"), "synthetic", "notebook", tuple(cells), "0")


def timed(fn, repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline-rev", default=BASELINE_REV)
    ap.add_argument("--grade", nargs="*", default=["examples/signal-propagation/alice.ipynb",
                                                     "examples/backprop/alice.ipynb"])
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from grader.pipeline.extract import extract
    from grader.pipeline.load import SubmissionError, read_submission

    old = baseline_extractor(args.baseline_rev)
    subs = []
    for p in sorted([*ROOT.glob("examples/*/*.ipynb"), *ROOT.glob("tests/corpus/**/*.ipynb")]):
        try:
            subs.append(read_submission(p))
        except SubmissionError:
            pass
    subs.append(synthetic())
    t_old = timed(lambda: [old(s) for s in subs], args.repeat)
    t_new = timed(lambda: [extract(s) for s in subs], args.repeat)
    print(f"extract {len(subs)} notebooks (incl. a 2000-cell one): whitelist {t_old * 1e3:.1f} ms, "
          f"slicing {t_new * 1e3:.1f} ms, ratio slicing/whitelist {t_new / t_old:.2f}")

    for rel in args.grade:
        bench_grade(ROOT / rel, old, args.repeat)


def bench_grade(path: Path, old, repeat: int):
    """Grade one notebook with each extractor's output (keys cached, zygote warm), median of ``repeat``."""
    from grader.pipeline import Options, grade_submission
    from grader.pipeline.extract import Extraction, Statement
    from grader.pipeline.keys import ReferenceKeys
    from grader.pipeline.load import read_submission
    from grader.pipeline.plan import make_plan
    from grader.rubric import get_rubric

    rubric = get_rubric(path.parent.name)
    opts = Options()
    keys = ReferenceKeys(rubric)
    plan = make_plan(rubric, opts, keys)
    sub = read_submission(path)

    def whitelist():
        ex = old(sub)
        return Extraction(tuple(Statement(s.label, s.source, s.kind, s.names, s.line, i)
                                for i, s in enumerate(ex.statements)), ex.warnings)

    first = grade_submission(sub, plan, keys, opts)  # keys into the cache, zygote started
    base = grade_submission(sub, plan, keys, opts, extraction=whitelist())
    olds, news = [], []
    for _ in range(repeat):  # interleaved, so drift in the machine's load hits both alike
        olds.append(timed(lambda: grade_submission(sub, plan, keys, opts, extraction=whitelist()), 1))
        news.append(timed(lambda: grade_submission(sub, plan, keys, opts), 1))
    g_old, g_new = statistics.median(olds), statistics.median(news)
    print(f"grade {path.relative_to(ROOT)}: whitelist {g_old:.3f} s ({base.score:g}/{base.max_score:g}), "
          f"slicing {g_new:.3f} s ({first.score:g}/{first.max_score:g}), ratio {g_new / g_old:.2f}")

if __name__ == "__main__":
    main()

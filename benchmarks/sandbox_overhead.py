"""Per-submission cost of the sandbox, layer by layer, side by side in one run.

Every row runs the same tiny job: the definitions import numpy and
``scipy.optimize.brentq`` and two calls solve ``tanh(x) = a x``. Rows:

* ``python -c "import numpy"``: a bare interpreter, the baseline;
* fresh interpreter with rlimits only, + namespaces (bubblewrap), + uid;
* the zygote (pre-loaded, forking) with every layer this machine has;
* an nbclient kernel: start, execute one cell with the same code, shut down.

"overhead" is wall time minus the compute time the worker measured for the
two calls. Prints a table and writes ``benchmarks/results/sandbox_overhead.json``.

    python benchmarks/sandbox_overhead.py [-n 10]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grader.sandbox as sandbox  # noqa: E402
from grader.sandbox import run_job  # noqa: E402

SOURCE = ("import numpy as np\n"
          "from scipy.optimize import brentq\n"
          "def fixed_point(a):\n"
          "    return brentq(lambda x: np.tanh(x) - a * x, 0.1, 10.0)\n")
STATEMENTS = [{"label": "cell 1", "source": SOURCE, "kind": "def"}]
CALLS = [{"id": f"c{i}", "steps": [{"let": "o", "call": "fixed_point", "args": [a]}], "returns": "o"}
         for i, a in enumerate((0.5, 0.8))]
OUT = Path(__file__).resolve().parent / "results" / "sandbox_overhead.json"


@contextmanager
def layers(only: tuple[str, ...]):
    """Run jobs as if the machine had only ``only`` (the probe is replaced in the package)."""
    real = sandbox.available_layers
    sandbox.available_layers = lambda: only
    try:
        yield
    finally:
        sandbox.available_layers = real


def _job(use_zygote: bool) -> tuple[float, float]:
    t0 = time.perf_counter()
    res = run_job(STATEMENTS, CALLS, {}, require_isolation=False, use_zygote=use_zygote)
    wall = time.perf_counter() - t0
    for o in res.outcomes.values():
        if o.status != "ok":
            raise SystemExit(f"the benchmark job failed: {o.error}")
    return wall, wall - sum(o.seconds for o in res.outcomes.values())


def _bare() -> tuple[float, float]:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import numpy"], check=True)
    wall = time.perf_counter() - t0
    return wall, wall


def _nbclient() -> tuple[float, float]:
    import nbformat
    from nbclient import NotebookClient

    code = SOURCE + "print(fixed_point(0.5), fixed_point(0.8))\n"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    wall = time.perf_counter() - t0
    return wall, wall


def measure(fn, n: int) -> dict:
    fn()  # warm-up: first bwrap probe, zygote start, page cache
    walls, overheads = [], []
    for _ in range(n):
        w, o = fn()
        walls.append(w)
        overheads.append(o)
    return {"n": n, "median_s": statistics.median(walls), "min_s": min(walls),
            "overhead_median_s": statistics.median(overheads)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10, help="repetitions per row (nbclient: a third of them)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    have = sandbox.available_layers()
    rows: dict[str, dict] = {}
    rows['python -c "import numpy"'] = measure(_bare, args.n)
    plans = [("fresh: rlimits", ("rlimits",))]
    if "namespaces" in have:
        plans.append(("fresh: + namespaces", ("rlimits", "namespaces")))
    if "uid" in have:
        plans.append(("fresh: + uid", ("rlimits", "namespaces", "uid")))
    for name, only in plans:
        with layers(only):
            rows[name] = measure(lambda: _job(False), args.n)
    with layers(("rlimits",)):
        rows["zygote: rlimits"] = measure(lambda: _job(True), args.n)
    rows[f"zygote: {' + '.join(have)}"] = measure(lambda: _job(True), args.n)
    try:
        rows["nbclient kernel, one cell"] = measure(_nbclient, max(1, args.n // 3))
    except Exception as exc:  # noqa: BLE001 - an optional comparator
        print(f"nbclient row skipped: {type(exc).__name__}: {exc}", file=sys.stderr)
    sandbox.stop_all()
    base = rows['python -c "import numpy"']["median_s"]
    for r in rows.values():
        r["ratio_to_bare_numpy"] = r["median_s"] / base
    print(f"{'per submission (2 calls, numpy + scipy.optimize)':<44} {'median s':>9} {'overhead s':>11} {'x bare':>7}")
    for name, r in rows.items():
        print(f"{name:<44} {r['median_s']:>9.4f} {r['overhead_median_s']:>11.4f} {r['ratio_to_bare_numpy']:>7.2f}")
    load = os.getloadavg()
    result = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": platform.platform(), "cpus": os.cpu_count(),
              "loadavg_1_5_15": load, "python": platform.python_version(), "layers": list(have), "job": SOURCE,
              "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"load average {load[0]:.1f}; written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

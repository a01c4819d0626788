#!/usr/bin/env python3
"""How close the reference training loop of assignment B gets to bare BLAS speed.

Times ``reference.backprop.train`` on the full MNIST 7/9 data (n_h1 = n_h2 = 50,
lr = 0.1/P, 5000 iterations by default) and reports its achieved GFLOP/s,
counting only the matmul FLOPs of one iteration (forward on train + test,
backward on train). Next to it, in the same process, the same matmuls with
the same shapes and memory layouts are timed as bare ``np.matmul(..., out=)``
calls (no elementwise work, no allocation): the ceiling this machine's BLAS
gives for these shapes. The ratio says how much the Python/elementwise
overhead of the loop costs (target >= 0.7).

    .venv/bin/python benchmarks/backprop_speed.py [--iters 5000] [--repeats 3] [--interleave 1]

Threads are whatever the environment sets (OPENBLAS_NUM_THREADS,
OMP_NUM_THREADS; OPENBLAS_CORETYPE is reported, never changed).
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from reference import backprop as bp
from reference.data import load_mnist_sevens_nines


def matmul_plan(n_in, n_h1, n_h2, P, P_test):
    """The matmuls of one training iteration as (name, (m, k, n)) with FLOPs 2 m k n."""
    n_all = P + P_test
    forward = [("W1 @ X_all", (n_h1, n_in, n_all)), ("W2 @ h1", (n_h2, n_h1, n_all)),
               ("W3 @ h2", (1, n_h2, n_all))]
    backward = [("e @ h2.T", (1, P, n_h2)), ("W3.T @ e", (n_h2, 1, P)),
                ("d2 @ h1.T", (n_h2, P, n_h1)), ("W2.T @ d2", (n_h1, n_h2, P)),
                ("d1 @ X.T", (n_h1, P, n_in))]
    return forward, backward


def flops(plan):
    return sum(2 * m * k * n for _, (m, k, n) in plan)


def bare_matmuls(X_all, P, n_h1, n_h2, n_reps, rng):
    """Seconds per iteration of the loop's matmuls alone, same shapes and layouts."""
    n_in, n_all = X_all.shape
    X = X_all[:, :P]                                # the same strided view train() uses
    W1 = rng.standard_normal((n_h1, n_in)) * 0.01
    W2 = rng.standard_normal((n_h2, n_h1)) * 0.1
    W3 = rng.standard_normal((1, n_h2)) * 0.1
    h1 = np.empty((n_h1, n_all)); h2 = np.empty((n_h2, n_all)); yhat = np.empty((1, n_all))
    e = rng.standard_normal((1, P))
    dW3 = np.empty((1, n_h2)); d2 = np.empty((n_h2, P)); dW2 = np.empty((n_h2, n_h1))
    d1 = np.empty((n_h1, P)); dW1 = np.empty((n_h1, n_in))
    h1t, h2t = h1[:, :P], h2[:, :P]
    per_op = {}

    def one(record):
        for name, fn in (
            ("W1 @ X_all", lambda: np.matmul(W1, X_all, out=h1)),
            ("W2 @ h1", lambda: np.matmul(W2, h1, out=h2)),
            ("W3 @ h2", lambda: np.matmul(W3, h2, out=yhat)),
            ("e @ h2.T", lambda: np.matmul(e, h2t.T, out=dW3)),
            ("W3.T @ e", lambda: np.matmul(W3.T, e, out=d2)),
            ("d2 @ h1.T", lambda: np.matmul(d2, h1t.T, out=dW2)),
            ("W2.T @ d2", lambda: np.matmul(W2.T, d2, out=d1)),
            ("d1 @ X.T", lambda: np.matmul(d1, X.T, out=dW1)),
        ):
            t = time.perf_counter()
            fn()
            if record:
                per_op[name] = per_op.get(name, 0.0) + time.perf_counter() - t

    for _ in range(5):
        one(False)
    t0 = time.perf_counter()
    for _ in range(n_reps):
        one(False)
    total = (time.perf_counter() - t0) / n_reps
    for _ in range(max(1, n_reps // 4)):
        one(True)
    return total, {k: v / max(1, n_reps // 4) for k, v in per_op.items()}


def blas_info() -> str:
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        s = f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - older numpy
        s = "unknown"
    try:
        from threadpoolctl import threadpool_info

        s += " | " + "; ".join(f"{p['internal_api']} {p.get('version')} threads={p['num_threads']} "
                               f"arch={p.get('architecture')}" for p in threadpool_info())
    except ImportError:
        s += " | threadpoolctl not installed"
    return s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=bp.N_ITER, help="training iterations (default 5000)")
    ap.add_argument("--repeats", type=int, default=3, help="bare-matmul timing rounds around the training run")
    ap.add_argument("--weight-scale", type=float, default=0.01)
    ap.add_argument("--interleave", type=int, default=1,
                    help="split the training into this many runs (each from the same initial "
                         "weights) alternating with bare-matmul rounds, for a fair ratio on a "
                         "busy machine (default 1: one run of --iters)")
    args = ap.parse_args(argv)

    d = load_mnist_sevens_nines()
    X_tr, Y_tr, X_te, Y_te = d["X_train"], d["y_train"], d["X_test"], d["y_test"]
    (n_in, P), P_test = X_tr.shape, X_te.shape[1]
    fwd, bwd = matmul_plan(n_in, bp.N_H1, bp.N_H2, P, P_test)
    f_iter = flops(fwd) + flops(bwd)
    f_train = (args.iters + 1) * flops(fwd) + args.iters * flops(bwd)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, python {platform.python_version()}, "
          f"numpy {np.__version__}")
    print(f"BLAS: {blas_info()}")
    env = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                           "OPENBLAS_CORETYPE")}
    print("env: " + ", ".join(f"{k}={v}" for k, v in env.items()))
    print(f"shapes: X_train {X_tr.shape}, X_test {X_te.shape}, hidden {bp.N_H1}/{bp.N_H2}")
    print(f"matmul FLOPs per iteration: forward {flops(fwd) / 1e6:.1f} M (train + test), "
          f"backward {flops(bwd) / 1e6:.1f} M, total {f_iter / 1e6:.1f} M")

    X_all = np.ascontiguousarray(np.concatenate([X_tr, X_te], axis=1))
    rng = np.random.default_rng(0)
    n_reps = max(50, min(300, args.iters // 10))
    k = max(1, min(args.interleave, args.iters))
    chunks = [args.iters // k + (1 if i < args.iters % k else 0) for i in range(k)]
    weights = bp.init_weights(bp.N_H1, bp.N_H2, args.weight_scale, np.random.default_rng(0))
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    bare, per_op, t_train = [], {}, 0.0
    for i in range(max(k, args.repeats - 1) + 1):
        t, ops = bare_matmuls(X_all, P, bp.N_H1, bp.N_H2, n_reps, rng)
        bare.append(t)
        if t <= min(bare):
            per_op = ops
        if i < k:
            t0 = time.perf_counter()
            out = bp.train(X_tr, Y_tr, X_te, Y_te, weights, bp.LR_SCALE / P, chunks[i])
            t_train += time.perf_counter() - t0
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    t_bare = float(np.median(bare))
    g_bare = f_iter / t_bare / 1e9
    g_train = f_train / t_train / 1e9
    print()
    print("bare matmuls, seconds per iteration-equivalent (best op timings):")
    for name, (m, kk, n) in fwd + bwd:
        t = per_op[name]
        print(f"  {name:<11} ({m:>4} x {kk:>4}) @ ({kk:>4} x {n:>4})  {t * 1e3:7.3f} ms  "
              f"{2 * m * kk * n / t / 1e9:6.2f} GFLOP/s")
    print(f"  rounds: {', '.join(f'{t * 1e3:.2f} ms' for t in bare)} (median {t_bare * 1e3:.2f} ms)")
    print()
    print(f"{'':<28}{'s/iter':>10}{'GFLOP/s':>10}")
    print(f"{'bare numpy matmuls':<28}{t_bare * 1e3:>8.2f}ms{g_bare:>10.2f}")
    print(f"{'reference train()':<28}{t_train / args.iters * 1e3:>8.2f}ms{g_train:>10.2f}")
    print(f"ratio train / bare = {g_train / g_bare:.3f} (target >= 0.7)")
    runs = f"{k} runs of {chunks[0]} iterations" if k > 1 else "one run"
    print(f"training: {args.iters} iterations ({runs}) in {t_train:.1f} s; last run's final train acc "
          f"{out['train_acc'][-1]:.4f}, test acc {out['test_acc'][-1]:.4f}, "
          f"test loss {out['test_loss'][-1]:.3f}")


if __name__ == "__main__":
    main()

"""``dlgrade calibrate``: bands for stochastic items, from the reference over many seeds.

For each check whose ``expected`` is a band, the reference runs the check's
first case with every seed shifted by ``k`` (``rng``, ``seed``,
``torch_seed``, ``random`` inputs), for ``k = 0 .. seeds-1``. The band is the
[0.1 %, 99.9 %] quantile range of the compared quantity, widened on each side
by ``margin`` times its width. Runs that fail or give NaN are counted
(``failures``) and left out. The result goes to ``rubrics/<name>.bands.yaml``
with the seed count, the date and a summary; the rubric loader merges it.
"""
from __future__ import annotations

import datetime as _dt
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import yaml

from grader.pipeline import keys as answers
from grader.pipeline.plan import case_inputs, case_signature
from grader.rubric import BandExpected, Rubric, bands_path, check_signature, raw_check
from grader.rubric import load_rubric_cached as load_rubric
from grader.pipeline.score import prepare

QUANTILES = (0.001, 0.999)
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _one(args):
    """Seed offset ``k`` of one shared call; each check that judges it gets its own value."""
    path, checks, k = args
    rubric = load_rubric(path)
    ns = answers.reference_namespace(rubric)
    first = _check(rubric, *checks[0])
    case, arrays = case_inputs(first, 0, ns, seed_offset=k)
    out = answers.run_trusted(ns, case, arrays, rubric.aliases, str(answers.data_dir()))
    values = {}
    for item_id, name in checks:
        values[(item_id, name)] = None
        if out.error is not None:
            continue
        try:
            v = np.asarray(prepare(_check(rubric, item_id, name), out.value), dtype=float)
        except Exception:  # noqa: BLE001 - a failed run is counted, not fatal
            continue
        if np.all(np.isfinite(v)):
            values[(item_id, name)] = v.ravel().tolist()
    return values


def _check(rubric, item_id, name):
    return next(c for c in rubric.item(item_id).checks if c.name == name)


def _init_worker():
    """One BLAS/torch thread per calibration process: the pool already uses every core."""
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def band_from(values: list[list[float]], margin: float) -> dict:
    v = np.asarray(values, dtype=float)
    lo_q, hi_q = np.quantile(v, QUANTILES[0]), np.quantile(v, QUANTILES[1])
    # a relative floor: a deterministic quantity still gets a (tiny) band, and
    # small quantities (a 1e-13 weight std) are not swamped by an absolute floor
    width = max(hi_q - lo_q, 1e-9 * max(abs(lo_q), abs(hi_q)), 1e-300)
    return {"band": [float(lo_q - margin * width), float(hi_q + margin * width)],
            "summary": {"min": float(v.min()), "max": float(v.max()), "mean": float(v.mean()),
                        "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
                        "q_low": float(lo_q), "q_high": float(hi_q)}}


def calibrate(rubric: Rubric, *, seeds: int | None = None, margin: float = 0.25, items: tuple[str, ...] = (),
              workers: int | None = None, full: bool = True, progress=None) -> dict:
    """Calibrate every band check of ``rubric`` (or of ``items``); returns and writes the bands.

    Checks that judge the same call (e.g. the final train and test accuracy of
    one training run) share its runs: each seed runs the call once.
    """
    say = progress or (lambda s: None)
    path = bands_path(rubric.path)
    existing = (yaml.safe_load(path.read_text()) if path.exists() else {}) or {}
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    ns = answers.reference_namespace(rubric)
    groups: dict[str, list] = {}
    wanted = {}
    for item in rubric.items:
        for check in item.checks:
            if not isinstance(check.expected, BandExpected) or (check.full and not full):
                continue
            if items and item.id not in items:
                continue
            case, arrays = case_inputs(check, 0, ns)
            groups.setdefault(case_signature(case, arrays), []).append((item.id, check.name))
            wanted[(item.id, check.name)] = seeds or check.expected.seeds or 200
    collected: dict[tuple, list] = {k: [] for k in wanted}
    old_env = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update({k: "1" for k in _THREAD_VARS})
    try:
        ctx = multiprocessing.get_context("spawn")  # fresh workers read the thread settings
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker) as pool:
            for checks in groups.values():
                n = max(wanted[c] for c in checks)
                say(f"{', '.join(f'{i}/{c}' for i, c in checks)}: {n} seeds")
                for values in pool.map(_one, [(str(rubric.path), checks, k) for k in range(n)]):
                    for c, v in values.items():
                        if len(collected[c]) < wanted[c]:
                            collected[c].append(v)
    finally:
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    for (item_id, name), results in collected.items():
        good = [r for r in results if r is not None]
        if not good:
            raise RuntimeError(f"{item_id}/{name}: every calibration run failed")
        check = _check(rubric, item_id, name)
        entry = band_from(good, margin)
        entry.update({"check_hash": check_signature(raw_check(rubric.path, item_id, name)),
                      "seeds": len(results), "failures": len(results) - len(good), "margin": margin,
                      "quantiles": list(QUANTILES), "date": _dt.date.today().isoformat(),
                      "how": check.expected.how or "reference over shifted seeds"})
        existing.setdefault(item_id, {})[name] = entry
    # drop entries of checks that no longer exist or are no longer bands
    live = {(i.id, c.name) for i in rubric.items for c in i.checks if isinstance(c.expected, BandExpected)}
    existing = {i: {c: e for c, e in checks.items() if (i, c) in live} for i, checks in existing.items()}
    existing = {i: checks for i, checks in existing.items() if checks}
    header = (f"# Bands of {rubric.assignment}, written by `dlgrade calibrate {rubric.assignment}`.\n"
              "# Do not edit by hand: rerun the command (it records seeds, date and summary).\n")
    path.write_text(header + yaml.safe_dump(existing, sort_keys=True))
    return existing

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
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import yaml

from grader import answers
from grader.rubric import BandExpected, Rubric, bands_path, check_signature, raw_check
from grader.rubric import load_rubric_cached as load_rubric
from grader.score import prepare

QUANTILES = (0.001, 0.999)


def _one(args):
    path, item_id, check_name, k = args
    rubric = load_rubric(path)
    check = next(c for c in rubric.item(item_id).checks if c.name == check_name)
    ns = answers.reference_namespace(rubric)
    case, arrays = answers.case_inputs(check, 0, ns, seed_offset=k)
    out = answers.run_trusted(ns, case, arrays, rubric.aliases, str(answers.data_dir()))
    if out.error is not None:
        return None
    try:
        v = np.asarray(prepare(check, out.value), dtype=float)
    except Exception:  # noqa: BLE001
        return None
    return v.ravel().tolist() if np.all(np.isfinite(v)) else None


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
    """Calibrate every band check of ``rubric`` (or of ``items``); returns and writes the bands."""
    say = progress or (lambda s: None)
    path = bands_path(rubric.path)
    existing = yaml.safe_load(path.read_text()) if path.exists() else {}
    existing = existing or {}
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    for item in rubric.items:
        if items and item.id not in items:
            continue
        for check in item.checks:
            if not isinstance(check.expected, BandExpected) or (check.full and not full):
                continue
            n = seeds or check.expected.seeds or 200
            say(f"{item.id} / {check.name}: {n} seeds")
            jobs = [(str(rubric.path), item.id, check.name, k) for k in range(n)]
            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(_one, jobs))
            good = [r for r in results if r is not None]
            if not good:
                raise RuntimeError(f"{item.id}/{check.name}: every calibration run failed")
            entry = band_from(good, margin)
            entry.update({"check_hash": check_signature(raw_check(rubric.path, item.id, check.name)),
                          "seeds": n, "failures": n - len(good), "margin": margin, "quantiles": list(QUANTILES),
                          "date": _dt.date.today().isoformat(),
                          "how": check.expected.how or "reference over shifted seeds"})
            existing.setdefault(item.id, {})[check.name] = entry
    header = (f"# Bands of {rubric.assignment}, written by `dlgrade calibrate {rubric.assignment}`.\n"
              "# Do not edit by hand: rerun the command (it records seeds, date and summary).\n")
    path.write_text(header + yaml.safe_dump(existing, sort_keys=True))
    return existing

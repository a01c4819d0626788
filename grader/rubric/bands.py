"""Calibrated bands: ``rubrics/<name>.bands.yaml``, written by ``dlgrade calibrate``.

Bands live beside the hand-edited rubric rather than in it (YAML round-trips
lose comments). When a rubric loads, each ``expected: {band: ...}`` is filled
from this file unless the check changed since calibration (then it is stale
and unused).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

from grader.rubric.errors import RubricError

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster


def bands_path(rubric_path: Path) -> Path:
    """Where ``dlgrade calibrate`` keeps the bands of a rubric: ``<name>.bands.yaml`` beside it."""
    return rubric_path.with_name(rubric_path.stem + ".bands.yaml")


def merge_bands(raw: dict, path: Path):
    """Fill ``expected: {band: ...}`` of each check from the calibration file, if any."""
    if not path.exists():
        return
    try:
        bands = yaml.load(path.read_text(), Loader=YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        raise RubricError(f"{path}: not valid YAML: {exc}; rerun `dlgrade calibrate`") from None
    for item in raw.get("items") or []:
        for check in (item.get("checks") or []) if isinstance(item, dict) else []:
            got = (bands.get(item.get("id")) or {}).get(check.get("name")) if isinstance(check, dict) else None
            exp = check.get("expected") if isinstance(check, dict) else None
            if got and isinstance(exp, dict) and "band" in exp:
                if got.get("check_hash") != check_signature(check):
                    check["expected"] = {**exp, "band": None, "stale": True}
                else:  # the rubric's own description of the band wins over the stored one
                    check["expected"] = {**got, **{k: v for k, v in exp.items() if k in ("how",) and v}}


def check_signature(raw_check: dict) -> str:
    """What a calibrated band depends on: the check's function, cases, selection and transform."""
    keys = ("function", "cases", "select", "transform")
    return hashlib.sha256(json.dumps({k: raw_check.get(k) for k in keys}, sort_keys=True,
                                     default=str).encode()).hexdigest()[:16]


def raw_check(rubric_path: Path, item_id: str, check_name: str) -> dict:
    """The check as written in the YAML file (for :func:`check_signature`)."""
    raw = yaml.load(Path(rubric_path).read_text(), Loader=YAML_LOADER)
    for item in raw.get("items", []):
        if item.get("id") == item_id:
            for check in item.get("checks", []):
                if check.get("name") == check_name:
                    return check
    raise KeyError(f"{item_id}/{check_name}")

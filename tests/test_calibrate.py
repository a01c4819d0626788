"""`dlgrade calibrate`: bands from the reference over seeds, and stale bands are not used."""
from __future__ import annotations

import shutil

import numpy as np
import yaml

from grader.authoring.calibrate import band_from, calibrate
from grader.rubric import load_rubric


def test_band_from_quantiles_and_margin():
    vals = [[float(v)] for v in np.linspace(0, 1, 1001)]
    b = band_from(vals, margin=0.25)
    lo, hi = b["band"]
    assert np.isclose(lo, 0.001 - 0.25 * 0.998) and np.isclose(hi, 0.999 + 0.25 * 0.998)


def test_calibrate_writes_band_and_detects_changes(tmp_path, toy_rubric):
    src = toy_rubric.path
    for f in src.parent.glob("toy*"):
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "toy.yaml"
    raw = yaml.safe_load(path.read_text())
    t4 = next(i for i in raw["items"] if i["id"] == "T4")
    t4["checks"][0]["expected"] = {"band": None, "how": "mean of 400 normals"}
    path.write_text(yaml.safe_dump(raw))
    rubric = load_rubric(path)
    assert rubric.item("T4").checks[0].expected.band is None
    calibrate(rubric, seeds=40, workers=1)
    entry = yaml.safe_load((tmp_path / "toy.bands.yaml").read_text())["T4"]["band"]
    assert entry["seeds"] == 40 and entry["failures"] == 0 and entry["check_hash"]
    # independent check: the mean of 400 standard normals has std 1/20
    lo, hi = entry["band"]
    assert -0.3 < lo < -0.05 and 0.05 < hi < 0.3
    exp = load_rubric(path).item("T4").checks[0].expected
    assert exp.band == [lo, hi] and not exp.stale and exp.how == "mean of 400 normals"
    # change the case: the stored band no longer applies
    t4["checks"][0]["cases"][0]["args"][0] = 100
    path.write_text(yaml.safe_dump(raw))
    exp = load_rubric(path).item("T4").checks[0].expected
    assert exp.band is None and exp.stale

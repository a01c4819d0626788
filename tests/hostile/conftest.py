"""Session fixture of the hostile corpus: canaries planted and answer keys computed before any attack."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hostile_lib import HERE, RUNS, Hostile, have_sandbox, sandbox_layers


@pytest.fixture(scope="session")
def hostile():
    if not have_sandbox():
        pytest.skip("the hostile corpus needs root and a working bubblewrap (layers rlimits, namespaces, uid); "
                    f"this machine has: {', '.join(sandbox_layers())}, euid {os.geteuid()}")
    base = Path(tempfile.mkdtemp(prefix="dlgrade-hostile-"))
    h = Hostile(base)
    # answer keys and mutant keys computed once, before any attack, so the cache can be checked for tampering
    honest = base / "warmup.py"
    honest.write_text((HERE / "subs" / "honest.py").read_text())
    warm = h.run({"mode": "grade", "path": str(honest), "rubric": str(h.toy_rubric), "unsafe": False,
                  "as_cap_mb": 3072}, timeout=120)
    assert warm.get("ok") and warm["score"] == warm["max_score"], f"warm-up grading failed: {warm}"
    yield h
    h.listener.close()
    out = HERE / "last_run.json"
    out.write_text(json.dumps({"layers": list(sandbox_layers()), "runs": RUNS}, indent=1, default=str))
    shutil.rmtree(base, ignore_errors=True)

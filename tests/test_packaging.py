"""dlgrade installs as a package: a built wheel in a fresh venv validates an assignment on its own.

Nothing of the checkout is visible to that venv (it runs from another folder), so
the rubrics, skeletons, examples, templates and reference data must all come
from the wheel.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TORCH = os.environ.get("DLGRADE_TORCH", "torch==2.13.0")  # the CPU wheel (see README)


def _run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, **kw)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.mark.slow
def test_wheel_installs_and_validates(tmp_path):
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
          "-w", str(wheels)])
    (wheel,) = wheels.glob("dlgrade-*.whl")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", TORCH, str(wheel)])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DLGRADE_COURSE")}
    env["DLGRADE_CACHE"] = str(tmp_path / "cache")
    where = _run([str(py), "-c", "import grader, reference; print(grader.__file__); print(reference.__file__)"],
                 cwd=elsewhere, env=env).stdout
    assert str(ROOT) not in where and "site-packages" in where, where
    listed = _run([str(venv / "bin" / "dlgrade"), "list", "--json"], cwd=elsewhere, env=env).stdout
    assert "learning-time" in listed and "signal-propagation" in listed
    out = subprocess.run([str(venv / "bin" / "dlgrade"), "validate", "-a", "learning-time", "--json"],
                         capture_output=True, text=True, timeout=1200, cwd=elsewhere, env=env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert '"ok": false' not in out.stdout

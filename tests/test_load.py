"""Reading a submission is safe against what a stranger can put in a folder."""
from __future__ import annotations

import json
import os
import time

import pytest

from helpers import write_notebook
from grader.pipeline.load import SubmissionError, read_submission


def test_symlink_out_of_the_submission_is_refused(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_text("TOKEN = 'do-not-show'\n")
    os.chmod(secret, 0o600)
    sub = tmp_path / "student"
    sub.mkdir()
    (sub / "answer.py").symlink_to(secret)
    with pytest.raises(SubmissionError, match="symlink to a file outside the submission: refused") as exc:
        read_submission(sub)
    assert "do-not-show" not in str(exc.value)


def test_symlink_inside_the_submission_is_read(tmp_path):
    sub = tmp_path / "student"
    (sub / "src").mkdir(parents=True)
    (sub / "src" / "real.py").write_text("def f():\n    return 1\n")
    (sub / "answer.py").symlink_to(sub / "src" / "real.py")
    got = read_submission(sub)
    assert "def f()" in got.cells[0].source


def test_hardlink_is_refused(tmp_path):
    other = tmp_path / "reference_module.py"
    other.write_text("def f():\n    return 1\n")
    sub = tmp_path / "student"
    sub.mkdir()
    os.link(other, sub / "answer.py")
    with pytest.raises(SubmissionError, match="hardlink"):
        read_submission(sub)


def test_fifo_and_sparse_giant_are_refused_without_reading(tmp_path):
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    with pytest.raises(SubmissionError, match="not a regular file"):
        read_submission(fifo)
    sparse = tmp_path / "big.py"
    with open(sparse, "wb") as f:
        f.truncate(8 * 2**30)  # 8 GiB, no blocks on disk
    with pytest.raises(SubmissionError, match="8192 MB"):
        read_submission(sparse)
    assert time.monotonic() - t0 < 5


def test_odd_metadata_types_are_ignored(tmp_path):
    p = write_notebook(tmp_path / "odd.ipynb", ["def f():\n    return 1\n"])
    nb = json.loads(p.read_text())
    nb["cells"][0]["metadata"] = {"dlgrade": {"item": {"T5": 1}}}
    p.write_text(json.dumps(nb))
    got = read_submission(p)
    assert got.cells[0].item is None and got.answers == {}

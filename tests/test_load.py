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


# ----------------------------------------------------------------------------
# several notebooks in one folder: parts, versions, drafts (choose_files)

from pathlib import Path  # noqa: E402

from grader.pipeline.load import choose_files, name_parts  # noqa: E402


def _choose(names, *, times=None, prefer=()):
    times = times or {}
    paths = [Path("/sub", n) for n in names]
    c = choose_files(sorted(paths), prefer=prefer, mtime=lambda p: times.get(p.name, 1000.0))
    return [p.name for p in c.files], {p.name: why for p, why in c.ignored}


def test_parts_are_all_read_in_name_order():
    files, ignored = _choose(["W1D2_Tutorial2.ipynb", "W1D2_Tutorial1.ipynb", "W1D2_Tutorial3.ipynb"])
    assert files == ["W1D2_Tutorial1.ipynb", "W1D2_Tutorial2.ipynb", "W1D2_Tutorial3.ipynb"] and not ignored


@pytest.mark.parametrize("name", ["hw_draft.ipynb", "old_attempt.ipynb", "Copy of hw.ipynb", "hw (1).ipynb",
                                  "hw-checkpoint.ipynb", "hw~.ipynb", "hw.bak.ipynb", "backup hw.ipynb",
                                  "hw - Copy.ipynb", "hw_old2.ipynb", "scratch.ipynb", "DRAFT.ipynb"])
def test_a_draft_backup_or_copy_is_not_graded_beside_the_final_one(name):
    # newer than the final one, and later by name than some of them: neither may make it win
    files, ignored = _choose(["hw.ipynb", name], times={name: 2000.0})
    assert files == ["hw.ipynb"]
    assert ignored == {name: f"{name}: named like a draft, backup or copy, not graded (graded: hw.ipynb)"}


@pytest.mark.parametrize("name", ["bold_claims.ipynb", "holdout.ipynb", "oldenburg.ipynb", "copyright.ipynb",
                                  "temperature.ipynb", "tutorial1.ipynb", "hw2.ipynb"])
def test_words_that_only_contain_a_draft_word_are_parts(name):
    assert not name_parts(name).draft
    files, ignored = _choose(["hw.ipynb", name])
    assert sorted(files) == sorted(["hw.ipynb", name]) and not ignored


def test_v1_is_not_graded_when_v2_exists_even_if_newer():
    files, ignored = _choose(["hw_v1.ipynb", "hw_v2.ipynb"], times={"hw_v1.ipynb": 5000.0})
    assert files == ["hw_v2.ipynb"]
    assert ignored["hw_v1.ipynb"] == ("hw_v1.ipynb: another version of hw_v2.ipynb, not graded "
                                      "(hw_v2.ipynb has the higher version number)")


def test_final_wins_over_an_unmarked_newer_version():
    files, ignored = _choose(["hw.ipynb", "hw_final.ipynb"], times={"hw.ipynb": 5000.0})
    assert files == ["hw_final.ipynb"] and "hw_final.ipynb is marked final" in ignored["hw.ipynb"]


def test_only_drafts_the_newest_is_graded_and_a_tie_is_reported():
    files, ignored = _choose(["Copy of hw.ipynb", "hw (1).ipynb"], times={"Copy of hw.ipynb": 3000.0})
    assert files == ["Copy of hw.ipynb"] and "Copy of hw.ipynb is newer" in ignored["hw (1).ipynb"]
    files, ignored = _choose(["final_hw.ipynb", "hw_final.ipynb"])  # same marks, same time
    assert files == ["hw_final.ipynb"]
    assert "a tie" in ignored["final_hw.ipynb"] and "hw_final.ipynb" in ignored["final_hw.ipynb"]


def test_the_part_named_like_the_assignment_is_read_last():
    names = ["signal_propagation.ipynb", "zeta_helpers.ipynb"]
    assert _choose(names)[0] == names
    assert _choose(names, prefer=("signal-propagation",))[0] == ["zeta_helpers.ipynb", "signal_propagation.ipynb"]


def test_read_submission_says_what_it_read_and_left_out(tmp_path):
    sub = tmp_path / "zoe"
    sub.mkdir()
    write_notebook(sub / "hw.ipynb", ["def f():\n    return 1\n"])
    write_notebook(sub / "hw_old.ipynb", ["def f():\n    return 2\n"])
    got = read_submission(sub)
    assert got.files == ("hw.ipynb",) and [n for n, _ in got.ignored] == ["hw_old.ipynb"]
    assert "return 2" not in "".join(c.source for c in got.cells)

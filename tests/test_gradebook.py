"""The SQLite gradebook: schema versions, results, the writer lock, manual marks, item re-grades."""
from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest

from grader.batch import gradebook as gbm
from grader.batch.gradebook import Gradebook, GradebookBusy, GradebookError, merge_item


def result(student="alice", points=(2.0, 1.0), error=None, assignment="toy", mistake=None):
    """A result dict shaped like ``SubmissionResult.to_dict()`` (two automatic items and a manual one)."""
    items = [
        {"item_id": "T1", "title": "Doubling", "points": points[0], "max_points": 2.0,
         "status": "passed" if points[0] == 2 else "partial", "message": "m1", "visibility": "public",
         "checks": [{"name": "c", "passed": points[0] == 2, "fraction": points[0] / 2, "weight": 1.0, "message": "",
                     "mistake": mistake, "mistake_feedback": None,
                     "cases": [{"index": 0, "status": "ok", "passed": True, "message": "", "seconds": 0.25},
                               {"index": 1, "status": "ok", "passed": True, "message": "", "seconds": 0.5}]}]},
        {"item_id": "T2", "title": "Pairs", "points": points[1], "max_points": 1.0, "status": "passed",
         "message": "m2", "visibility": "hidden", "checks": []},
        {"item_id": "T5", "title": "Explain", "points": 0.0, "max_points": 2.0, "status": "manual",
         "message": "awaiting a TA", "visibility": "hidden", "checks": []},
    ]
    return {"student": student, "path": f"{student}.ipynb", "assignment": assignment, "rubric_version": 1,
            "key_version": "fp1", "sha256": "s", "items": items, "warnings": [], "error": error, "layers": [],
            "seconds": 1.0, "stdout_tail": ""}


def meta(student="alice", sha="sha-a", fp="fp1", **kw):
    return {"student_id": student, "path": f"/c/{student}.ipynb", "sha256": sha, "size": 10, "mtime": 1.0,
            "rubric_fingerprint": fp, **kw}


@pytest.fixture
def gb(tmp_path):
    with Gradebook.open(tmp_path / "g.sqlite") as g:
        g.acquire_writer()
        yield g


def test_new_gradebook_is_wal_and_current(tmp_path):
    with Gradebook.open(tmp_path / "g.sqlite") as g:
        assert g.schema_version == gbm.SCHEMA_VERSION == len(gbm.MIGRATIONS)
        assert g.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in g.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"schema_version", "students", "submissions", "runs", "results", "item_results", "manual_marks"} <= tables
    with pytest.raises(GradebookError, match="no gradebook at"):
        Gradebook.open(tmp_path / "missing.sqlite", create=False)


def test_older_file_upgraded_newer_refused_foreign_refused(tmp_path):
    old = tmp_path / "old.sqlite"
    db = sqlite3.connect(old, isolation_level=None)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    db.execute("INSERT INTO schema_version VALUES (1)")
    gbm.MIGRATIONS[0](db)
    db.execute("INSERT INTO students VALUES ('bob', 'bob', '', 'then')")
    db.close()
    with Gradebook.open(old) as g:
        assert g.schema_version == 2
        assert g.students() == ["bob"]  # data kept
        assert g.db.execute("SELECT count(*) FROM manual_marks").fetchone()[0] == 0

    newer = tmp_path / "newer.sqlite"
    Gradebook.open(newer).close()
    db = sqlite3.connect(newer, isolation_level=None)
    db.execute("UPDATE schema_version SET version = 99")
    db.close()
    with pytest.raises(GradebookError, match="schema version 99, newer than this dlgrade understands"):
        Gradebook.open(newer)

    foreign = tmp_path / "other.sqlite"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(GradebookError, match="not a dlgrade gradebook"):
        Gradebook.open(foreign)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(GradebookError, match="not a dlgrade gradebook"):
        Gradebook.open(junk)


def test_record_latest_needs_grading(gb):
    run = gb.start_run("toy", "fp1", grader_version="t", layers=["rlimits"], options={"full": False})
    rid = gb.record(run, meta("bob", "sha-b"), result("somebody-else", points=(1.0, 0.0), mistake="m_x"))
    gb.record(run, meta("alice"), result("alice"))
    assert gb.students() == ["alice", "bob"]
    latest = gb.latest_results("toy")
    assert [r["student"] for r in latest] == ["alice", "bob"]  # the entry's id wins, sorted
    row = gb.latest_row("bob", "toy")
    assert (row["id"], row["score"], row["max_score"]) == (rid, 1.0, 3.0)  # manual items excluded
    items = gb.db.execute("SELECT item_id, points, mistake, seconds FROM item_results WHERE result_id = ? "
                          "ORDER BY item_id", (rid,)).fetchall()
    assert [tuple(r) for r in items] == [("T1", 1.0, "m_x", 0.75), ("T2", 0.0, None, 0.0), ("T5", 0.0, None, 0.0)]
    assert not gb.needs_grading("bob", "sha-b", "fp1")
    assert gb.needs_grading("bob", "sha-b", "fp2")
    assert gb.needs_grading("bob", "sha-new", "fp1")
    assert gb.needs_grading("carol", "sha-b", "fp1")
    gb.record(run, meta("bob", "sha-b2"), result("bob"))
    assert gb.needs_grading("bob", "sha-b", "fp1")  # back to the older file: only the newest result counts
    assert not gb.needs_grading("bob", "sha-b2", "fp1", assignment="toy")
    assert gb.needs_grading("bob", "sha-b2", "fp1", options_key='{"full": true}')
    gb.record(run, meta("dave", "sha-d", grader_failed=True), result("dave", error="grader error (boom)"))
    assert gb.needs_grading("dave", "sha-d", "fp1")  # a grader failure is retried
    gb.finish_run(run, "finished")
    assert gb.runs()[0]["status"] == "finished"


def test_writer_lock_busy_then_wait(tmp_path):
    path = tmp_path / "g.sqlite"
    first = Gradebook.open(path)
    first.acquire_writer()
    second = Gradebook.open(path)
    with pytest.raises(GradebookBusy, match=r"in use by another `dlgrade grade` run \(pid \d+.*add --wait"):
        second.acquire_writer(0)
    t = threading.Timer(0.5, first.release_writer)
    t.start()
    t0 = time.monotonic()
    second.acquire_writer(wait_s=30)
    assert 0.4 < time.monotonic() - t0 < 10
    t.join()
    with pytest.raises(GradebookBusy):
        first.acquire_writer(0.2)
    second.close()
    first.acquire_writer(0)  # released on close
    first.close()


def test_reader_without_lock_cannot_write(tmp_path):
    with Gradebook.open(tmp_path / "g.sqlite") as g:
        with pytest.raises(GradebookError, match="acquire_writer"):
            g.start_run("toy", "fp", grader_version="t", layers=[], options={})


def test_killed_run_marked_on_next_lock(tmp_path):
    path = tmp_path / "g.sqlite"
    with Gradebook.open(path) as g:
        g.acquire_writer()
        g.start_run("toy", "fp", grader_version="t", layers=[], options={})
    with Gradebook.open(path) as g:
        assert g.runs()[0]["status"] == "running"
        g.acquire_writer()
        assert g.runs()[0]["status"] == "killed"


def test_manual_marks_all_or_nothing(gb):
    run = gb.start_run("toy", "fp1", grader_version="t", layers=[], options={})
    gb.record(run, meta("alice"), result("alice"))
    gb.record(run, meta("bob", "sha-b"), result("bob"))
    good = {"student_id": "alice", "item_id": "T5", "mark": "1.5", "comment": "ok", "who": "ta1"}
    bad_cases = [
        ({"student_id": "zoe", "item_id": "T5", "mark": 1}, "mark 2 .*no such student"),
        ({"student_id": "bob", "item_id": "T9", "mark": 1}, "mark 2 .*toy has no item 'T9'"),
        ({"student_id": "bob", "item_id": "T5", "mark": 2.5}, r"mark 2 .*outside 0\.\.2"),
        ({"student_id": "bob", "item_id": "T5", "mark": "abc"}, "mark 2 .*'abc' is not a number"),
        ({"student_id": "bob", "item_id": "T5", "mark": float("nan")}, "mark 2 .*outside"),
    ]
    for bad, msg in bad_cases:
        with pytest.raises(GradebookError, match=msg):
            gb.set_manual_marks([good, bad])
        assert gb.manual_marks() == {}  # nothing imported
    gb.set_manual_marks([good, {"student_id": "bob", "item_id": "T5", "mark": 2, "who": "ta2"}])
    marks = gb.manual_marks("toy")
    assert set(marks) == {("alice", "T5"), ("bob", "T5")}
    assert (marks[("alice", "T5")]["mark"], marks[("alice", "T5")]["comment"], marks[("alice", "T5")]["who"]) == \
        (1.5, "ok", "ta1")
    gb.set_manual_marks([{**good, "mark": 0.5}])  # a later mark replaces the earlier one
    assert gb.manual_marks()[("alice", "T5")]["mark"] == 0.5
    assert gb.manual_marks("other") == {}


def test_item_regrade_request_resumes_and_closes(gb):
    run = gb.start_run("toy", "fp1", grader_version="t", layers=[], options={})
    for s in ("alice", "bob", "carol"):
        gb.record(run, meta(s, f"sha-{s}"), result(s))
    assert gb.invalidate_item("toy", "T2") == 3
    row = gb.latest_row("alice", "toy")
    merged = merge_item(row["result"], result("alice", points=(0.0, 0.25)), "T2")
    assert [i["points"] for i in merged["items"]] == [2.0, 0.25, 0.0]
    gb.record(run, meta("alice", "sha-alice", fp="fp2"), merged)
    assert gb.latest_row("alice", "toy")["score"] == 2.25
    assert gb.invalidate_item("toy", "T2") == 2  # the same open request: alice is done
    assert gb.pending_item_regrade("toy", "T2") == ["bob", "carol"]
    for s in ("bob", "carol"):
        gb.record(run, meta(s, f"sha-{s}", fp="fp2"), result(s))
    assert gb.pending_item_regrade("toy", "T2") == []
    gb.finish_item_regrade("toy", "T2")
    assert gb.invalidate_item("toy", "T2") == 3  # a new request after the last one finished
    assert gb.db.execute("SELECT count(*) FROM results").fetchone()[0] == 6


def test_results_round_trip_through_submission_result(gb, toy_rubric, tmp_path):
    from grader.pipeline import failed_submission
    from grader.model import Options, SubmissionResult

    res = failed_submission(tmp_path / "x.ipynb", toy_rubric, Options(), "is empty").to_dict()
    run = gb.start_run("toy", "fp1", grader_version="t", layers=[], options={})
    gb.record(run, meta("x"), json.loads(json.dumps(res)))
    (back,) = gb.latest_results("toy")
    r = SubmissionResult.from_dict(back)
    assert (r.student, r.error, r.score, r.max_score) == ("x", "is empty", 0.0,
                                                         sum(i.points for i in toy_rubric.items if not i.manual))

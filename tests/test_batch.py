"""Batch runs into the gradebook: resume, re-grade, grader failures, kill -9, Ctrl-C, two runs at once."""
from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import psutil
import pytest

from grader.batch import (BatchError, Gradebook, GradebookBusy, add_grade_arguments, check_out_path, default_db_path,
                          run_batch, run_from_args)
from grader.batch import progress as progress_mod
from grader.pipeline import Options

ROOT = Path(__file__).resolve().parent.parent
TOY = ROOT / "tests" / "fixtures" / "toy"
EXAMPLES = ROOT / "examples" / "signal-propagation"

# A stand-in for the pipeline: a submission is JSON naming its points; every call is logged.
FAKE = '''
import json, os, time
from pathlib import Path

ITEMS = [("T1", 2.0), ("T2", 1.0), ("T3", 1.0), ("T4", 1.0)]


def fake_grade(path, rubric_ref, opts):
    spec = json.loads(Path(path).read_text())
    with open(os.environ["FAKE_LOG"], "a") as f:
        f.write(json.dumps({"who": spec["who"], "items": list(opts.items), "pid": os.getpid()}) + "\\n")
    time.sleep(spec.get("sleep", 0))
    if spec.get("boom"):
        raise RuntimeError("boom in the grader")
    if spec.get("die") and not os.path.exists(spec["die"]):
        os._exit(7)
    bonus = float(os.environ.get("FAKE_BONUS", "0"))
    items = []
    for (iid, top), p in zip(ITEMS, spec["points"]):
        if opts.items and iid not in opts.items:
            continue
        pts = min(top, p + bonus)
        items.append({"item_id": iid, "title": iid, "points": pts, "max_points": top,
                      "status": "passed" if pts == top else "partial", "message": "", "visibility": "hidden",
                      "checks": []})
    return {"student": "not-the-intake-id", "path": str(path), "assignment": "toy", "rubric_version": 1,
            "key_version": "k", "sha256": "", "items": items, "warnings": [], "error": None, "layers": [],
            "seconds": float(spec.get("sleep", 0)), "stdout_tail": ""}
'''

SCRIPT = '''
import argparse, json, os, sys
sys.path[:0] = json.loads(os.environ["BATCH_PATHS"])
from grader.batch import BatchError, add_grade_arguments, run_from_args
from grader.rubric import load_rubric
import fakegrade

p = argparse.ArgumentParser()
p.add_argument("directory")
p.add_argument("-a", "--assignment", default="toy")
add_grade_arguments(p)
args = p.parse_args()
try:
    s = run_from_args(args, rubric=load_rubric(os.environ["TOY_RUBRIC"]), grade_fn=fakegrade.fake_grade,
                      progress="plain")
except BatchError as exc:
    print(f"dlgrade: {exc}", file=sys.stderr)
    sys.exit(exc.exit_code)
print("\\n".join(s.lines()), flush=True)
sys.exit(s.exit_code)
'''


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    d = tmp_path_factory.mktemp("fake")
    (d / "fakegrade.py").write_text(FAKE)
    (d / "script.py").write_text(SCRIPT)
    sys.path.insert(0, str(d))
    import fakegrade

    yield fakegrade, d
    sys.path.remove(str(d))


@pytest.fixture
def log(tmp_path, monkeypatch):
    path = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_LOG", str(path))
    path.touch()
    return path


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def make_class(d: Path, n: int, *, sleep: float = 0.0, **extra) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        who = f"s{i:02d}"
        spec = {"who": who, "points": [i % 3, 1, 0.5, 1], "sleep": sleep, **extra.get(who, {})}
        (d / f"{who}.py").write_text(json.dumps(spec))
    return d


def rows_per_student(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("SELECT student_id, count(*) FROM results GROUP BY student_id").fetchall())
    finally:
        con.close()


def test_resume_regrade_and_intake_ids(tmp_path, fake, log, toy_rubric):
    fg, _ = fake
    cls = make_class(tmp_path / "class", 5)
    (cls / "notes.pdf").write_bytes(b"%PDF")
    db = tmp_path / "g.sqlite"
    s = run_batch(cls, toy_rubric, db_path=db, workers=2, grade_fn=fg.fake_grade, progress="quiet")
    assert (s.graded, s.already_done, s.failed, s.exit_code) == (5, 0, 0, 0)
    assert [k.path.name for k in s.skipped] == ["notes.pdf"]
    with Gradebook.open(db) as gb:
        res = gb.latest_results("toy")
        assert [r["student"] for r in res] == ["s00", "s01", "s02", "s03", "s04"]  # intake ids, sorted
        assert [r["path"] for r in res] == [str(cls / f"s{i:02d}.py") for i in range(5)]
        scores = {r["student_id"]: r["score"] for r in gb.db.execute("SELECT student_id, score FROM results")}
        assert scores == {f"s{i:02d}": i % 3 + 2.5 for i in range(5)}
        assert gb.skipped()[0]["reason"] == "not graded: not a notebook or module"
    assert sorted(c["who"] for c in calls(log)) == [f"s{i:02d}" for i in range(5)]

    s = run_batch(cls, toy_rubric, db_path=db, workers=2, grade_fn=fg.fake_grade, progress="quiet")
    assert (s.graded, s.already_done) == (0, 5)
    assert len(calls(log)) == 5  # nothing graded twice

    spec = json.loads((cls / "s03.py").read_text())
    (cls / "s03.py").write_text(json.dumps({**spec, "points": [2, 1, 1, 1]}))  # a re-upload
    s = run_batch(cls, toy_rubric, db_path=db, workers=2, grade_fn=fg.fake_grade, progress="quiet")
    assert (s.graded, s.already_done) == (1, 4)
    with Gradebook.open(db) as gb:
        assert gb.latest_row("s03", "toy")["score"] == 5.0

    s = run_batch(cls, toy_rubric, db_path=db, workers=2, grade_fn=fg.fake_grade, progress="quiet",
                  opts=Options(full=True))
    assert s.graded == 5  # other options that change results: graded again
    s = run_batch(cls, toy_rubric, db_path=db, workers=1, grade_fn=fg.fake_grade, progress="quiet", regrade=True)
    assert (s.graded, s.already_done) == (5, 0)
    assert rows_per_student(db) == {"s00": 3, "s01": 3, "s02": 3, "s03": 4, "s04": 3}


def test_regrade_item_merges_one_item(tmp_path, fake, log, toy_rubric, monkeypatch):
    fg, _ = fake
    cls = make_class(tmp_path / "class", 4)
    db = tmp_path / "g.sqlite"
    run_batch(cls, toy_rubric, db_path=db, workers=2, grade_fn=fg.fake_grade, progress="quiet")
    with Gradebook.open(db) as gb:
        before = {r["student"]: r for r in gb.latest_results("toy")}
    monkeypatch.setenv("FAKE_BONUS", "0.5")  # "the fixed rubric" scores T3 higher
    log.write_text("")
    s = run_batch(cls, toy_rubric, db_path=db, workers=2, grade_fn=fg.fake_grade, progress="quiet",
                  regrade_item="T3")
    assert (s.graded, s.already_done) == (4, 0)
    assert {tuple(c["items"]) for c in calls(log)} == {("T3",)}  # graded with Options(items=("T3",))
    with Gradebook.open(db) as gb:
        after = {r["student"]: r for r in gb.latest_results("toy")}
        for sid, r in after.items():
            old = {i["item_id"]: i["points"] for i in before[sid]["items"]}
            new = {i["item_id"]: i["points"] for i in r["items"]}
            assert new == {**old, "T3": 1.0}
            assert gb.latest_row(sid, "toy")["score"] == pytest.approx(sum(old.values()) + 0.5)
    assert rows_per_student(db) == {f"s{i:02d}": 2 for i in range(4)}
    s = run_batch(cls, toy_rubric, db_path=db, workers=2, grade_fn=fg.fake_grade, progress="quiet",
                  regrade_item="T3")
    assert s.graded == 4  # a new request re-grades again (the request before was completed)
    with pytest.raises(BatchError, match="--regrade-item: toy has no item 'T9'"):
        run_batch(cls, toy_rubric, db_path=db, grade_fn=fg.fake_grade, progress="quiet", regrade_item="T9")


def test_grader_errors_and_dead_workers_never_stop_the_batch(tmp_path, fake, log, toy_rubric):
    fg, _ = fake
    flag = tmp_path / "second-try"
    cls = make_class(tmp_path / "class", 6, sleep=0.1, s01={"boom": True}, s04={"die": str(tmp_path / "never")})
    db = tmp_path / "g.sqlite"
    s = run_batch(cls, toy_rubric, db_path=db, workers=2, grade_fn=fg.fake_grade, progress="quiet")
    assert (s.graded, s.failed) == (6, 2)
    with Gradebook.open(db) as gb:
        res = {r["student"]: r for r in gb.latest_results("toy")}
    assert res["s01"]["error"] == "grader error (RuntimeError: boom in the grader); please report it"
    assert "died on this submission, also when graded alone" in res["s04"]["error"]
    assert all(res[f"s{i:02d}"]["error"] is None for i in (0, 2, 3, 5))  # bystanders of the dead worker re-graded
    who = [c["who"] for c in calls(log)]
    assert who.count("s04") == 2  # once beside another, once alone on a fresh pool
    assert all(who.count(f"s{i:02d}") <= 2 for i in range(6))
    # grader failures are retried by the next run; the rest is kept
    spec = json.loads((cls / "s04.py").read_text())
    flag.touch()
    (cls / "s04.py").write_text(json.dumps({**spec, "die": str(flag)}))
    s = run_batch(cls, toy_rubric, db_path=db, workers=2, grade_fn=fg.fake_grade, progress="quiet")
    assert (s.graded, s.failed, s.already_done) == (2, 1, 4)


def _env(fake_dir: Path, log: Path) -> dict:
    return {**os.environ, "BATCH_PATHS": json.dumps([str(ROOT), str(TOY), str(fake_dir)]),
            "TOY_RUBRIC": str(TOY / "toy.yaml"), "FAKE_LOG": str(log), "PYTHONUNBUFFERED": "1"}


def _committed(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM results").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def _wait_for(pred, timeout=60):
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _gone(pids, timeout=15) -> bool:
    def dead(pid):
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if all(dead(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_or_interrupted_batch_resumes_each_submission_once(tmp_path, fake, log, sig):
    _, fake_dir = fake
    n = 12
    cls = make_class(tmp_path / "class", n, sleep=0.4)
    db = tmp_path / "g.sqlite"
    cmd = [sys.executable, str(fake_dir / "script.py"), str(cls), "--db", str(db), "--workers", "2"]
    proc = subprocess.Popen(cmd, env=_env(fake_dir, log), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: _committed(db) >= 3)
        workers = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        assert len(workers) == 2
        os.kill(proc.pid, sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _gone(workers), "worker processes outlived the grader"
    done = _committed(db)
    assert 3 <= done < n
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        assert "Traceback" not in err and "KeyboardInterrupt" not in err
        assert f"interrupted: {done} result(s) of this run are saved in {db}" in out
        assert "Run the same command again to grade the rest." in out
        with Gradebook.open(db) as gb:
            assert gb.runs()[-1]["status"] == "interrupted"
    else:
        assert proc.returncode == -signal.SIGKILL
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rerun = subprocess.run(cmd, env=_env(fake_dir, log), capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{n - done} graded (0 with errors), {done} already graded" in rerun.stdout
    assert rows_per_student(db) == {f"s{i:02d}": 1 for i in range(n)}  # every submission exactly once
    with Gradebook.open(db) as gb:
        assert [r["status"] for r in gb.runs()] == [("killed" if sig == signal.SIGKILL else "interrupted"), "finished"]


def test_two_runs_on_one_gradebook(tmp_path, fake, log, toy_rubric):
    fg, fake_dir = fake
    n = 6
    cls = make_class(tmp_path / "class", n, sleep=1.5)
    db = tmp_path / "g.sqlite"
    cmd = [sys.executable, str(fake_dir / "script.py"), str(cls), "--db", str(db), "--workers", "1"]
    first = subprocess.Popen(cmd, env=_env(fake_dir, log), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: _committed(db) >= 1)
        second = subprocess.run(cmd, env=_env(fake_dir, log), capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert "is in use by another `dlgrade grade` run" in second.stderr and "--wait" in second.stderr
        assert "Traceback" not in second.stderr
        with pytest.raises(GradebookBusy):
            run_batch(cls, toy_rubric, db_path=db, grade_fn=fg.fake_grade, progress="quiet")
        s = run_batch(cls, toy_rubric, db_path=db, grade_fn=fg.fake_grade, progress="quiet", wait_s=120)
        assert first.wait(timeout=60) == 0
        assert (s.graded, s.already_done) == (0, n)  # it waited for the first run, then found everything graded
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
    assert rows_per_student(db) == {f"s{i:02d}": 1 for i in range(n)}
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_plain_progress_and_eta_that_grows_while_one_runs(tmp_path, fake, log, toy_rubric, monkeypatch):
    fg, _ = fake
    cls = make_class(tmp_path / "class", 3)
    out = io.StringIO()
    run_batch(cls, toy_rubric, db_path=tmp_path / "g.sqlite", workers=1, grade_fn=fg.fake_grade, progress="plain",
              stream=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "grading 3 submission(s) with 1 worker process(es); 0 already graded, 0 entries not graded"
    assert [ln.split()[0] for ln in lines[1:]] == ["[1/3]", "[2/3]", "[3/3]"]
    assert "s00  2.5/5" in lines[1]

    clock = [100.0]
    monkeypatch.setattr(progress_mod.time, "monotonic", lambda: clock[0])
    rep = progress_mod.make_reporter("rich", stream=io.StringIO())
    rep.start(3)
    rep.begin("alice")
    clock[0] = 110.0
    rep.finish("alice", {"items": []}, False)
    rep.begin("bob")
    assert rep.eta() == pytest.approx(20.0)
    clock[0] = 400.0  # bob runs for 5 minutes: the estimate follows
    assert rep.eta() == pytest.approx(2 * 300 / 1)
    cols = {c.what: c for c in rep.bar.columns if isinstance(c, progress_mod._Live)}
    assert str(cols["eta"].render(None)) == "eta 10 min 00 s"
    assert str(cols["now"].render(None)) == "now: bob (4 min 50 s)"
    assert str(cols["rate"].render(None)) == "0.2/min"
    rep.stop()
    assert isinstance(progress_mod.make_reporter("auto", stream=io.StringIO()), progress_mod.PlainReporter)


def test_cli_helpers(tmp_path):
    p = argparse.ArgumentParser()
    p.add_argument("directory")
    p.add_argument("-a", "--assignment")
    add_grade_arguments(p)
    a = p.parse_args(["subs", "-a", "x", "--workers", "3", "--regrade-item", "D3", "--id-from", "canvas", "--wait"])
    assert (a.workers, a.regrade_item, a.id_from, a.wait, a.db, a.quiet) == (3, "D3", "canvas", float("inf"), None,
                                                                             False)
    assert p.parse_args(["subs", "--wait", "5"]).wait == 5.0 and p.parse_args(["subs"]).wait == 0.0
    with pytest.raises(BatchError, match="no rubric for assignment 'nope'"):
        run_from_args(p.parse_args([str(tmp_path), "-a", "nope"]))
    assert default_db_path(tmp_path / "subs", "hw") == tmp_path.resolve() / "hw.gradebook.sqlite"
    assert default_db_path(".", "hw") == Path.cwd().parent / "hw.gradebook.sqlite"
    out = check_out_path(tmp_path / "new" / "deeper" / "r.csv")
    assert out.parent.is_dir()
    with pytest.raises(BatchError, match="is a folder"):
        check_out_path(tmp_path)


def test_real_signal_propagation_batch(tmp_path):
    """The pipeline in worker processes: a zip and look-alike names, resume, then --regrade-item D3."""
    from grader.pipeline import grade_file
    from grader.rubric import get_rubric

    opts = Options(items=("D1", "D3"))
    top = sum(get_rubric("signal-propagation").item(i).points for i in opts.items)
    cls = tmp_path / "class"
    cls.mkdir()
    for name in ("alice", "bob", "dave"):
        shutil.copy(EXAMPLES / f"{name}.ipynb", cls / f"{name}.ipynb")
    shutil.copy(EXAMPLES / "bob.ipynb", cls / "li wei.ipynb")
    with zipfile.ZipFile(cls / "li_wei.zip", "w") as z:
        z.write(EXAMPLES / "alice.ipynb", "li_wei/hw.ipynb")
    (cls / "essay.pdf").write_bytes(b"%PDF")
    bob = grade_file(EXAMPLES / "bob.ipynb", "signal-propagation", opts=opts)
    db = tmp_path / "sp.sqlite"
    s = run_batch(cls, "signal-propagation", db_path=db, opts=opts, workers=2, progress="quiet")
    assert (s.graded, s.failed, len(s.skipped)) == (5, 1, 1)
    with Gradebook.open(db) as gb:
        res = {r["student"]: r for r in gb.latest_results("signal-propagation")}
        score = {sid: gb.latest_row(sid, "signal-propagation")["score"] for sid in res}
        pages = gb.safe_names()
    assert sorted(res) == ["alice", "bob", "dave", "li wei", "li_wei"]
    assert score["alice"] == score["li_wei"] == top  # the right notebook, also from inside a zip
    assert score["bob"] == score["li wei"] == pytest.approx(bob.score) and bob.score < top
    assert all({"rlimits", "namespaces", "uid"} <= set(res[sid]["layers"]) for sid in ("alice", "bob", "li_wei"))
    assert "not valid JSON" in res["dave"]["error"]
    assert res["li_wei"]["path"] == str(cls / "li_wei.zip")
    assert len(set(pages.values())) == len(pages) == 5
    assert run_batch(cls, "signal-propagation", db_path=db, opts=opts, workers=2, progress="quiet").graded == 0

    s = run_batch(cls, "signal-propagation", db_path=db, opts=opts, workers=2, progress="quiet", regrade_item="D3")
    assert s.graded == 5
    with Gradebook.open(db) as gb:
        again = {r["student"]: r for r in gb.latest_results("signal-propagation")}
        for sid in res:  # the rubric did not change: the same points, now in a merged row
            assert [(i["item_id"], i["points"]) for i in again[sid]["items"]] == \
                [(i["item_id"], i["points"]) for i in res[sid]["items"]], sid
            assert gb.latest_row(sid, "signal-propagation")["score"] == pytest.approx(score[sid])
    assert rows_per_student(db) == {sid: 2 for sid in res}

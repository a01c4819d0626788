"""The gradebook: one SQLite file (WAL) holding every run, result and manual mark.

Each result is committed in its own transaction as soon as it is scored, so
``kill -9`` loses nothing committed. One batch at a time writes (an
``flock`` on ``<file>.lock``, released by the kernel if the process dies);
readers (exports, reports) never wait for it. The schema is versioned: an
older file is upgraded on open, a newer one is refused.
"""
from __future__ import annotations

import fcntl
import json
import math
import os
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

from grader.names import file_stem as safe_name


class GradebookError(ValueError):
    """A gradebook that cannot be used as asked (one clear sentence)."""


class GradebookBusy(GradebookError):
    """Another batch holds the gradebook's writer lock."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


# ----------------------------------------------------------------------------
# schema: one function per version step


def _script(db: sqlite3.Connection, sql: str):
    """Statements one by one (``executescript`` would commit the open transaction)."""
    for stmt in sql.split(";"):
        if stmt.strip():
            db.execute(stmt)


def _v1(db: sqlite3.Connection):
    _script(db, """
    CREATE TABLE students (id TEXT PRIMARY KEY, safe_name TEXT NOT NULL UNIQUE, name TEXT NOT NULL DEFAULT '',
                           first_seen TEXT NOT NULL);
    CREATE TABLE submissions (id INTEGER PRIMARY KEY, student_id TEXT NOT NULL REFERENCES students(id),
                              path TEXT NOT NULL, kind TEXT NOT NULL DEFAULT '', sha256 TEXT NOT NULL,
                              size INTEGER, mtime REAL, first_seen TEXT NOT NULL,
                              UNIQUE (student_id, path, sha256));
    CREATE TABLE runs (id INTEGER PRIMARY KEY, assignment TEXT NOT NULL, rubric_fingerprint TEXT NOT NULL,
                       grader_version TEXT NOT NULL, layers TEXT NOT NULL, options TEXT NOT NULL,
                       started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL);
    CREATE TABLE results (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),
                          student_id TEXT NOT NULL REFERENCES students(id), assignment TEXT NOT NULL,
                          sha256 TEXT NOT NULL, rubric_fingerprint TEXT NOT NULL, options_key TEXT NOT NULL,
                          score REAL NOT NULL, max_score REAL NOT NULL, error TEXT,
                          grader_failed INTEGER NOT NULL DEFAULT 0, result_json TEXT NOT NULL,
                          graded_at TEXT NOT NULL);
    CREATE INDEX results_student ON results (student_id, assignment, id);
    CREATE TABLE item_results (id INTEGER PRIMARY KEY, result_id INTEGER NOT NULL REFERENCES results(id),
                               item_id TEXT NOT NULL, points REAL, max_points REAL, status TEXT, message TEXT,
                               mistake TEXT, seconds REAL);
    CREATE INDEX item_results_result ON item_results (result_id);
    """)


def _v2(db: sqlite3.Connection):
    _script(db, """
    CREATE TABLE manual_marks (student_id TEXT NOT NULL REFERENCES students(id), assignment TEXT NOT NULL,
                               item_id TEXT NOT NULL, mark REAL NOT NULL, comment TEXT NOT NULL DEFAULT '',
                               who TEXT NOT NULL DEFAULT '', marked_at TEXT NOT NULL,
                               PRIMARY KEY (student_id, assignment, item_id));
    CREATE TABLE skipped (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), path TEXT NOT NULL,
                          student_id TEXT, category TEXT NOT NULL, reason TEXT NOT NULL);
    CREATE TABLE item_regrades (id INTEGER PRIMARY KEY, assignment TEXT NOT NULL, item_id TEXT NOT NULL,
                                before_result INTEGER NOT NULL, requested TEXT NOT NULL, finished TEXT);
    """)


MIGRATIONS = [_v1, _v2]
"""``MIGRATIONS[i]`` upgrades a file of version ``i`` to ``i + 1``."""
SCHEMA_VERSION = len(MIGRATIONS)


def _scores(result: dict) -> tuple[float, float]:
    items = [i for i in result.get("items", []) if i.get("status") != "manual"]
    return round(sum(float(i["points"]) for i in items), 6), float(sum(float(i["max_points"]) for i in items))


def merge_item(base: dict, new: dict, item_id: str) -> dict:
    """``base`` with item ``item_id`` taken from ``new`` (a grade of that item only)."""
    fresh = next((i for i in new["items"] if i["item_id"] == item_id), None)
    if fresh is None:
        raise GradebookError(f"the new result has no item {item_id!r}")
    items = [fresh if i["item_id"] == item_id else i for i in base["items"]]
    if not any(i["item_id"] == item_id for i in base["items"]):
        items.append(fresh)
    return {**base, "items": items, "key_version": new.get("key_version", base.get("key_version"))}


class Gradebook:
    """One gradebook file. Use :meth:`open`; also a context manager."""

    def __init__(self, path: Path, db: sqlite3.Connection):
        self.path = path
        self.db = db
        self._lock_fd: int | None = None

    # -- opening ---------------------------------------------------------------

    @classmethod
    def open(cls, path, *, create: bool = True) -> "Gradebook":
        path = Path(path)
        if not path.exists():
            if not create:
                raise GradebookError(f"no gradebook at {path}; `dlgrade grade DIR -a ASSIGNMENT --db {path}` "
                                     "creates it")
            if not path.parent.is_dir():
                raise GradebookError(f"cannot create the gradebook {path}: folder {path.parent} does not exist")
        try:
            db = sqlite3.connect(path, timeout=30, isolation_level=None)
            db.execute("PRAGMA busy_timeout = 30000")
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise GradebookError(f"{path} is not a dlgrade gradebook ({exc})") from None
        if mode.lower() != "wal":
            db.close()
            raise GradebookError(f"{path}: SQLite could not switch to WAL mode (got {mode!r})")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        db.row_factory = sqlite3.Row
        gb = cls(path, db)
        try:
            gb._migrate()
        except BaseException:
            db.close()
            raise
        return gb

    def _version(self) -> int:
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "schema_version" not in tables:
            if tables:
                raise GradebookError(f"{self.path} is an SQLite file but not a dlgrade gradebook "
                                     f"(tables: {', '.join(sorted(tables))})")
            return 0
        row = self.db.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self):
        self.db.execute("BEGIN IMMEDIATE")
        try:
            version = self._version()
            if version > SCHEMA_VERSION:
                raise GradebookError(f"{self.path} has gradebook schema version {version}, newer than this "
                                     f"dlgrade understands ({SCHEMA_VERSION}); upgrade dlgrade to use it")
            if version == 0:
                self.db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                self.db.execute("INSERT INTO schema_version VALUES (0)")
            for step in MIGRATIONS[version:]:
                step(self.db)
            if version < SCHEMA_VERSION:
                self.db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        return self._version()

    def close(self):
        self.release_writer()
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the writer lock -------------------------------------------------------

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def acquire_writer(self, wait_s: float = 0) -> None:
        """Take the exclusive batch lock, waiting up to ``wait_s`` seconds; raises :class:`GradebookBusy`."""
        if self._lock_fd is not None:
            return
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
                    os.close(fd)
                    raise GradebookBusy(f"gradebook {self.path} is in use by another `dlgrade grade` run ({holder}); "
                                        "wait for it to finish, or add --wait to queue behind it") from None
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {_now()}".encode(), 0)
        self._lock_fd = fd
        # any run still marked running was killed: nobody else can hold the lock
        self.db.execute("UPDATE runs SET status = 'killed' WHERE status = 'running'")

    def release_writer(self) -> None:
        if self._lock_fd is not None:
            os.ftruncate(self._lock_fd, 0)
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _need_writer(self):
        if self._lock_fd is None:
            raise GradebookError("this gradebook is open read-only; call acquire_writer() first")

    # -- runs and results ------------------------------------------------------

    def start_run(self, assignment, rubric_fingerprint, *, grader_version, layers, options: dict) -> int:
        self._need_writer()
        cur = self.db.execute(
            "INSERT INTO runs (assignment, rubric_fingerprint, grader_version, layers, options, started, status) "
            "VALUES (?, ?, ?, ?, ?, ?, 'running')",
            (assignment, rubric_fingerprint, grader_version, json.dumps(list(layers)),
             json.dumps(options, sort_keys=True, default=str), _now()))
        return int(cur.lastrowid)

    def finish_run(self, run_id, status="finished") -> None:
        self.db.execute("UPDATE runs SET finished = ?, status = ? WHERE id = ?", (_now(), status, run_id))

    def runs(self) -> list[dict]:
        return [dict(r) for r in self.db.execute("SELECT * FROM runs ORDER BY id")]

    def needs_grading(self, student_id, sha256, rubric_fingerprint, *, options_key: str = "",
                      assignment: str | None = None) -> bool:
        """False when the student's newest result is of this file, rubric and options (and no grader failure).

        Only the newest result counts: a student who goes back to an older file is graded again.
        """
        if assignment is None:
            r = self.db.execute("SELECT assignment FROM results WHERE rubric_fingerprint = ? LIMIT 1",
                                (rubric_fingerprint,)).fetchone()
            if r is None:
                return True
            assignment = r[0]
        row = self.latest_row(student_id, assignment)
        return not (row and row["sha256"] == sha256 and row["rubric_fingerprint"] == rubric_fingerprint
                    and row["options_key"] == options_key and not row["grader_failed"])

    def record(self, run_id, entry_meta: dict, result: dict) -> int:
        """Store one scored result (one transaction); returns its result id.

        ``entry_meta``: student_id, path, sha256, size, mtime (optional: kind, name, rubric_fingerprint,
        options_key, grader_failed). ``result["student"]`` is set to the entry's student id.
        """
        self._need_writer()

        sid = entry_meta["student_id"]
        result = {**result, "student": sid}
        score, max_score = _scores(result)
        fp = entry_meta.get("rubric_fingerprint") or result.get("key_version", "")
        now = _now()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("INSERT INTO students (id, safe_name, name, first_seen) VALUES (?, ?, ?, ?) "
                            "ON CONFLICT (id) DO UPDATE SET name = CASE WHEN excluded.name != '' THEN excluded.name "
                            "ELSE students.name END", (sid, safe_name(sid), entry_meta.get("name", ""), now))
            self.db.execute("INSERT OR IGNORE INTO submissions (student_id, path, kind, sha256, size, mtime, first_seen) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (sid, str(entry_meta["path"]), entry_meta.get("kind", ""), entry_meta["sha256"],
                             entry_meta.get("size"), entry_meta.get("mtime"), now))
            cur = self.db.execute(
                "INSERT INTO results (run_id, student_id, assignment, sha256, rubric_fingerprint, options_key, score, "
                "max_score, error, grader_failed, result_json, graded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, sid, result.get("assignment", ""), entry_meta["sha256"], fp,
                 entry_meta.get("options_key", ""), score, max_score, result.get("error"),
                 int(bool(entry_meta.get("grader_failed"))), json.dumps(result, default=str), now))
            rid = int(cur.lastrowid)
            self.db.executemany(
                "INSERT INTO item_results (result_id, item_id, points, max_points, status, message, mistake, seconds) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(rid, it["item_id"], it["points"], it["max_points"], it["status"], it["message"],
                  ";".join(c["mistake"] for c in it.get("checks", ()) if c.get("mistake")) or None,
                  round(sum(k.get("seconds", 0.0) for c in it.get("checks", ()) for k in c.get("cases", ())), 6))
                 for it in result.get("items", [])])
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return rid

    def record_skipped(self, run_id, rows) -> None:
        """The class folder's entries that were not graded (intake ``Skipped`` rows), for this run."""
        self._need_writer()
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany("INSERT INTO skipped (run_id, path, student_id, category, reason) VALUES (?, ?, ?, ?, ?)",
                            [(run_id, str(s.path), s.student_id, s.category, s.reason) for s in rows])
        self.db.execute("COMMIT")

    def skipped(self, run_id: int | None = None) -> list[dict]:
        """Skipped rows of ``run_id`` (default: the newest run)."""
        if run_id is None:
            row = self.db.execute("SELECT max(id) FROM runs").fetchone()
            run_id = row[0]
        return [dict(r) for r in self.db.execute("SELECT path, student_id, category, reason FROM skipped "
                                                 "WHERE run_id = ? ORDER BY path", (run_id,))]

    def _latest_rows(self, assignment=None):
        where, args = ("WHERE assignment = ?", (assignment,)) if assignment else ("", ())
        return self.db.execute(
            f"SELECT r.* FROM results r JOIN (SELECT max(id) AS id FROM results {where} "
            "GROUP BY student_id, assignment) m ON r.id = m.id ORDER BY r.student_id, r.assignment", args)

    def latest_results(self, assignment=None) -> list[dict]:
        """The newest result dict per student (per student and assignment if none given), sorted by student id."""
        return [json.loads(r["result_json"]) for r in self._latest_rows(assignment)]

    def latest_row(self, student_id, assignment) -> dict | None:
        """The newest results row of one student (columns plus ``result`` parsed), or None."""
        r = self.db.execute("SELECT * FROM results WHERE student_id = ? AND assignment = ? ORDER BY id DESC LIMIT 1",
                            (student_id, assignment)).fetchone()
        if r is None:
            return None
        return {**dict(r), "result": json.loads(r["result_json"])}

    def students(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM students ORDER BY id")]

    def safe_names(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self.db.execute("SELECT id, safe_name FROM students ORDER BY id")}

    # -- re-grading one item ---------------------------------------------------

    def invalidate_item(self, assignment, item_id) -> int:
        """Open (or resume) a re-grade of ``item_id`` for everybody; the number of students still to re-grade.

        A student is done once a result newer than the request is recorded
        (the merged re-grade, or a full grade of a new upload).
        """
        self._need_writer()
        row = self.db.execute("SELECT id FROM item_regrades WHERE assignment = ? AND item_id = ? AND finished IS NULL",
                              (assignment, item_id)).fetchone()
        if row is None:
            top = self.db.execute("SELECT coalesce(max(id), 0) FROM results").fetchone()[0]
            self.db.execute("INSERT INTO item_regrades (assignment, item_id, before_result, requested) "
                            "VALUES (?, ?, ?, ?)", (assignment, item_id, top, _now()))
        return len(self.pending_item_regrade(assignment, item_id))

    def pending_item_regrade(self, assignment, item_id) -> list[str]:
        """Students whose newest result predates the open re-grade of ``item_id``."""
        row = self.db.execute("SELECT before_result FROM item_regrades WHERE assignment = ? AND item_id = ? "
                              "AND finished IS NULL", (assignment, item_id)).fetchone()
        if row is None:
            return []
        return [r["student_id"] for r in self._latest_rows(assignment) if r["id"] <= row[0]]

    def finish_item_regrade(self, assignment, item_id) -> None:
        self.db.execute("UPDATE item_regrades SET finished = ? WHERE assignment = ? AND item_id = ? "
                        "AND finished IS NULL", (_now(), assignment, item_id))

    # -- manual marks ----------------------------------------------------------

    def set_manual_marks(self, marks: list[dict]) -> None:
        """Store marks (student_id, item_id, mark, comment, who; optional assignment); all or nothing.

        Raises :class:`GradebookError` naming the first bad mark (its index
        in ``marks``): unknown student, no such item in the student's result,
        a mark that is not a finite number or outside 0..max points.
        """
        rows = []
        for n, m in enumerate(marks):
            where = f"mark {n + 1} (student {m.get('student_id')!r}, item {m.get('item_id')!r})"
            sid, item = m.get("student_id"), m.get("item_id")
            if not sid or not item:
                raise GradebookError(f"{where}: student_id and item_id are required")
            assignment = m.get("assignment")
            q = "SELECT result_json, assignment FROM results WHERE student_id = ?" + \
                (" AND assignment = ?" if assignment else "") + " ORDER BY id DESC LIMIT 1"
            r = self.db.execute(q, (sid, assignment) if assignment else (sid,)).fetchone()
            if r is None:
                raise GradebookError(f"{where}: no such student in the gradebook")
            items = {i["item_id"]: i for i in json.loads(r["result_json"])["items"]}
            if item not in items:
                raise GradebookError(f"{where}: {r['assignment']} has no item {item!r} "
                                     f"(items: {', '.join(items)})")
            try:
                mark = float(m.get("mark"))
            except (TypeError, ValueError):
                raise GradebookError(f"{where}: mark {m.get('mark')!r} is not a number") from None
            top = float(items[item]["max_points"])
            if not math.isfinite(mark) or not 0 <= mark <= top:
                raise GradebookError(f"{where}: mark {mark:g} is outside 0..{top:g}")
            rows.append((sid, r["assignment"], item, mark, str(m.get("comment") or ""), str(m.get("who") or ""), _now()))
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(
                "INSERT INTO manual_marks (student_id, assignment, item_id, mark, comment, who, marked_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (student_id, assignment, item_id) DO UPDATE SET "
                "mark = excluded.mark, comment = excluded.comment, who = excluded.who, marked_at = excluded.marked_at",
                rows)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def manual_marks(self, assignment=None) -> dict[tuple[str, str], dict]:
        """(student_id, item_id) -> {student_id, assignment, item_id, mark, comment, who, marked_at}."""
        q = "SELECT * FROM manual_marks" + (" WHERE assignment = ?" if assignment else "") + \
            " ORDER BY student_id, item_id"
        return {(r["student_id"], r["item_id"]): dict(r) for r in self.db.execute(q, (assignment,) if assignment else ())}

"""What is in a class folder: one row per entry, graded or skipped with a reason.

An entry is a notebook, a module, a per-student folder or a ``.zip``. The
student id comes from the name (``--id-from name|moodle|canvas`` or a regex
with a named group ``id``); a re-upload (two entries of one id) grades the
newest by mtime and lists the other. Nothing outside the class folder is
read: symlinks leading out, hardlinks to files others cannot read, FIFOs
and devices are refused, and sizes are capped before reading.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.batch import zips
from grader.model import plain_text
from grader.names import file_stem

MAX_FILE_BYTES = 50 * 2**20
MAX_FOLDER_BYTES = 100 * 2**20
MAX_FOLDER_FILES = 500
CODE_SUFFIXES = (".ipynb", ".py")

PRESETS = {
    "moodle": (r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_[a-z]+_?",
               "Moodle names (Lastname Firstname_12345_assignsubmission_file_...)"),
    "canvas": (r"^(?P<name>[^_]+?)(?:_LATE)?_(?P<id>\d+)_(?P<submission>\d+)_",
               "Canvas names (lastnamefirstname_12345_67890_... or lastnamefirstname_LATE_12345_67890_...)"),
}
ID_FROM = ("name", *PRESETS)



class IntakeError(ValueError):
    """The class folder or the id options cannot be used at all (one clear sentence)."""


class Refused(ValueError):
    """One entry that is not read; the message is the reason."""


@dataclass(frozen=True)
class Payload:
    """The bytes graded for one entry, as they travel to a worker."""

    kind: str
    name: str
    files: dict[str, bytes]
    """Relative path -> bytes (one file for a notebook or module)."""
    sha256: str
    size: int
    mtimes: dict[str, float] = field(default_factory=dict)
    """Relative path -> modification time (a folder's files), kept by :func:`materialise`: of several versions of
    a notebook the newest is graded (:func:`grader.pipeline.load.choose_files`)."""


@dataclass(frozen=True)
class Entry:
    student_id: str
    path: Path
    """The entry in the class folder (file, folder or zip)."""
    kind: str
    """``notebook``, ``module``, ``folder`` or ``zip``."""
    size: int
    mtime: float
    sha256: str
    name: str = ""
    """The student's name when the naming scheme has one (Moodle, Canvas)."""

    def meta(self) -> dict:
        return {"student_id": self.student_id, "path": str(self.path), "kind": self.kind, "sha256": self.sha256,
                "size": self.size, "mtime": self.mtime}


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str
    student_id: str | None = None
    category: str = "other"
    """``not_submission``, ``hidden``, ``no_id``, ``refused``, ``unreadable`` or ``older_upload``."""


@dataclass
class Intake:
    root: Path
    entries: list[Entry] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def reuploads(self) -> list[Skipped]:
        return [s for s in self.skipped if s.category == "older_upload"]

    def entry(self, student_id: str) -> Entry:
        return next(e for e in self.entries if e.student_id == student_id)


def safe_name(student_id: str) -> str:
    """The one file name of ``student_id`` (:func:`grader.names.file_stem`: injective, case-safe, no reserved names)."""
    return file_stem(student_id)


def _id_matcher(id_pattern: str | None, id_from: str):
    if id_pattern:
        try:
            rx = re.compile(id_pattern)
        except re.error as exc:
            raise IntakeError(f"--id-pattern {id_pattern!r} is not a valid regular expression: {exc}") from None
        if "id" not in rx.groupindex:
            raise IntakeError(f"--id-pattern {id_pattern!r} needs a named group (?P<id>...) for the student id")
        return rx, f"--id-pattern {id_pattern}"
    if id_from == "name":
        return None, "name"
    if id_from not in PRESETS:
        raise IntakeError(f"--id-from {id_from!r} is not known (one of: {', '.join(ID_FROM)})")
    return re.compile(PRESETS[id_from][0]), PRESETS[id_from][1]


def _kind(p: Path, is_dir: bool) -> str | None:
    if is_dir:
        return "folder"
    return {".ipynb": "notebook", ".py": "module", ".zip": "zip"}.get(p.suffix.lower())


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _size(n: float) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 1024:.1f} kB"


def _check_file(st: os.stat_result, name: str, limit: int):
    if not stat.S_ISREG(st.st_mode):
        raise Refused(f"{name} is not a regular file (FIFO, device or socket): refused")
    if st.st_nlink > 1:  # a second name of some other file (the reference module, a root-only file...)
        raise Refused(f"{name} is a hardlink ({st.st_nlink} links to one file): refused; submit a copy of the file")
    if st.st_size > limit:
        raise Refused(f"{name} is {_size(st.st_size)} (limit {_size(limit)}); not read")


def _read_file(path: str, name: str, limit: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        _check_file(os.fstat(f.fileno()), name, limit)
        data = f.read(limit + 1)
    if len(data) > limit:
        raise Refused(f"{name} grew past {_size(limit)} while being read; not read")
    return data


def _walk_folder(folder: str, root: str, *, max_bytes: int, max_files: int, limit: int,
                 mtimes: dict[str, float] | None = None) -> dict[str, bytes]:
    """The ``.ipynb``/``.py`` files of a student folder (relative path -> bytes), checked like top-level files;
    their modification times go into ``mtimes``."""
    files: dict[str, bytes] = {}
    total = count = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in ("__pycache__", "__MACOSX"))
        for d in list(dirnames):
            full = os.path.join(dirpath, d)
            if os.path.islink(full):
                if not _inside(os.path.realpath(full), root):
                    raise Refused(f"{os.path.relpath(full, root)}: symlink pointing outside the class folder: refused")
                dirnames.remove(d)  # never walked twice through a link
        for fn in sorted(filenames):
            count += 1
            if count > max_files:
                raise Refused(f"folder holds more than {max_files} files: refused")
            full = os.path.join(dirpath, fn)
            rel = os.path.relpath(full, folder)
            if os.path.islink(full):
                real = os.path.realpath(full)
                if not _inside(real, root):
                    raise Refused(f"{os.path.relpath(full, root)}: symlink pointing outside the class folder: refused")
                full = real
            if fn.startswith(".") or not fn.lower().endswith(CODE_SUFFIXES):
                continue
            data = _read_file(full, os.path.relpath(os.path.join(dirpath, fn), root), limit)
            total += len(data)
            if total > max_bytes:
                raise Refused(f"folder holds more than {_size(max_bytes)} of notebooks and modules: refused")
            key = PurePosixPath(*Path(rel).parts).as_posix()
            files[key] = data
            if mtimes is not None:
                try:
                    mtimes[key] = os.stat(full).st_mtime
                except OSError:
                    pass
    return files


def _digest(kind: str, files: dict[str, bytes]) -> str:
    if kind in ("notebook", "module"):
        return hashlib.sha256(next(iter(files.values()))).hexdigest()
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(f"{rel}\0{hashlib.sha256(files[rel]).hexdigest()}\n".encode())
    return h.hexdigest()


def read_payload(path: str | Path, kind: str, root: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> Payload:
    """Read the bytes to grade for one entry (again at dispatch time); raises :class:`Refused`."""
    path, root = str(path), os.path.realpath(root)
    name = os.path.basename(path)
    real = os.path.realpath(path)
    if not _inside(real, root):
        raise Refused(f"{name}: symlink pointing outside the class folder: refused")
    mtimes: dict[str, float] = {}
    try:
        if kind in ("notebook", "module"):
            files = {name: _read_file(real, name, max_bytes)}
        elif kind == "folder":
            files = _walk_folder(real, root, max_bytes=MAX_FOLDER_BYTES, max_files=MAX_FOLDER_FILES, limit=max_bytes,
                                 mtimes=mtimes)
        elif kind == "zip":
            _check_file(os.stat(real), name, max_bytes)
            with tempfile.TemporaryDirectory(prefix="dlgrade-zip-") as tmp:
                try:
                    zips.extract(real, tmp)
                except zips.ZipRefused as exc:
                    raise Refused(f"{name}: {exc}") from None
                files = _walk_folder(tmp, os.path.realpath(tmp), max_bytes=zips.MAX_BYTES,
                                     max_files=zips.MAX_FILES, limit=max_bytes, mtimes=mtimes)
        else:
            raise Refused(f"{name}: not graded: not a notebook or module")
    except OSError as exc:
        raise Refused(f"{name} could not be read ({exc.strerror or exc})") from None
    return Payload(kind, name, files, _digest(kind, files), sum(len(b) for b in files.values()), mtimes)


def materialise(payload: Payload, dest: str | Path) -> Path:
    """Write ``payload`` under the folder ``dest``; the path to grade."""
    dest = Path(dest)
    top = dest / payload.name
    if payload.kind in ("notebook", "module"):
        top.write_bytes(next(iter(payload.files.values())))
        return top
    top.mkdir()
    for rel, data in payload.files.items():
        parts = PurePosixPath(rel).parts
        if not parts or ".." in parts or PurePosixPath(rel).is_absolute():
            raise ValueError(f"bad relative path in payload: {rel!r}")
        target = top.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if rel in payload.mtimes:
            os.utime(target, (payload.mtimes[rel], payload.mtimes[rel]))
    return top


def discover(class_dir: str | Path, *, id_pattern: str | None = None, id_from: str = "name",
             max_bytes: int = MAX_FILE_BYTES) -> Intake:
    """Every entry of ``class_dir``: an :class:`Entry` to grade or a :class:`Skipped` with the reason."""
    class_dir = Path(class_dir)
    if not class_dir.is_dir():
        raise IntakeError(f"{class_dir} is not a folder of submissions")
    rx, scheme = _id_matcher(id_pattern, id_from)
    root = os.path.realpath(class_dir)
    intake = Intake(class_dir)
    found: dict[str, list[Entry]] = {}
    try:
        children = sorted(os.scandir(class_dir), key=lambda d: d.name)
    except OSError as exc:
        raise IntakeError(f"{class_dir} cannot be listed ({exc.strerror or exc})") from None
    for d in children:
        p = class_dir / d.name
        if d.name.startswith((".", "~$")) or d.name in ("__MACOSX", "__pycache__", "Thumbs.db", "desktop.ini"):
            intake.skipped.append(Skipped(p, "not graded: hidden or system file", category="hidden"))
            continue
        try:
            if d.is_symlink():
                real = os.path.realpath(p)
                if not _inside(real, root):
                    intake.skipped.append(Skipped(p, "symlink pointing outside the class folder: refused",
                                                  category="refused"))
                    continue
                if not os.path.exists(real):
                    intake.skipped.append(Skipped(p, "broken symlink: not graded", category="unreadable"))
                    continue
            st = os.stat(p)
        except OSError as exc:
            intake.skipped.append(Skipped(p, f"could not be read ({exc.strerror or exc})", category="unreadable"))
            continue
        kind = _kind(p, stat.S_ISDIR(st.st_mode))
        if kind is None:
            intake.skipped.append(Skipped(p, "not graded: not a notebook or module", category="not_submission"))
            continue
        label = d.name if kind in ("folder",) else p.stem
        if rx is None:
            sid, display = label, ""
        else:
            m = rx.search(d.name)
            if not m or not m.group("id"):
                intake.skipped.append(Skipped(p, f"not graded: the name does not match {scheme}", category="no_id"))
                continue
            sid = m.group("id")
            display = m.groupdict().get("name") or ""
        sid = plain_text(sid).strip() or "student"  # a file name's control characters never reach a terminal
        try:
            payload = read_payload(p, kind, root, max_bytes=max_bytes)
        except Refused as exc:
            intake.skipped.append(Skipped(p, str(exc), sid, category="refused"))
            continue
        mtime = st.st_mtime
        if kind == "folder":
            for rel in payload.files:
                try:
                    mtime = max(mtime, os.stat(os.path.join(p, rel)).st_mtime)
                except OSError:
                    pass
        found.setdefault(sid, []).append(Entry(sid, p, kind, payload.size, mtime, payload.sha256, display))
    for sid, group in found.items():
        group.sort(key=lambda e: (e.mtime, e.path.name))
        newest = group[-1]
        intake.entries.append(newest)
        for old in group[:-1]:
            intake.skipped.append(Skipped(old.path, f"older upload of {sid} (newest graded: {newest.path.name})",
                                          sid, category="older_upload"))
    intake.entries.sort(key=lambda e: e.student_id)
    intake.skipped.sort(key=lambda s: s.path.name)
    return intake

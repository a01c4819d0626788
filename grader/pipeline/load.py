"""Find and read submissions: ``.ipynb`` notebooks, ``.py`` modules, per-student folders.

Reading never runs anything. A file that cannot be read becomes a
:class:`SubmissionError` with a sentence a student understands; the batch
grader turns it into a zero-score result and goes on.

Reading is safe against what a stranger can put in a folder: a symlink is
followed only to a file inside the same submission, a hardlinked file (a link
to something else on the machine) is refused, FIFOs and devices are refused
without being opened for reading, and the size is checked (``fstat``) before a
byte is read.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

SUFFIXES = (".ipynb", ".py")
MAX_BYTES = 50 * 2**20


class SubmissionError(ValueError):
    """A submission that cannot be read (corrupt, empty, a folder with nothing to grade...)."""


@dataclass(frozen=True)
class Cell:
    index: int
    """Position in the notebook (0-based, all cells)."""
    kind: str
    """``code`` or ``markdown``."""
    source: str
    item: str | None = None
    """Item id from the cell's ``dlgrade`` metadata (answer cells of manual items)."""
    origin: str | None = None
    """The file the cell came from, when a submission is a folder of several notebooks."""


@dataclass(frozen=True)
class Submission:
    path: Path
    student: str
    kind: str
    """``notebook`` or ``module``."""
    cells: tuple[Cell, ...]
    sha256: str
    answers: dict[str, str] = field(default_factory=dict)
    """Manual items' answer cells, by item id."""
    images: tuple[tuple[int, str], ...] = ()
    """(cell index, base64 PNG) of the figures saved in the notebook's outputs (for the report)."""
    files: tuple[str, ...] = ()
    """The files read, relative to the submission (a folder's chosen notebooks, in the order read)."""
    ignored: tuple[tuple[str, str], ...] = ()
    """Files of a folder that were not read, with the reason (drafts, older versions: :func:`choose_files`)."""
    assignment: str | None = None
    """The assignment the notebook's ``dlgrade`` metadata names (the skeleton writes it), if any."""

    def code_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "code"]


def student_id(path: Path) -> str:
    """The student's id: the file's stem, or the folder's name for ``folder/notebook.ipynb``."""
    return path.stem if path.is_file() or path.suffix in SUFFIXES else path.name


MAX_PARTS = 10

# ----------------------------------------------------------------------------
# several notebooks in one folder: parts, versions and drafts

_DRAFT = re.compile(r"(draft|drafts|old|older|backup|bak|copy|tmp|temp|scratch|unused|checkpoint|orig)\d*")
_VERSION = re.compile(r"(?:v|ver|version|rev)(\d+)")
_COPY_OF = re.compile(r"^copy of\s+")
_DOWNLOAD_COPY = re.compile(r"\s*\(\d+\)$")  # "hw (1)": a second download of the same file


@dataclass(frozen=True)
class NameParts:
    """What a file name says about itself: see :func:`choose_files`."""

    base: str
    """The name without its version, draft and copy marks (lower case, letters and digits)."""
    draft: bool
    """Named like a draft, an old version, a backup or a copy."""
    final: bool
    version: int
    """``v2`` -> 2; 0 without a version mark."""


def name_parts(filename: str) -> NameParts:
    stem = Path(filename).stem.lower().strip()
    draft = stem.endswith("~") or bool(_COPY_OF.match(stem)) or bool(_DOWNLOAD_COPY.search(stem))
    stem = _DOWNLOAD_COPY.sub("", _COPY_OF.sub("", stem.rstrip("~")))
    base, final, version = [], False, 0
    for tok in re.findall(r"[a-z]+\d*|\d+", stem):
        if _DRAFT.fullmatch(tok):
            draft = True
        elif tok == "final":
            final = True
        elif m := _VERSION.fullmatch(tok):
            version = max(version, int(m.group(1)))
        else:
            base.append(tok)
    return NameParts("".join(base), draft, final, version)


@dataclass(frozen=True)
class Choice:
    files: tuple[Path, ...]
    """What to read, in order."""
    ignored: tuple[tuple[Path, str], ...] = ()
    """What not to read, and why (one sentence each, naming the file graded instead)."""


def _named_like(parts: NameParts, prefer) -> bool:
    return any(p and p in parts.base for p in (re.sub(r"[^a-z0-9]", "", x.lower()) for x in prefer))


def choose_files(paths: list[Path], *, prefer: tuple[str, ...] = (), mtime=None) -> Choice:
    """Which of a folder's notebooks (or modules) make up the submission.

    A folder may hold the parts of one submission (``tutorial1.ipynb``,
    ``tutorial2.ipynb``: all are read) next to drafts and older versions of
    them (not read). The rule:

    1. A name that looks like a draft, an old version, a backup or a copy
       (the words draft, old, backup, bak, copy, tmp, temp, scratch, unused,
       checkpoint, orig; ``Copy of ...``; ``... (1)``; a trailing ``~``) is not
       read while some other file does not look like one.
    2. Files whose names are the same once the marks ``v2``, ``final`` and those
       of 1 are taken out (``hw_v1``, ``hw_v2``, ``hw_final``, ``hw (1)``) are
       versions of one file: one is read, the first by these, in order: not
       named like a draft; marked ``final``; the highest ``vN``; the most
       recently modified (within the submission); a tie is said so in the reason.
    3. The files left are parts, read in name order, except that a part named
       like the assignment (``prefer``, e.g. ``signal-propagation.ipynb`` or
       ``hw3_signal_propagation.ipynb``) is read last, so its definitions win
       over the same names in other parts (the grader warns about each such
       name).

    ``mtime(path)`` defaults to the file's modification time.
    """
    if mtime is None:
        def mtime(p):
            try:
                return os.stat(p).st_mtime
            except OSError:
                return 0.0
    info = {p: name_parts(p.name) for p in paths}
    ignored: list[tuple[Path, str]] = []
    if any(not i.draft for i in info.values()):
        keep = [p for p in paths if not info[p].draft]
        drafts = [p for p in paths if info[p].draft]
    else:
        keep, drafts = list(paths), []
    groups: dict[str, list[Path]] = {}
    for p in keep:
        groups.setdefault(info[p].base, []).append(p)
    chosen = []
    for members in groups.values():
        rank = {p: (info[p].final, info[p].version, round(mtime(p)), p.name) for p in members}
        ordered = sorted(members, key=lambda p: rank[p], reverse=True)
        best = ordered[0]
        chosen.append(best)
        for other in ordered[1:]:
            a, b = rank[best], rank[other]
            if a[0] != b[0]:
                why = f"{best.name} is marked final"
            elif a[1] != b[1]:
                why = f"{best.name} has the higher version number"
            elif a[2] != b[2]:
                why = f"{best.name} is newer"
            else:
                why = f"a tie: both have the same time, so the last by name, {best.name}, was graded; check it is the one"
            ignored.append((other, f"{other.name}: another version of {best.name}, not graded ({why})"))
    chosen.sort(key=lambda p: (_named_like(info[p], prefer), str(p)))
    names = ", ".join(p.name for p in chosen)
    for p in drafts:
        ignored.append((p, f"{p.name}: named like a draft, backup or copy, not graded (graded: {names})"))
    ignored.sort(key=lambda x: str(x[0]))
    return Choice(tuple(chosen), tuple(ignored))


def resolve(path: Path, *, prefer: tuple[str, ...] = ()) -> Choice:
    """The file(s) to grade for ``path``: the file itself, or the notebooks of a folder.

    A folder may hold several notebooks (e.g. a course's Tutorials 1-3): they
    are read as one submission, drafts and older versions left out
    (:func:`choose_files`). ``.py`` files count only when the folder has no
    notebook. Symlinks are not followed while walking.
    """
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        found = []
        for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d != ".ipynb_checkpoints" and not d.startswith("."))
            found += [Path(dirpath, f) for f in filenames if Path(f).suffix in SUFFIXES and not f.startswith(".")]
            if len(found) > 10 * MAX_PARTS:
                break
        found.sort()
        notebooks = [p for p in found if p.suffix == ".ipynb"] or found
        if not notebooks:
            raise SubmissionError(f"{path} is a folder with no .ipynb or .py file in it")
        choice = choose_files(notebooks, prefer=prefer)
        if len(choice.files) > MAX_PARTS:
            raise SubmissionError(f"{path} holds {len(choice.files)} notebooks; at most {MAX_PARTS} are read")
        return choice
    if not os.path.lexists(path):
        raise SubmissionError(f"{path} does not exist")
    return Choice((path,))


def read_bytes_safely(path: Path, root: Path, max_bytes: int = None) -> bytes:
    """The bytes of the regular file ``path``, refusing links out of ``root``, hardlinks, FIFOs and devices."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    name = path.name
    target = path
    if path.is_symlink():
        real, base = Path(os.path.realpath(path)), Path(os.path.realpath(root))
        if base != real and base not in real.parents:
            raise SubmissionError(f"{name} is a symlink to a file outside the submission: refused")
        target = real
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise SubmissionError(f"{name} cannot be read ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SubmissionError(f"{name} is not a regular file (a FIFO, device or socket): refused")
        if st.st_nlink > 1:
            raise SubmissionError(f"{name} is a hardlink ({st.st_nlink} links to one file): refused; "
                                  "submit a copy of the file")
        if st.st_size > max_bytes:
            raise SubmissionError(f"{name} is {st.st_size / 2**20:.0f} MB; clear the outputs and submit again "
                                  f"(limit {max_bytes // 2**20} MB)")
        with os.fdopen(fd, "rb", closefd=True) as f:
            fd = -1
            data = f.read(max_bytes + 1)
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > max_bytes:
        raise SubmissionError(f"{name} is larger than {max_bytes // 2**20} MB; clear the outputs and submit again")
    return data


def read_submission(path: str | Path, *, prefer: tuple[str, ...] = ()) -> Submission:
    """Read one submission; raises :class:`SubmissionError` with the reason.

    ``prefer``: the assignment's name, so that of a folder's notebooks the one
    named like it wins (:func:`choose_files`).
    """
    given = Path(path)
    choice = resolve(given, prefer=prefer)
    parts = list(choice.files)
    root = given if given.is_dir() and not given.is_symlink() else given.parent
    rel = tuple(os.path.relpath(p, root) for p in parts)
    ignored = tuple((os.path.relpath(p, root), why) for p, why in choice.ignored)
    if len(parts) == 1:
        sub = _read_file(parts[0], root)
        return Submission(sub.path, given.name if given.is_dir() else sub.student, sub.kind, sub.cells, sub.sha256,
                          sub.answers, sub.images, rel, ignored, sub.assignment)
    subs = [_read_file(p, root) for p in parts]
    cells = tuple(Cell(c.index, c.kind, c.source, c.item, f"{s.path.name}") for s in subs for c in s.cells)
    answers: dict[str, str] = {}
    for s in subs:
        for k, v in s.answers.items():
            answers[k] = (answers.get(k, "") + "\n\n" + v).strip()
    digest = hashlib.sha256("".join(s.sha256 for s in subs).encode()).hexdigest()
    return Submission(given, given.name, "notebook" if all(s.kind == "notebook" for s in subs) else "module",
                      cells, digest, answers, tuple(i for s in subs for i in s.images), rel, ignored,
                      next((s.assignment for s in subs if s.assignment), None))


def _read_file(path: Path, root: Path) -> Submission:
    data = read_bytes_safely(path, root)
    if not data.strip():
        raise SubmissionError(f"{path.name} is empty")
    digest = hashlib.sha256(data).hexdigest()
    sid = student_id(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionError(f"{path.name} is not UTF-8 text") from None
    if path.suffix == ".py":
        return Submission(path, sid, "module", (Cell(0, "code", text),), digest)
    if path.suffix != ".ipynb":
        raise SubmissionError(f"{path.name}: expected a .ipynb notebook or a .py module")
    nb = _read_notebook(text, path.name)
    cells, answers = [], {}
    for i, c in enumerate(nb.cells):
        src = c.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        meta = c.get("metadata", {}) or {}
        item = (meta.get("dlgrade") or {}).get("item") if isinstance(meta.get("dlgrade"), dict) else None
        item = item if isinstance(item, str) and item else None  # odd metadata types are ignored
        kind = c.get("cell_type", "raw")
        if kind not in ("code", "markdown"):
            continue
        cells.append(Cell(i, kind, src, item))
        if item:
            answers[item] = (answers.get(item, "") + "\n\n" + src).strip()
    meta = nb.get("metadata", {}).get("dlgrade") if isinstance(nb.get("metadata"), dict) else None
    declared = meta.get("assignment") if isinstance(meta, dict) else None
    return Submission(path, sid, "notebook", tuple(cells), digest, answers, _images(nb),
                      assignment=declared if isinstance(declared, str) and declared else None)


def _images(nb, limit: int = 12, max_chars: int = 2_000_000) -> tuple[tuple[int, str], ...]:
    """PNG figures the student saved in the notebook's outputs (never re-executed)."""
    out = []
    for i, c in enumerate(nb.cells):
        for o in c.get("outputs", []) if c.get("cell_type") == "code" else []:
            png = (o.get("data") or {}).get("image/png") if isinstance(o, dict) else None
            if isinstance(png, list):
                png = "".join(png)
            if isinstance(png, str) and len(png) < max_chars:
                out.append((i, png.replace("\n", "")))
            if len(out) >= limit:
                return tuple(out)
    return tuple(out)


def _read_notebook(text: str, name: str):
    try:
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    except nbformat.reader.NotJSONError:
        raise SubmissionError(f"{name} is not a notebook: the file is not valid JSON "
                              "(was it saved completely? re-download it from Jupyter with File > Download)") from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises several unrelated types
        raise SubmissionError(f"{name} could not be read as a notebook: {exc}") from None
    major = nb.get("nbformat")
    if major not in (3, 4):
        raise SubmissionError(f"{name} has nbformat version {major!r}; only versions 3 and 4 are supported")
    try:
        nb = nbformat.convert(nb, 4) if major == 3 else nb
    except Exception as exc:  # noqa: BLE001
        raise SubmissionError(f"{name}: nbformat {major} notebook could not be converted: {exc}") from None
    if not isinstance(nb.get("cells"), list):
        raise SubmissionError(f"{name} has no list of cells")
    return nb

"""Find and read submissions: ``.ipynb`` notebooks, ``.py`` modules, per-student folders.

Reading never runs anything. A file that cannot be read becomes a
:class:`SubmissionError` with a sentence a student understands; the batch
grader turns it into a zero-score result and goes on.
"""
from __future__ import annotations

import hashlib
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

    def code_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.kind == "code"]


def student_id(path: Path) -> str:
    """The student's id: the file's stem, or the folder's name for ``folder/notebook.ipynb``."""
    return path.stem if path.is_file() or path.suffix in SUFFIXES else path.name


MAX_PARTS = 10


def resolve(path: Path) -> list[Path]:
    """The file(s) to grade for ``path``: the file itself, or the notebooks of a folder.

    A folder may hold several notebooks (e.g. a course's Tutorials 1-3): they
    are read in name order as one submission. ``.py`` files count only when
    the folder has no notebook.
    """
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()
                       and ".ipynb_checkpoints" not in p.parts and not p.name.startswith("."))
        notebooks = [p for p in found if p.suffix == ".ipynb"] or found
        if not notebooks:
            raise SubmissionError(f"{path} is a folder with no .ipynb or .py file in it")
        if len(notebooks) > MAX_PARTS:
            raise SubmissionError(f"{path} holds {len(notebooks)} notebooks; at most {MAX_PARTS} are read")
        return notebooks
    if not path.exists():
        raise SubmissionError(f"{path} does not exist")
    return [path]


def read_submission(path: str | Path) -> Submission:
    """Read one submission; raises :class:`SubmissionError` with the reason."""
    given = Path(path)
    parts = resolve(given)
    if len(parts) == 1:
        sub = _read_file(parts[0])
        return Submission(sub.path, given.name, sub.kind, sub.cells, sub.sha256, sub.answers, sub.images) \
            if given.is_dir() else sub
    subs = [_read_file(p) for p in parts]
    cells = tuple(Cell(c.index, c.kind, c.source, c.item, f"{s.path.name}") for s in subs for c in s.cells)
    answers: dict[str, str] = {}
    for s in subs:
        for k, v in s.answers.items():
            answers[k] = (answers.get(k, "") + "\n\n" + v).strip()
    digest = hashlib.sha256("".join(s.sha256 for s in subs).encode()).hexdigest()
    return Submission(given, given.name, "notebook" if all(s.kind == "notebook" for s in subs) else "module",
                      cells, digest, answers, tuple(i for s in subs for i in s.images))


def _read_file(path: Path) -> Submission:
    data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise SubmissionError(f"{path.name} is {len(data) / 2**20:.0f} MB; clear the outputs and submit again "
                              f"(limit {MAX_BYTES // 2**20} MB)")
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
        kind = c.get("cell_type", "raw")
        if kind not in ("code", "markdown"):
            continue
        cells.append(Cell(i, kind, src, item))
        if item:
            answers[item] = (answers.get(item, "") + "\n\n" + src).strip()
    return Submission(path, sid, "notebook", tuple(cells), digest, answers, _images(nb))


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


def find_submissions(directory: str | Path) -> list[Path]:
    """Submissions in a class folder: each ``.ipynb``/``.py`` file and each sub-folder."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SubmissionError(f"{directory} is not a folder of submissions")
    out = []
    for p in sorted(directory.iterdir()):
        if p.name.startswith((".", "_")) or p.name == "__pycache__":
            continue
        if p.is_dir() or p.suffix in SUFFIXES or p.stat().st_size == 0:
            out.append(p)
    return out

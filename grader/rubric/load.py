"""Loading rubrics: YAML -> :class:`~grader.rubric.schema.Rubric`.

Where a course lives (``course_dir``, ``rubric_dir``, ...) is :mod:`grader.locations`, re-exported here.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from grader.locations import REPO_ROOT, course_dir, examples_dir, rubric_dir, skeleton_dir  # noqa: F401 - re-exported
from grader.rubric.bands import YAML_LOADER, bands_path, merge_bands
from grader.rubric.errors import RubricError
from grader.rubric.schema import Rubric


def load_rubric(path: str | Path) -> Rubric:
    """Read and validate one rubric file; errors name the file, the item and the field."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(), Loader=YAML_LOADER)
    except yaml.YAMLError as exc:
        raise RubricError(f"{path}: not valid YAML: {exc}") from None
    except OSError as exc:
        raise RubricError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(raw, dict):
        raise RubricError(f"{path}: expected a mapping at the top level")
    merge_bands(raw, bands_path(path))
    try:
        rubric = Rubric.model_validate(raw)
    except ValidationError as exc:
        raise RubricError(_explain(path, raw, exc)) from None
    return rubric.model_copy(update={"path": path})


def _explain(path: Path, raw: dict, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            items = raw.get("items") or []
            known = loc[1] < len(items) and isinstance(items[loc[1]], dict)
            item_id = items[loc[1]].get("id", f"#{loc[1]}") if known else f"#{loc[1]}"
            where = f"item {item_id}, "
            loc = loc[2:]
        internal = ("function-", "literal", "ValueExpected", "BandExpected")  # pydantic's union branch names
        field = ".".join(str(p) for p in loc if not (isinstance(p, str) and p.startswith(internal))) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if msg.startswith("[") and "]" in msg:  # a parameter of a comparator/transform
            sub, msg = msg[1:].split("] ", 1)
            field = f"{field}.{sub}"
        got = err.get("input")
        got_s = "" if isinstance(got, (dict, list)) or "got " in msg else f" (got {repr(got)[:60]})"
        lines.append(f"{path}, {where}field {field}: {msg}{got_s}; fix it and run `dlgrade validate`.")
    return "\n".join(dict.fromkeys(lines))


@lru_cache(maxsize=None)
def _load_cached(path: str, mtime: float) -> Rubric:
    return load_rubric(path)


def load_rubric_cached(path: str | Path) -> Rubric:
    """:func:`load_rubric`, parsed once per process while the file (and its bands) is unchanged."""
    path = Path(path)
    bands = bands_path(path)
    return _load_cached(str(path), path.stat().st_mtime + (bands.stat().st_mtime if bands.exists() else 0))


def rubric_paths(directory: Path | None = None) -> list[Path]:
    directory = directory or rubric_dir()
    return sorted(p for p in directory.glob("*.yaml") if not p.name.endswith(".bands.yaml"))


def get_rubric(assignment: str, directory: Path | None = None) -> Rubric:
    """The rubric of ``assignment`` (by name), with a helpful error if unknown."""
    directory = directory or rubric_dir()
    path = directory / f"{assignment}.yaml"
    if not path.exists():
        known = ", ".join(p.stem for p in rubric_paths(directory)) or "none"
        raise RubricError(f"no rubric for assignment {assignment!r} in {directory} (known: {known}); "
                          "run `dlgrade list` to see the assignments")
    bands = bands_path(path)
    return _load_cached(str(path), path.stat().st_mtime + (bands.stat().st_mtime if bands.exists() else 0))

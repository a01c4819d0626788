"""Where a course lives: its rubrics, skeletons, examples and data files (standard library only).

A *course directory* holds ``rubrics/``, ``skeletons/`` and ``examples/``. It is
``--course DIR`` (the CLI sets ``DLGRADE_COURSE``), else ``$DLGRADE_COURSE``,
else the course shipped inside the package (``grader/course/``: in a checkout
that is the repository itself, through the links the build makes). Nothing
here imports a third-party package, so the command line can find a rubric
before the grader's own imports (see :mod:`grader.batch.prestart`).
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def course_dir() -> Path:
    """The course directory: ``$DLGRADE_COURSE``, else the packaged or checked-out course."""
    env = os.environ.get("DLGRADE_COURSE")
    if env:
        return Path(env).expanduser().resolve()
    packaged = Path(__file__).resolve().parent / "course"
    if (packaged / "rubrics").is_dir():
        return packaged
    return REPO_ROOT


def rubric_dir() -> Path:
    return course_dir() / "rubrics"


def skeleton_dir() -> Path:
    return course_dir() / "skeletons"


def examples_dir() -> Path:
    return course_dir() / "examples"


def data_dir() -> Path:
    """The course's data files (``reference/data``), also the trusted runs' working directory.

    Found without importing ``reference`` (the student's bundle has none; asking costs nothing).
    """
    spec = importlib.util.find_spec("reference")
    if spec is None:
        raise ModuleNotFoundError("the reference package is not installed here (the TA's side has it)")
    where = spec.origin if spec.origin and spec.origin != "namespace" else list(spec.submodule_search_locations)[0]
    base = Path(where)
    return (base.parent if base.suffix == ".py" else base).resolve() / "data"

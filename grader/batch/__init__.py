"""Batch grading of a class folder into a resumable SQLite gradebook (local processes or Dask).

The CLI's entry points: :func:`add_grade_arguments` (the flags) and
:func:`run_from_args` / :func:`run_batch` (the run). The names below are
imported on first use, so :mod:`grader.batch.prestart` (standard library
only) can start the batch's zygote before the rest of the grader is imported.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.batch.gradebook import Gradebook, GradebookBusy, GradebookError
    from grader.batch.intake import Entry, Intake, IntakeError, Skipped, discover, safe_name
    from grader.batch.runner import (BatchError, BatchSummary, add_grade_arguments, check_out_path, default_db_path,
                                     run_batch, run_from_args)

__all__ = ["run_batch", "run_from_args", "add_grade_arguments", "BatchSummary", "BatchError", "Gradebook",
           "GradebookBusy", "GradebookError", "discover", "Intake", "Entry", "Skipped", "IntakeError", "safe_name",
           "default_db_path", "check_out_path"]


def __getattr__(name: str):
    if name not in __all__:  # (a submodule not imported yet, too: the import system then imports it)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from grader.batch import gradebook, intake, runner  # the package's names, on first use

    module = next(m for m in (gradebook, intake, runner) if name in m.__dict__)
    value = globals()[name] = module.__dict__[name]
    return value

"""Batch grading of a class folder into a resumable SQLite gradebook (local processes or Dask).

The CLI's entry points: :func:`add_grade_arguments` (the flags) and
:func:`run_from_args` / :func:`run_batch` (the run).
"""
from grader.batch.gradebook import Gradebook, GradebookBusy, GradebookError
from grader.batch.intake import Entry, Intake, IntakeError, Skipped, discover, safe_name
from grader.batch.runner import (BatchError, BatchSummary, add_grade_arguments, check_out_path, default_db_path,
                                 run_batch, run_from_args)

__all__ = ["run_batch", "run_from_args", "add_grade_arguments", "BatchSummary", "BatchError", "Gradebook",
           "GradebookBusy", "GradebookError", "discover", "Intake", "Entry", "Skipped", "IntakeError", "safe_name",
           "default_db_path", "check_out_path"]

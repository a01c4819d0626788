"""Judging returned values: comparators, transforms and predicates, by registered name.

Importing this package fills the registries (:mod:`grader.judge.registry`).
Nothing here runs student code or imports the reference: it works on the plain
data the sandbox returned.
"""
from grader.judge import comparators, figures, predicates, transforms  # noqa: F401 - fill the registries
from grader.judge.comparators import compare
from grader.judge.numeric import Comparison, as_numeric
from grader.judge.registry import COMPARATORS, PREDICATES, TRANSFORMS
from grader.judge.transforms import apply_transform

__all__ = ["COMPARATORS", "PREDICATES", "TRANSFORMS", "Comparison", "apply_transform", "as_numeric", "compare"]

"""Known wrong versions (mutants) of reference functions.

Each mutant is a plain function decorated with :func:`mistake`. The grader cuts
its source out, renames it to the function it replaces and appends it to the
reference module's source, giving a *mutated module*. A student answer that
fails a check but matches the mutated module's output is told which mistake it
made; ``dlgrade validate`` proves every mutant fails its item and is named.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Mistake:
    """One known wrong version of a reference function."""

    name: str
    """Function name of the mutant, ``<target>__<what_is_wrong>``."""
    item: str
    """Rubric item id whose checks must catch it (e.g. ``"D1"``)."""
    replaces: str
    """Name in the reference module it replaces: ``func`` or ``Class.method``."""
    feedback: str
    """One sentence for the student, saying what is wrong and where."""
    func: Callable
    """The mutant itself (its source is what gets spliced in)."""


def mistake(*, item: str, replaces: str, feedback: str):
    """Register the decorated function as a known mistake of ``item``."""

    def wrap(func: Callable) -> Callable:
        func.__dlgrade_mistake__ = Mistake(
            name=func.__name__, item=item, replaces=replaces, feedback=feedback, func=func
        )
        return func

    return wrap


def mistakes_in(module) -> list[Mistake]:
    """All mutants registered in ``module``, in source order."""
    found = [v.__dlgrade_mistake__ for v in vars(module).values()
             if callable(v) and hasattr(v, "__dlgrade_mistake__")]
    return sorted(found, key=lambda m: m.func.__code__.co_firstlineno)

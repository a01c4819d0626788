"""The three registries rubrics name: comparators, transforms and predicates.

Each entry is registered with its *traits*, so the scorer and the rubric schema
decide by declared structure, never by a comparator's name or its message text:

``expects``
    what a comparator judges against: ``reference`` (the reference's value on the
    same inputs), ``band`` (a calibrated ``[low, high]``) or ``nothing`` (a property
    of the student's value alone: the comparison's ``evidence`` then tells two
    failures apart).

The registries are filled by importing :mod:`grader.judge` (comparators,
transforms, predicates). ``docs/authoring.md`` lists them from here.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Literal

Expects = Literal["reference", "band", "nothing"]


@dataclass(frozen=True)
class Entry:
    name: str
    fn: Callable
    expects: Expects = "reference"
    figures: bool = False

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    @property
    def doc(self) -> str:
        """The first paragraph of the docstring, on one line."""
        return " ".join((inspect.getdoc(self.fn) or "").split("\n\n")[0].split())

    @property
    def params(self) -> dict[str, object]:
        """Rubric parameters and their defaults (the data arguments left out)."""
        data = {"value", "got", "expected", "label"}
        return {n: p.default for n, p in inspect.signature(self.fn).parameters.items()
                if n not in data and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


class Registry(dict):
    """name -> :class:`Entry`; ``what`` names the registry in error messages."""

    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def register(self, name: str, **traits):
        def add(fn):
            if name in self:
                raise ValueError(f"{self.what} {name!r} registered twice")
            self[name] = Entry(name, fn, **traits)
            return fn
        return add


COMPARATORS = Registry("comparator")
TRANSFORMS = Registry("transform")
PREDICATES = Registry("predicate")


def comparator(name: str, *, expects: Expects = "reference", figures: bool = False):
    return COMPARATORS.register(name, expects=expects, figures=figures)


def transform(name: str):
    return TRANSFORMS.register(name)


def predicate(name: str):
    return PREDICATES.register(name)

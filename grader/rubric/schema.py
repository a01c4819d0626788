"""The rubric schema (pydantic): items, checks, cases and how to compare.

A rubric is data: items, their points and visibility, the calls to make, how to
compare. The format is documented in ``docs/authoring.md``; loading (with errors
that name the file, the item id and the field) is in :mod:`grader.rubric.load`.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from grader.judge import COMPARATORS, PREDICATES, TRANSFORMS
from grader.model import Limits
from grader.rubric.values import check_value
from grader.sandbox.worker.interpreter import FIGURES, wants_figures


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_params(kind: str, fn, params: dict, what: str):
    """Parameters must exist in ``fn``'s signature and have the type of its default."""
    sig = inspect.signature(fn)
    data_args = {"value", "got", "expected", "label"}  # filled by the grader, not by the rubric
    allowed = {n: p for n, p in sig.parameters.items()
               if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and n not in data_args}
    takes_any = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    missing = [n for n, p in allowed.items() if p.default is p.empty and n not in params]
    if missing:
        raise ValueError(f"{what} {kind!r} needs the parameter(s) {', '.join(missing)}")
    for name, value in params.items():
        if name not in allowed:
            if takes_any:
                continue
            raise ValueError(f"{what} {kind!r} has no parameter {name!r} (allowed: {', '.join(sorted(allowed)) or 'none'})")
        default = allowed[name].default
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"[{name}] expected true or false, got {value!r}")
        elif isinstance(default, (int, float)) and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"[{name}] expected a number, got {value!r}")


class _Named(BaseModel):
    """A registry name (``kind``) plus its keyword parameters, checked against the registry."""

    model_config = ConfigDict(extra="allow", frozen=True)
    kind: str
    what: ClassVar[str] = ""
    """The registry's name in messages: ``comparator`` or ``transform``."""

    @classmethod
    def _registry(cls) -> dict:
        raise NotImplementedError

    @field_validator("kind")
    @classmethod
    def _known(cls, v):
        reg = cls._registry()
        if v not in reg:
            raise ValueError(f"unknown {cls.what} {v!r}; choose one of {', '.join(sorted(reg))}")
        return v

    @property
    def params(self) -> dict:
        return dict(self.model_extra or {})

    @model_validator(mode="after")
    def _params(self):
        _check_params(self.kind, self._registry()[self.kind].fn, self.params, self.what)
        return self


class Compare(_Named):
    """Comparator name plus its parameters (e.g. ``{kind: allclose, rtol: 0, atol: 5e-5}``)."""

    what: ClassVar[str] = "comparator"
    why: str | None = None
    """Why the tolerance is what it is (the sheet's "4 decimal places", float32 torch, ...); not a parameter."""

    @classmethod
    def _registry(cls):
        return COMPARATORS

    @model_validator(mode="after")
    def _params(self):
        params = self.params
        if self.kind != "predicate":
            return super()._params()
        name = params.pop("name", None)
        if name not in PREDICATES:
            raise ValueError(f"unknown predicate {name!r}; choose one of {', '.join(sorted(PREDICATES))}")
        _check_params(name, PREDICATES[name].fn, params, "predicate")
        return self


class Transform(_Named):
    """A named trusted post-processing of a result (``grader/transforms.py``)."""

    what: ClassVar[str] = "transform"

    @classmethod
    def _registry(cls):
        return TRANSFORMS


class ValueExpected(_Strict):
    value: Any


class BandExpected(_Strict):
    """A calibrated band for a stochastic result (written by ``dlgrade calibrate``)."""

    band: list[float] | None = Field(description="[low, high]; null until calibrated")
    seeds: int | None = None
    date: str | None = None
    how: str | None = None
    margin: float | None = None
    quantiles: list[float] | None = None
    summary: dict[str, float] | None = None
    failures: int | None = None
    check_hash: str | None = None
    """Hash of the check's calls and transform at calibration time (see :func:`check_signature`)."""
    stale: bool = False
    """The check changed since it was calibrated: its band is not used."""

    @field_validator("band")
    @classmethod
    def _pair(cls, v):
        if v is not None and (len(v) != 2 or v[0] > v[1]):
            raise ValueError("band must be [low, high] with low <= high")
        return v


Expected = Union[Literal["reference"], ValueExpected, BandExpected]


class Case(_Strict):
    """One call: ``args``/``kwargs`` for the check's function, or explicit ``steps``.

    ``returns`` names what the case gives the comparator: dotted paths into
    let-bound names, or ``figures``, the figures the call drew (as plain data;
    judged by a figure comparator). A case with ``args`` may only say
    ``returns: figures``.
    """

    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    steps: list[dict[str, Any]] | None = None
    returns: str | list[str] | None = None
    name: str | None = None

    @field_validator("steps")
    @classmethod
    def _steps(cls, v):
        for i, st in enumerate(v or []):
            try:
                Step.model_validate(st)
            except ValidationError as exc:
                first = exc.errors()[0]
                raise ValueError(f"step {i}: {'.'.join(map(str, first['loc'])) or 'step'}: "
                                 f"{first['msg'].removeprefix('Value error, ')}") from None
            check_value(st.get("args", []), f"step {i} args")
            check_value(st.get("kwargs", {}), f"step {i} kwargs")
        return v

    @model_validator(mode="after")
    def _values(self):
        check_value(self.args, "args")
        check_value(self.kwargs, "kwargs")
        if self.steps is None and self.returns not in (None, FIGURES):
            raise ValueError(f"returns: a case with args returns the call's value (or `{FIGURES}`); "
                             f"write steps to return {self.returns!r}")
        if self.steps is not None and any(st.get("let") == FIGURES for st in self.steps):
            raise ValueError(f"let: `{FIGURES}` is reserved (returns: {FIGURES} gives the figures the steps drew)")
        if self.notebook and self.returns != FIGURES:
            raise ValueError(f"a case with a notebook_figures step returns them: write `returns: {FIGURES}`")
        return self

    @property
    def notebook(self) -> bool:
        """Whether the case judges the figures the executed notebook drew (a ``notebook_figures`` step)."""
        return any(st.get("notebook_figures") is not None for st in self.steps or [])

    @property
    def figures(self) -> bool:
        """Whether the case returns the figures its call drew."""
        return wants_figures(self.returns)


READ_PATH = r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$"


class Step(_Strict):
    """One step of a case: a call (``let`` binds its value), reading a top-level value of the executed
    notebook (``read``), seeding torch / numpy's global state, or setting a let-bound module's parameters
    (``set_params``, matched by shape, from ``args[0]``)."""

    call: str | None = None
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    let: str | None = None
    read: str | None = Field(None, pattern=READ_PATH)
    """A top-level name of the executed notebook (``q_star_value``, or ``result.attr``): the value the
    student's notebook computed. Only in items marked ``needs: full``."""
    torch_seed: int | None = None
    np_seed: int | None = None
    notebook_figures: str | None = Field(None, pattern=r"^[A-Za-z_]\w*$")
    """Every figure the executed notebook drew (all cells, as data), for ``returns: figures``. The name is the
    *reference's* function that draws what the sheet asks for (called without arguments in the trusted run:
    the reference figure and the mutants' figures); the student's notebook defines nothing of that name. Only
    in items marked ``needs: full``."""
    set_params: str | None = None
    """A let-bound ``nn.Module``: its parameters get the arrays of ``args[0]``, each to the parameter of
    its shape (not by name or creation order), so a check can judge outputs for given parameters."""

    @model_validator(mode="after")
    def _one_action(self):
        actions = [n for n in ("call", "read", "torch_seed", "np_seed", "notebook_figures", "set_params")
                   if getattr(self, n) is not None]
        if len(actions) != 1:
            raise ValueError("a step needs exactly one of call, read, torch_seed, np_seed, notebook_figures, "
                             f"set_params (got {actions or 'none'})")
        if self.notebook_figures is not None and (self.args or self.kwargs or self.let):
            raise ValueError("a notebook_figures step takes no args, kwargs or let (return them with "
                             f"`returns: {FIGURES}`)")
        if self.read is not None and (self.args or self.kwargs):
            raise ValueError("a read step takes no args or kwargs (it reads a value; call a function with `call`)")
        if self.set_params is not None and (len(self.args) != 1 or self.kwargs or self.let):
            raise ValueError("set_params takes one argument, the list of arrays (args: [[...]]), and no let")
        return self


NAME = r"^[A-Za-z_]\w*$"


class UpstreamCall(_Strict):
    """One value a follow-through check takes from the submission: its function ``call`` (graded by another
    item) on arguments of each case. A string in ``args``/``kwargs`` names a parameter of the checked function
    (bound from the case by the reference's signature, defaults included); anything else is passed as it is."""

    call: str = Field(pattern=NAME)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}

    def names(self) -> list[str]:
        """The checked function's parameters this call reads."""
        return [v for v in [*self.args, *self.kwargs.values()] if isinstance(v, str)]


class FollowThrough(_Strict):
    """Follow-through credit ("error carried forward") for a check whose function uses another item's function.

    When the check fails and the item grading a ``given`` function did not pass, each case is judged again,
    with the check's own comparator, against the trusted ``reference`` helper called as
    ``reference(*case args, **case kwargs, name=value)`` for every ``given`` name, with the value the
    submission's own ``call`` returned in the sandbox (e.g. ``c_map(c, sigma_w, sigma_b)`` against
    ``_c_map_at_q(c, sigma_w, sigma_b, q=<your q_star(sigma_w, sigma_b)>)``). A case that matches earns
    ``credit`` (a fraction of the case, default 1: full credit)."""

    reference: str = Field(pattern=NAME)
    """A function of the reference module(s): the checked function given the upstream values."""
    given: dict[str, UpstreamCall] = Field(min_length=1)
    """Keyword of ``reference`` -> the submission call that supplies it."""
    credit: float = Field(1.0, gt=0, le=1)

    @field_validator("given")
    @classmethod
    def _names(cls, v):
        bad = [k for k in v if not k.isidentifier()]
        if bad:
            raise ValueError(f"given: {bad[0]!r} is not a keyword argument name")
        return v


class Check(_Strict):
    """A group of cases compared the same way; a share of the item's points."""

    name: str
    function: str | None = None
    cases: list[Case] = Field(min_length=1)
    compare: Compare
    select: Any = None
    transform: Transform | None = None
    expected: Expected = "reference"
    label: str | None = None
    weight: float = Field(1.0, gt=0)
    full: bool = False
    timeout_s: float | None = Field(None, gt=0)
    follow_through: FollowThrough | None = None
    """Judge a failing check again with the submission's own upstream values (see :class:`FollowThrough`)."""

    @model_validator(mode="after")
    def _callable(self):
        for i, case in enumerate(self.cases):
            if case.steps is None and not self.function:
                raise ValueError(f"case {i} has no steps and the check names no function")
        entry = COMPARATORS[self.compare.kind]
        if entry.expects == "band" and not isinstance(self.expected, BandExpected):
            raise ValueError("compare kind 'band' needs expected: {band: [low, high]}")
        if entry.figures:
            bad = [i for i, case in enumerate(self.cases) if not case.figures]
            if bad:
                raise ValueError(f"compare kind {self.compare.kind!r} judges figures: case {bad[0]} needs "
                                 f"`returns: {FIGURES}`")
            if entry.expects == "reference" and self.expected != "reference":
                raise ValueError(f"compare kind {self.compare.kind!r} judges against the reference's figure: "
                                 "expected must be `reference`")
        elif self.transform is None and self.select is None and any(c.returns == FIGURES for c in self.cases):
            figure_kinds = ", ".join(sorted(n for n, e in COMPARATORS.items() if e.figures))
            raise ValueError(f"a case with `returns: {FIGURES}` gives figure data: judge it with a figure "
                             f"comparator ({figure_kinds})")
        if self.follow_through is not None:
            if not self.function or any(c.steps is not None or c.figures for c in self.cases):
                raise ValueError("follow_through: the check needs a function and cases with args (no steps, no "
                                 "figures): the upstream calls take their arguments from the call's")
            if entry.expects != "reference" or self.expected != "reference" or entry.figures:
                raise ValueError(f"follow_through: compare kind {self.compare.kind!r} does not judge against the "
                                 "reference's value, so there is nothing to recompute with the student's values")
            if self.function in {u.call for u in self.follow_through.given.values()}:
                raise ValueError(f"follow_through: `{self.function}` cannot be its own upstream")
        return self

    @property
    def figures(self) -> bool:
        """Whether any case returns the figures its call drew (the report shows them)."""
        return any(case.figures for case in self.cases)

    def normalised_cases(self) -> list[dict]:
        """Every case as ``{steps, returns}`` (the worker's form)."""
        out = []
        for case in self.cases:
            if case.steps is not None:
                out.append({"steps": list(case.steps), "returns": case.returns})
            else:
                out.append({"steps": [{"let": "_out", "call": self.function, "args": list(case.args),
                                       "kwargs": dict(case.kwargs)}],
                            "returns": FIGURES if case.returns == FIGURES else "_out"})
        return out

    def functions(self) -> list[str]:
        """Top-level names of the submission this check calls (or reads, with a ``read`` step)."""
        names = [self.function] if self.function else []
        for case in self.cases:
            for st in case.steps or []:
                path = st.get("call") or st.get("read")
                if path:
                    head = path.split(".")[0]
                    lets = {s.get("let") for s in case.steps}
                    if head not in lets and head not in names:
                        names.append(head)
        return names

    @property
    def notebook_figures(self) -> bool:
        """Whether the check judges the figures the executed notebook drew (``notebook_figures`` steps)."""
        return any(case.notebook for case in self.cases)

    def reads(self) -> list[str]:
        """Top-level names of the executed notebook this check reads (``read`` steps)."""
        return list(dict.fromkeys(st["read"].split(".")[0] for case in self.cases for st in case.steps or []
                                  if st.get("read")))


class Item(_Strict):
    """One gradable item (automatic or manual)."""

    id: str
    title: str
    points: float = Field(ge=0)
    visibility: Literal["public", "hidden"] = "hidden"
    show_expected: bool = False
    """Students may see this hidden item's expected values and bands in their feedback (default: only passed /
    failed and the reason in words, :func:`grader.model.student_view`). Public items always show them."""
    manual: bool = False
    description: str = ""
    prompt: str = ""
    model_answer: str = ""
    needs: Literal["full"] | None = None
    """``full``: grade this item against the executed notebook (every cell run in order), not the slice."""
    auto: bool = True
    """With ``needs: full``: ``false`` grades the item only with ``--mode full``, not in ``--mode auto`` (the
    default), for a notebook whose full run is too slow for every batch (backprop trains 5000 iterations
    twice); ``auto`` and ``slice`` then say it was not graded in that mode."""
    checks: list[Check] = []

    @model_validator(mode="after")
    def _shape(self):
        if self.manual and self.checks:
            raise ValueError("a manual item has no checks (it is marked by a TA)")
        if self.manual and self.needs:
            raise ValueError("a manual item runs nothing, so it cannot need full execution")
        reads = [n for c in self.checks for n in c.reads()]
        if reads and self.needs != "full":
            raise ValueError(f"the item reads the notebook's top-level value `{reads[0]}` ({{read: {reads[0]}}}), "
                             "which only the executed notebook has: mark the item `needs: full`")
        if any(c.notebook_figures for c in self.checks) and self.needs != "full":
            raise ValueError("the item judges the figures the executed notebook drew (a notebook_figures step), "
                             "which only full execution has: mark the item `needs: full`")
        if not self.auto and self.needs != "full":
            raise ValueError("auto: false keeps a `needs: full` item out of --mode auto; this item has no needs: full")
        if self.manual and not self.model_answer.strip():
            raise ValueError("a manual item needs a model_answer for the TA")
        if not self.manual and not self.checks:
            raise ValueError("an automatic item needs at least one check")
        names = [c.name for c in self.checks]
        if len(set(names)) != len(names):
            raise ValueError("check names must be unique within an item")
        return self


class LimitsSpec(_Strict):
    """A rubric's resource limits; :meth:`to_limits` gives the sandbox's one :class:`~grader.model.Limits`."""

    timeout_s: float = Field(20.0, gt=0)
    load_timeout_s: float = Field(60.0, gt=0)
    budget_s: float = Field(120.0, gt=0)
    """Wall time of the whole submission, a deadline enforced while it runs (defs-only grading takes seconds;
    a rubric with long training checks raises it)."""
    memory_mb: int = Field(4096, ge=256)
    cell_timeout_s: float | None = Field(None, gt=0)
    """Full mode: wall time of one notebook cell (default: ``timeout_s``)."""
    notebook_timeout_s: float = Field(60.0, gt=0)
    """Full mode: wall time of executing the whole notebook."""

    def to_limits(self) -> Limits:
        return Limits(**self.model_dump())


class Rubric(_Strict):
    """One assignment's rubric."""

    assignment: str
    version: int = Field(ge=1)
    title: str
    reference: str | list[str]
    """Module(s) of the reference solution, in notebook order (names must not overlap)."""
    mistakes: str | list[str] | None = None
    aliases: dict[str, list[str]] = {}
    data_files: list[str] = []
    limits: LimitsSpec = LimitsSpec()
    intro: str = ""
    items: list[Item] = Field(min_length=1)
    path: Path | None = Field(None, exclude=True)
    _fp: str | None = PrivateAttr(None)
    """The answer-key version, memoised by :func:`grader.pipeline.keys.key_version`."""

    @model_validator(mode="after")
    def _unique(self):
        ids = [i.id for i in self.items]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate item ids: {sorted(dup)}")
        graded = self.graded_by()
        for item in self.items:
            for check in item.checks:
                for up in (check.follow_through.given.values() if check.follow_through else ()):
                    if graded.get(up.call) in (None, item.id):
                        raise ValueError(f"item {item.id}, check {check.name!r}: follow_through uses `{up.call}`, "
                                         "which no other item grades (its failure is what the credit is for)")
        return self

    def graded_by(self) -> dict[str, str]:
        """Function name -> the first item with a check of it (the item a follow-through note names)."""
        out: dict[str, str] = {}
        for item in self.items:
            for check in item.checks:
                if check.function:
                    out.setdefault(check.function, item.id)
        return out

    @property
    def reference_modules(self) -> list[str]:
        return [self.reference] if isinstance(self.reference, str) else list(self.reference)

    @property
    def mistakes_modules(self) -> list[str]:
        if not self.mistakes:
            return []
        return [self.mistakes] if isinstance(self.mistakes, str) else list(self.mistakes)

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(f"{self.assignment} has no item {item_id!r}; items: {', '.join(i.id for i in self.items)}")

    @property
    def max_points(self) -> float:
        return sum(i.points for i in self.items)

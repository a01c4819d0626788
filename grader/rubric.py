"""Rubric schema (pydantic) and loading of ``rubrics/*.yaml``.

A rubric is data: items, their points and visibility, the calls to make, how to
compare. The format is documented in ``docs/authoring.md``. A malformed rubric
fails with the file, the item id and the field in the message.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from grader.judge import COMPARATORS, PREDICATES, TRANSFORMS

RUBRIC_DIR = Path(__file__).resolve().parent.parent / "rubrics"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster


class RubricError(ValueError):
    """A rubric file that does not follow the schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_params(kind: str, fn, params: dict, what: str):
    """Parameters must exist in ``fn``'s signature and have the type of its default."""
    import inspect

    sig = inspect.signature(fn)
    data_args = {"value", "got", "expected", "label"}  # filled by the grader, not by the rubric
    allowed = {n: p for n, p in sig.parameters.items()
               if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and n not in data_args}
    takes_any = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
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
    """One call: ``args``/``kwargs`` for the check's function, or explicit ``steps``."""

    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    steps: list[dict[str, Any]] | None = None
    returns: str | list[str] | None = None
    name: str | None = None

    @field_validator("steps")
    @classmethod
    def _steps(cls, v):
        for i, st in enumerate(v or []):
            if not ({"torch_seed", "np_seed"} & st.keys() or "call" in st):
                raise ValueError(f"step {i} needs 'call' (or 'torch_seed')")
            unknown = st.keys() - {"call", "args", "kwargs", "let", "torch_seed", "np_seed"}
            if unknown:
                raise ValueError(f"step {i} has unknown keys {sorted(unknown)}")
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

    @model_validator(mode="after")
    def _callable(self):
        for i, case in enumerate(self.cases):
            if case.steps is None and not self.function:
                raise ValueError(f"case {i} has no steps and the check names no function")
        if COMPARATORS[self.compare.kind].expects == "band" and not isinstance(self.expected, BandExpected):
            raise ValueError("compare kind 'band' needs expected: {band: [low, high]}")
        return self

    def normalised_cases(self) -> list[dict]:
        """Every case as ``{steps, returns}`` (the worker's form)."""
        out = []
        for case in self.cases:
            if case.steps is not None:
                out.append({"steps": list(case.steps), "returns": case.returns})
            else:
                out.append({"steps": [{"let": "_out", "call": self.function, "args": list(case.args),
                                       "kwargs": dict(case.kwargs)}], "returns": "_out"})
        return out

    def functions(self) -> list[str]:
        """Top-level names of the submission this check calls."""
        names = [self.function] if self.function else []
        for case in self.cases:
            for st in case.steps or []:
                if "call" in st:
                    head = st["call"].split(".")[0]
                    lets = {s.get("let") for s in case.steps}
                    if head not in lets and head not in names:
                        names.append(head)
        return names


class Item(_Strict):
    """One gradable item (automatic or manual)."""

    id: str
    title: str
    points: float = Field(ge=0)
    visibility: Literal["public", "hidden"] = "hidden"
    manual: bool = False
    description: str = ""
    prompt: str = ""
    model_answer: str = ""
    checks: list[Check] = []

    @model_validator(mode="after")
    def _shape(self):
        if self.manual and self.checks:
            raise ValueError("a manual item has no checks (it is marked by a TA)")
        if self.manual and not self.model_answer.strip():
            raise ValueError("a manual item needs a model_answer for the TA")
        if not self.manual and not self.checks:
            raise ValueError("an automatic item needs at least one check")
        names = [c.name for c in self.checks]
        if len(set(names)) != len(names):
            raise ValueError("check names must be unique within an item")
        return self


class Limits(_Strict):
    timeout_s: float = Field(20.0, gt=0)
    load_timeout_s: float = Field(60.0, gt=0)
    budget_s: float = Field(600.0, gt=0)
    memory_mb: int = Field(4096, ge=256)


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
    limits: Limits = Limits()
    intro: str = ""
    items: list[Item] = Field(min_length=1)
    path: Path | None = Field(None, exclude=True)
    _fp: str | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _unique(self):
        ids = [i.id for i in self.items]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate item ids: {sorted(dup)}")
        return self

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

    def fingerprint(self) -> str:
        """Hash of the rubric file and the reference and mistakes sources (answer-key version)."""
        return _fingerprint(self)

    def _fingerprint(self) -> str:
        import importlib
        import inspect

        h = hashlib.sha256(self.path.read_bytes() if self.path else self.model_dump_json().encode())
        if self.path and bands_path(self.path).exists():
            h.update(bands_path(self.path).read_bytes())
        for mod in self.reference_modules + self.mistakes_modules:
            h.update(inspect.getsource(importlib.import_module(mod)).encode())
        from grader import sandbox

        h.update(sandbox.WORKER_SOURCE.read_bytes())
        return h.hexdigest()[:16]


def _fingerprint(rubric: "Rubric") -> str:
    if rubric._fp is None:  # rubrics are frozen; reference sources do not change during a run
        rubric._fp = rubric._fingerprint()
    return rubric._fp


def load_rubric(path: str | Path) -> Rubric:
    """Read and validate one rubric file; errors name the file, the item and the field."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise RubricError(f"{path}: not valid YAML: {exc}") from None
    except OSError as exc:
        raise RubricError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(raw, dict):
        raise RubricError(f"{path}: expected a mapping at the top level")
    _merge_bands(raw, bands_path(path))
    try:
        rubric = Rubric.model_validate(raw)
    except ValidationError as exc:
        raise RubricError(_explain(path, raw, exc)) from None
    return rubric.model_copy(update={"path": path})


def bands_path(rubric_path: Path) -> Path:
    """Where ``dlgrade calibrate`` keeps the bands of a rubric: ``<name>.bands.yaml`` beside it."""
    return rubric_path.with_name(rubric_path.stem + ".bands.yaml")


def _merge_bands(raw: dict, path: Path):
    """Fill ``expected: {band: ...}`` of each check from the calibration file, if any."""
    if not path.exists():
        return
    try:
        bands = yaml.load(path.read_text(), Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        raise RubricError(f"{path}: not valid YAML: {exc}; rerun `dlgrade calibrate`") from None
    for item in raw.get("items") or []:
        for check in (item.get("checks") or []) if isinstance(item, dict) else []:
            got = (bands.get(item.get("id")) or {}).get(check.get("name")) if isinstance(check, dict) else None
            exp = check.get("expected") if isinstance(check, dict) else None
            if got and isinstance(exp, dict) and "band" in exp:
                if got.get("check_hash") != check_signature(check):
                    check["expected"] = {**exp, "band": None, "stale": True}
                else:  # the rubric's own description of the band wins over the stored one
                    check["expected"] = {**got, **{k: v for k, v in exp.items() if k in ("how",) and v}}


def check_signature(raw_check: dict) -> str:
    """What a calibrated band depends on: the check's function, cases, selection and transform."""
    import json

    keys = ("function", "cases", "select", "transform")
    return hashlib.sha256(json.dumps({k: raw_check.get(k) for k in keys}, sort_keys=True,
                                     default=str).encode()).hexdigest()[:16]


def raw_check(rubric_path: Path, item_id: str, check_name: str) -> dict:
    """The check as written in the YAML file (for :func:`check_signature`)."""
    raw = yaml.load(Path(rubric_path).read_text(), Loader=_Loader)
    for item in raw.get("items", []):
        if item.get("id") == item_id:
            for check in item.get("checks", []):
                if check.get("name") == check_name:
                    return check
    raise KeyError(f"{item_id}/{check_name}")


def _explain(path: Path, raw: dict, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            items = raw.get("items") or []
            item_id = items[loc[1]].get("id", f"#{loc[1]}") if loc[1] < len(items) and isinstance(items[loc[1]], dict) else f"#{loc[1]}"
            where = f"item {item_id}, "
            loc = loc[2:]
        field = ".".join(str(p) for p in loc if not (isinstance(p, str) and p.startswith(("function-", "literal", "ValueExpected", "BandExpected")))) or "(top level)"
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


def rubric_paths(directory: Path = RUBRIC_DIR) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if not p.name.endswith(".bands.yaml"))


def get_rubric(assignment: str, directory: Path = RUBRIC_DIR) -> Rubric:
    """The rubric of ``assignment`` (by name), with a helpful error if unknown."""
    path = directory / f"{assignment}.yaml"
    if not path.exists():
        known = ", ".join(p.stem for p in rubric_paths(directory)) or "none"
        raise RubricError(f"no rubric for assignment {assignment!r} in {directory} (known: {known}); "
                          "run `dlgrade list` to see the assignments")
    bands = bands_path(path)
    return _load_cached(str(path), path.stat().st_mtime + (bands.stat().st_mtime if bands.exists() else 0))

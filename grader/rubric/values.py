"""Typed values in a rubric's ``args`` / ``kwargs``: the registry and its validation.

A rubric writes a typed value as a mapping with one *type key* (``{rng: 0}``,
``{tensor: [1, 2], dtype: float64}``). Every mapping that holds a type key must
be exactly that typed value (its fields are checked here, so a typo is an error
that names file, item and field); every other mapping is a plain dict. A plain
dict that needs a type key as an ordinary key is written ``{dict: {...}}``.
Data values (``array``, ``random``, ``ref``) are made in the grader; the others
travel to the worker as tagged wire values (:mod:`grader.pipeline.plan`).
``docs/authoring.md`` lists this registry.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Value(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArrayValue(_Value):
    """``{array: [[1, 2], [3, 4]], dtype: float64}``: an ``np.ndarray`` made in the grader, sent as data."""

    array: Any
    dtype: str = "float64"


class RandomSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    seed: int = 0
    shape: list[int] = []
    dist: Literal["normal", "uniform", "sign"] = "normal"
    loc: float = 0.0
    scale: float = 1.0
    low: float = 0.0
    high: float = 1.0
    dtype: str = "float64"


class RandomValue(_Value):
    """``{random: {seed: 0, shape: [16, 4], dist: normal, scale: 0.1}}``: an array drawn in the grader
    (``normal``, ``uniform`` with ``low``/``high``, or ``sign``), sent as data; ``calibrate`` varies the seed."""

    random: RandomSpec


class RefValue(_Value):
    """``{ref: SIGMA_YX}``: a reference constant, or ``{ref: f, args: [...], select: key}`` the value a
    reference function returns, made in the grader and sent as data (for inputs, never another item's answer)."""

    ref: str
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    select: Any = None


class RngValue(_Value):
    """``{rng: 0}``: ``np.random.default_rng(0)``, made fresh on each side; ``calibrate`` varies the seed."""

    rng: int


class SeedValue(_Value):
    """``{seed: 0}``: the int 0, for ``seed: int`` arguments; ``calibrate`` varies it."""

    seed: int


class TensorValue(_Value):
    """``{tensor: <value>, dtype: float32, requires_grad: false}``: a ``torch.tensor``."""

    tensor: Any
    dtype: Literal["float16", "float32", "float64", "int32", "int64", "bool"] = "float32"
    requires_grad: bool = False


class VarValue(_Value):
    """``{var: name.attr}``: a let-bound step variable (steps only)."""

    var: str = Field(pattern=r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")


class SgdValue(_Value):
    """``{sgd: {params: {var: net}, lr: 0.1}}``: an instrumented ``torch.optim.SGD`` (records ``zero_grad``,
    ``step`` and whether each step's gradients are fresh)."""

    sgd: dict[str, Any]


class MseValue(_Value):
    """``{mse: {}}``: an instrumented ``torch.nn.MSELoss`` (records calls, ``backward`` and each target's
    fingerprint, so the visiting order can be checked)."""

    mse: dict[str, Any] | None = None


class EventsValue(_Value):
    """``{events: true}``: the case's instrumentation log (in ``returns`` write ``events``)."""

    events: Literal[True]


class DataFileValue(_Value):
    """``{data_file: name}``: the path (a string) of a data file the worker can read."""

    data_file: str


class DictValue(_Value):
    """``{dict: {...}}``: a plain dict, for one whose keys would read as a type key (``seed``, ``rng``...)."""

    plain: dict[str, Any] = Field(alias="dict")


VALUE_TYPES: dict[str, type[_Value]] = {
    "array": ArrayValue, "random": RandomValue, "ref": RefValue, "rng": RngValue, "seed": SeedValue,
    "tensor": TensorValue, "var": VarValue, "sgd": SgdValue, "mse": MseValue, "events": EventsValue,
    "data_file": DataFileValue, "dict": DictValue,
}
"""type key -> its model (the docstring is the documentation)."""
DATA = frozenset({"array", "random", "ref"})
"""Typed values made in the trusted grader and sent as plain data."""


def type_key(value: dict) -> str | None:
    """The type key of a mapping, None for a plain dict; ValueError when it holds two."""
    keys = [k for k in value if k in VALUE_TYPES]
    if len(keys) > 1:
        raise ValueError(f"a value has two type keys {keys}; write {{dict: {{...}}}} for a plain dict")
    return keys[0] if keys else None


def check_value(value, where: str) -> None:
    """Validate every typed value inside ``value``; ValueError names ``where`` and the field."""
    stack = [(value, where)]
    while stack:
        v, at = stack.pop()
        if isinstance(v, list):
            stack.extend((x, f"{at}[{i}]") for i, x in enumerate(v))
        elif isinstance(v, dict):
            key = type_key(v)
            if key is None:
                stack.extend((x, f"{at}.{k}") for k, x in v.items())
                continue
            try:
                model = VALUE_TYPES[key].model_validate(v)
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(p) for p in first["loc"])
                raise ValueError(f"[{at}] a {{{key}: ...}} value: {field}: {first['msg']} "
                                 f"(a plain dict with the key {key!r} is written {{dict: {{...}}}})") from None
            if key == "dict":  # its keys are plain, its values may be typed
                stack.extend((x, f"{at}.{k}") for k, x in model.plain.items())
            for name in ("tensor", "args", "kwargs", "sgd"):
                inner = getattr(model, name, None)
                if inner is not None:
                    stack.append((inner, f"{at}.{name}"))

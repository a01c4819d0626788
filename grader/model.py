"""The grader's plain data: options, limits, statuses and frozen result types.

Everything here is data with no behaviour beyond arithmetic over itself, so
every stage (pipeline, batch, exports, report, the student bundle) can share it
without importing each other. Results cross process boundaries as JSON through
:meth:`SubmissionResult.to_dict` / :meth:`SubmissionResult.from_dict`; the
``format`` key versions that JSON.

Every sentence of a result is kept in two forms: ``message`` with the numbers
(what the TA reads) and ``hint``, the same in words without the expected value
or the band (made by the comparators, :mod:`grader.judge.numeric`).
:func:`student_view` is the one place that chooses between them: every output a
student reads (``dlgrade check``, the HTML page, Gradescope, Moodle) goes
through it; the TA's outputs (JSON, the gradebook, CSV, the class overview) do
not.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields, replace
from enum import Enum

from grader.sandbox import Limits

__all__ = ["MODES", "RESULT_FORMAT", "CaseStatus", "ItemStatus", "Options", "Limits", "CaseResult", "CheckResult",
           "ItemResult", "SubmissionResult", "round_points", "shown_points", "student_view"]

MODES = ("auto", "full", "slice")
"""The values of :attr:`Options.mode` (``dlgrade grade --mode``)."""
RESULT_FORMAT = 4
"""Version of :meth:`SubmissionResult.to_dict` (1: before the enum statuses and the ``format`` key; 2: before
``hint``, ``show_expected``, ``files``, ``ignored``, ``declared_assignment`` and the checks' ``figures``; 3: before
the checks' ``follow_through``)."""


class CaseStatus(str, Enum):
    """What happened to one call of a submission (the sandbox's verdict)."""

    OK = "ok"
    MISSING = "missing"
    ERROR = "error"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value


class ItemStatus(str, Enum):
    """An item's outcome. ``not_run``: none of its checks ran (nothing was judged)."""

    PASSED = "passed"
    PARTIAL = "partial"
    FAILED = "failed"
    MANUAL = "manual"
    NOT_RUN = "not_run"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Options:
    """How to grade; the CLI flags map onto these fields one to one."""

    public_only: bool = False
    """Only public items (the student self-check)."""
    full: bool = False
    """Also run checks marked ``full`` (long training runs)."""
    unsafe: bool = False
    """Grade even where the sandbox cannot hide the answer keys."""
    items: tuple[str, ...] = ()
    """Only these item ids (empty: all)."""
    name_mistakes: bool = True
    """Compare failed answers with the known mutants (TA grading; off for students)."""
    mode: str = "auto"
    """How the notebook runs: ``slice`` (dependency slicing only; items marked ``needs: full`` are not run),
    ``full`` (every item against the executed notebook), ``auto`` (slicing, and full execution for items
    marked ``needs: full`` and for every item of a submission whose slice failed a statement a graded
    function needs)."""

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r}: choose one of {', '.join(MODES)}")


@dataclass(frozen=True)
class CaseResult:
    index: int
    status: CaseStatus
    passed: bool
    message: str
    seconds: float = 0.0
    hint: str = ""
    """``message`` in words, without the expected value (see :func:`student_view`)."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    fraction: float
    weight: float
    message: str
    mistake: str | None = None
    """Name of the known mistake the answer matches (``reference/mistakes``)."""
    mistake_feedback: str | None = None
    cases: tuple[CaseResult, ...] = ()
    hint: str = ""
    figures: tuple[dict, ...] = ()
    """The figures the student's calls drew (checks with ``returns: figures``), for the report:
    ``{"case": index, "png": base64 of a validated PNG, "title": str}``."""
    follow_through: str | None = None
    """The upstream item(s) (``"D1"``) whose failure this check was forgiven: it earned follow-through credit,
    judged against the reference fed with the student's own upstream values (``follow_through`` in the rubric)."""


@dataclass(frozen=True)
class ItemResult:
    item_id: str
    title: str
    points: float
    max_points: float
    status: ItemStatus
    message: str
    visibility: str = "hidden"
    checks: tuple[CheckResult, ...] = ()
    hint: str = ""
    show_expected: bool = False
    """The rubric lets students see this hidden item's expected values (``show_expected: true``)."""

    @property
    def mistakes(self) -> list[str]:
        return [c.mistake for c in self.checks if c.mistake]


@dataclass(frozen=True)
class SubmissionResult:
    student: str
    path: str
    assignment: str
    rubric_version: int
    key_version: str
    sha256: str
    items: tuple[ItemResult, ...]
    warnings: tuple[str, ...] = ()
    error: str | None = None
    """Submission-level failure (unreadable file...): every item then scores 0."""
    layers: tuple[str, ...] = ()
    seconds: float = 0.0
    stdout_tail: str = ""
    files: tuple[str, ...] = ()
    """The files graded, relative to the submission (a folder's chosen notebooks, in the order read)."""
    ignored: tuple[str, ...] = ()
    """Files of a folder submission that were not graded (drafts, older versions); the warnings say why."""
    declared_assignment: str | None = None
    """The assignment the notebook's metadata names, when it is not the one graded (a loud warning)."""
    notebook: dict | None = None
    """The executed notebook (nbformat 4, as a dict) when the submission ran in full mode; the batch writes it
    beside the results and does not keep it in the gradebook."""

    @property
    def score(self) -> float:
        return round(sum(i.points for i in self.items if i.status != ItemStatus.MANUAL), 6)

    @property
    def max_score(self) -> float:
        return sum(i.max_points for i in self.items if i.status != ItemStatus.MANUAL)

    @property
    def manual_items(self) -> list[ItemResult]:
        return [i for i in self.items if i.status == ItemStatus.MANUAL]

    def to_dict(self) -> dict:
        """Plain JSON-able data (statuses as their strings), with the ``format`` version."""
        return {"format": RESULT_FORMAT, **_plain(asdict(self))}

    @classmethod
    def from_dict(cls, d: dict) -> "SubmissionResult":
        """Inverse of :meth:`to_dict`; also reads format 1 (no ``format`` key)."""
        fmt = d.get("format", 1)
        if fmt > RESULT_FORMAT:
            raise ValueError(f"result format {fmt} is newer than this dlgrade reads ({RESULT_FORMAT}); upgrade dlgrade")
        items = tuple(_item(i) for i in d["items"])
        own = {f.name for f in fields(cls)}
        return cls(**{**{k: v for k, v in d.items() if k in own}, "items": items,
                      **{k: tuple(d.get(k, ())) for k in ("warnings", "layers", "files", "ignored")}})


def round_points(points: float, top: float | None = None) -> str:
    """Points for people (``0.55``): at most 2 decimals, and never rounded up to ``top`` (full marks) or down to 0
    when they are not. Only for display (terminal tables, HTML pages); results, CSV and JSON keep the exact points.
    """
    v = round(points, 2)
    if top is not None and points < top - 1e-9 and v >= top:
        v = math.floor(points * 100) / 100
    if points > 1e-9 and v <= 0:
        v = 0.01
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def shown_points(points: float, top: float) -> str:
    """``0.55/4``: :func:`round_points` out of ``top``."""
    return f"{round_points(points, top)}/{top:g}"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain_text(s: str) -> str:
    """``s`` without control characters (newlines and tabs stay): no escape sequence can reach a terminal."""
    return _CONTROL.sub("", s)


def clean_result(result: SubmissionResult) -> SubmissionResult:
    """``result`` with every string made :func:`plain_text`: what a submission wrote cannot drive a terminal."""
    def walk(v):
        if isinstance(v, str):
            return plain_text(v)
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return SubmissionResult.from_dict(walk(result.to_dict()))


def student_view(result: SubmissionResult, rubric=None) -> SubmissionResult:
    """``result`` as a student may read it: the one place where hidden items lose their numbers.

    An item that is not public, unless its rubric item says ``show_expected:
    true``, shows its ``hint`` sentences (case, check and item) instead of the
    messages, so no expected value, band or anything nearer to them than a
    rough ratio reaches the student; a result without hints (an older format)
    says only passed / failed and the known mistake. The key version is left
    out for every item. ``rubric`` (optional) overrides the visibility and
    ``show_expected`` stored in the result, so a changed rubric applies without
    grading again.
    """
    own = {i.id: (i.visibility, i.show_expected) for i in rubric.items} if rubric is not None else {}
    items = []
    for it in result.items:
        visibility, show = own.get(it.item_id, (it.visibility, it.show_expected))
        if visibility == "public" or show or it.status in (ItemStatus.MANUAL, ItemStatus.NOT_RUN):
            items.append(replace(it, visibility=visibility, show_expected=show))
            continue
        checks = tuple(replace(c, message=c.hint or _in_words(c.passed, c.mistake_feedback),
                               cases=tuple(replace(k, message=k.hint or _in_words(k.passed)) for k in c.cases))
                       for c in it.checks)
        bad = [c for c in it.checks if not c.passed]
        fallback = _in_words(not bad, bad[0].mistake_feedback if bad else None)
        items.append(replace(it, message=it.hint or fallback, checks=checks, visibility=visibility,
                             show_expected=show))
    return replace(result, items=tuple(items), key_version="")


def _in_words(passed: bool, mistake: str | None = None) -> str:
    text = "passes" if passed else "not the expected result"
    return f"{text}. Known mistake: {mistake}" if mistake else text


def _item(i: dict) -> ItemResult:
    checks = tuple(CheckResult(**{**c, "cases": tuple(CaseResult(**{**k, "status": CaseStatus(k["status"])})
                                                      for k in c.get("cases", ())),
                                  "figures": tuple(dict(f) for f in c.get("figures", ()))})
                   for c in i.get("checks", ()))
    return ItemResult(**{**i, "status": ItemStatus(i["status"]), "checks": checks})


def _plain(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value

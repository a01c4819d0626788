"""``dlgrade-check NOTEBOOK [ITEM ...] [-a ASSIGNMENT]`` (and ``python -m dlgrade_check``): the self-check in a terminal.

Which assignment: ``-a``, else the only one installed, else the one the
notebook's ``dlgrade`` metadata names (the skeleton writes it), else the one
the notebook's file name names. Exit 0 when the check ran, 2 when it could not
(a missing package, no such notebook, an unreadable one, an unknown item): one
line on stderr says why.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from grader.student import checker, deps

PROG = "dlgrade-check"


def _take(argv: list[str], *names: str) -> str | None:
    """Remove ``NAME VALUE`` (or ``NAME=VALUE``) from ``argv``; the value."""
    for i, a in enumerate(argv):
        for name in names:
            if a == name:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                del argv[i: i + 2]
                return value
            if a.startswith(name + "=") and name.startswith("--"):
                del argv[i]
                return a.split("=", 1)[1]
    return None


def notebook_assignment(path: str, known) -> str | None:
    """The assignment a notebook names: its ``dlgrade`` metadata, else its file name (standard library only)."""
    p = Path(path)
    if p.suffix == ".ipynb" and p.is_file():
        try:
            meta = json.loads(p.read_text(encoding="utf-8")).get("metadata", {}).get("dlgrade", {})
            named = meta.get("assignment") if isinstance(meta, dict) else None
            if isinstance(named, str) and named in known:
                return named
        except (OSError, ValueError, AttributeError):
            pass
    words = "_".join(re.findall(r"[a-z0-9]+", p.stem.lower()))
    hits = [a for a in known if "_".join(re.findall(r"[a-z0-9]+", a.lower())) in words]
    return hits[0] if len(hits) == 1 else None


def resolve(argv: list[str], assignment: str | None) -> Path:
    """The data folder of the installed assignment this command checks (a :class:`checker.Problem` if none)."""
    found = checker.installed()
    if assignment or len(found) <= 1:
        return checker.installed_dir(assignment)
    notebook = next((a for a in argv if not a.startswith("-")), None)
    if notebook and not Path(notebook).exists():
        raise checker.Problem(f"{notebook} does not exist")
    named = notebook_assignment(notebook, found) if notebook else None
    if named is None:
        raise checker.Problem(f"the self-checks of {', '.join(found)} are installed and {notebook or 'the notebook'} "
                              f"does not say which it is; add -a ASSIGNMENT")
    return found[named]


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    bundle = _take(argv, "--bundle")  # a release folder instead of the installed checks (TAs, check.py)
    assignment = _take(argv, "-a", "--assignment")
    if any(a in ("-h", "--help") for a in argv):
        return _run([*argv], bundle or ".")
    try:
        reason = deps.platform_problem()
        if reason:
            raise checker.Problem(reason)
        meta = checker.read_meta(Path(bundle) if bundle else resolve(argv, assignment))
        if assignment and meta["assignment"] != assignment:
            raise checker.Problem(f"{bundle} is the self-check of {meta['assignment']}, not {assignment}")
        lacking = deps.missing(meta["requires"])
        if lacking:
            raise checker.Problem(deps.message(lacking))
    except checker.Problem as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    return _run(argv, str(meta["dir"]))


def _run(argv, bundle) -> int:
    try:
        from grader import selfcheck
    except ModuleNotFoundError as exc:
        print(f"{PROG}: {deps.message([deps.pip_name(exc.name or '')])}", file=sys.stderr)
        return 2
    return selfcheck.main([*argv, "--bundle", bundle], prog=PROG)

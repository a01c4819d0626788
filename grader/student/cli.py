"""``dlgrade-check NOTEBOOK [ITEM ...]`` (and ``python -m dlgrade_check``): the self-check in a terminal.

Exit 0 when the check ran, 2 when it could not (a missing package, no such
notebook, an unreadable one, an unknown item): one line on stderr says why.
"""
from __future__ import annotations

import sys
from pathlib import Path

from grader.student import checker, deps

PROG = "dlgrade-check"


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    bundle = None
    if "--bundle" in argv:  # a release folder instead of the installed checks (TAs, check.py)
        i = argv.index("--bundle")
        bundle = argv[i + 1] if i + 1 < len(argv) else None
        del argv[i: i + 2]
    if any(a in ("-h", "--help") for a in argv):
        return _run([*argv], bundle or str(checker.BUNDLE_DIR))
    try:
        reason = deps.platform_problem()
        if reason:
            raise checker.Problem(reason)
        if bundle is None and not checker.BUNDLE_DIR.is_dir():
            raise checker.Problem(f"this dlgrade_check holds no assignment; {checker.INSTALL}")
        meta = checker.read_meta(Path(bundle) if bundle else checker.BUNDLE_DIR)
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

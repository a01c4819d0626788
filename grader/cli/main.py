"""The ``dlgrade`` command."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from rich.table import Table

from grader import batch, export, manual, report, selfcheck
from grader.authoring import calibrate, release, skeleton, validate
from grader.cli.render import console, err, print_result, summary_table
from grader.model import MODES, Options, SubmissionResult, plain_text
from grader.pipeline import failed_submission, grade_file
from grader.pipeline.executed import write_executed
from grader.pipeline.keys import cache_dir, clear_cache
from grader.pipeline.load import SubmissionError, read_submission
from grader.rubric import RubricError, examples_dir, get_rubric, load_rubric, rubric_paths
from grader import sandbox
from grader.sandbox import IsolationUnavailable


class CliError(Exception):
    """A command that cannot do what was asked: one line on stderr (``dlgrade: ...``) and the exit code."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def _fail(message: str, code: int = 2) -> int:
    """Print ``dlgrade: message`` as one line (never wrapped, never read as rich markup); return ``code``."""
    err.print(f"dlgrade: {message}", markup=False, soft_wrap=True)
    return code


NO_BWRAP = ("bubblewrap (bwrap) is not usable here, so student code could read the answer keys. "
            "Install it (`apt-get install bubblewrap`) or pass --unsafe to run without isolation.")


def _assignments() -> list[str]:
    return [p.stem for p in rubric_paths()]


def _guess_assignment(path: Path) -> str:
    """From the notebook's ``dlgrade`` metadata, else from the file name."""
    if path.suffix == ".ipynb" and path.is_file():
        try:
            meta = json.loads(path.read_text()).get("metadata", {}).get("dlgrade", {})
            if meta.get("assignment") in _assignments():
                return meta["assignment"]
        except (ValueError, OSError, AttributeError):
            pass
    hits = [a for a in _assignments() if a in path.name or a.replace("-", "_") in path.name]
    if len(hits) == 1:
        return hits[0]
    raise CliError(f"cannot tell which assignment {path.name} is; pass -a ASSIGNMENT "
                   f"(one of: {', '.join(_assignments())})")


# ----------------------------------------------------------------------------
# commands


def cmd_list(args):
    rows = []
    for p in rubric_paths():
        try:
            r = load_rubric(p)
        except RubricError as exc:
            _fail(str(exc))
            continue
        rows.append(r)
    if args.json:
        print(json.dumps([{"assignment": r.assignment, "title": r.title, "version": r.version,
                           "items": [{"id": i.id, "title": i.title, "points": i.points, "visibility": i.visibility,
                                      "manual": i.manual} for i in r.items]} for r in rows], indent=1))
        return 0
    for r in rows:
        t = Table(title=f"{r.assignment}: {r.title} (v{r.version}, {r.max_points:g} points)")
        for col in ("item", "title", "points", "kind"):
            t.add_column(col)
        for i in r.items:
            kind = "manual" if i.manual else i.visibility
            t.add_row(i.id, i.title, f"{i.points:g}", kind)
        console.print(t)
    return 0


def cmd_check(args):
    path = Path(args.notebook)
    if args.bundle:
        return selfcheck.main([str(path), "--bundle", args.bundle] + (["--json"] if args.json else []),
                              prog="dlgrade check")
    if not os.path.lexists(path):
        raise CliError(f"{path} does not exist")
    try:  # an unreadable notebook is one line and exit 2, with or without -a (nothing was checked)
        sub = read_submission(path)
    except SubmissionError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"{path} could not be read ({exc.strerror or exc})") from None
    declared = sub.assignment if sub.assignment in _assignments() else None  # also a folder's notebooks
    assignment = args.assignment or declared or _guess_assignment(path)
    opts = Options(public_only=not args.all_items, unsafe=True, mode=args.mode)
    res = grade_file(path, assignment, opts=opts)
    if args.executed:
        if res.notebook:
            write_executed(args.executed, res.notebook)
            (err if args.json else console).print(f"executed notebook: {args.executed}")
        else:
            (err if args.json else console).print("no executed notebook: no item ran in full mode (--mode full)")
    if args.json:
        print(json.dumps({**res.to_dict(), "notebook": None}, default=str))
    else:
        print_result(res)
        if not args.all_items:
            console.print("Public items only: the hidden items are graded after you submit.")
    return 0


def write_jsonl(results, path: Path):
    """Full results, one JSON object per line (read back by `dlgrade report`)."""
    with open(path, "w") as f:
        for r in results:
            f.write(json.dumps(r.to_dict(), default=str) + "\n")


def _outputs_ready(args) -> bool:
    """Create the folders of every output before grading starts (never fail after a long batch)."""
    for target in (args.out, args.json):
        if target:
            try:
                batch.check_out_path(Path(target))
            except batch.BatchError as exc:
                _fail(str(exc))
                return False
    if args.report:
        folder = Path(args.report)
        if folder.exists() and not folder.is_dir():
            _fail(f"--report {folder} is a file; give a folder for the HTML pages")
            return False
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            _fail(f"cannot create the folder {folder} for --report ({exc.strerror or exc})")
            return False
        if not os.access(folder, os.W_OK):
            _fail(f"cannot write the HTML pages: the folder {folder} is not writable")
            return False
    return True


def _gradebook_results(db: Path, assignment: str) -> tuple[list[SubmissionResult], dict]:
    with batch.Gradebook.open(db, create=False) as gb:
        rows = gb.latest_results(assignment)
        manual = gb.manual_marks(assignment)
    return [SubmissionResult.from_dict(d) for d in rows], manual


def _write_outputs(results, manual, rubric, *, out=None, jsonl=None, report_dir=None):
    if out:
        export.export(results, rubric, "csv", Path(out), manual=manual)
    if jsonl:
        write_jsonl(results, Path(jsonl))
    if report_dir:
        console.print(f"report: {report.write_reports(results, rubric, report_dir, manual=manual)}")


def cmd_grade(args):
    rubric = get_rubric(args.assignment)
    if args.item:
        unknown = [i for i in args.item if i not in {it.id for it in rubric.items}]
        if unknown:
            return _fail(f"{rubric.assignment} has no item {', '.join(unknown)}; "
                         f"items: {', '.join(i.id for i in rubric.items)}")
    if not _outputs_ready(args):
        return 2
    try:
        summary = batch.run_from_args(args, stream=sys.stderr)
    except batch.BatchError as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted before grading started; nothing was changed", 130)
    for line in summary.lines():
        err.print(line, markup=False)  # file names of the class folder: text, never markup
    results, manual = _gradebook_results(summary.db_path, rubric.assignment)
    results += _skipped_rows(summary, rubric, {r.student for r in results})
    if not args.quiet:
        summary_table(results, rubric, manual)
    _write_outputs(results, manual, rubric, out=args.out, jsonl=args.json, report_dir=args.report)
    console.print(f"gradebook: {summary.db_path}" + (f"; CSV: {args.out}" if args.out else ""))
    return summary.exit_code


def _skipped_rows(summary, rubric, graded: set[str]) -> list[SubmissionResult]:
    """A row for every entry of the class folder that was not graded (a .pdf, a refused zip, a FIFO...)."""
    rows = []
    for s in summary.skipped:
        if s.category in ("older_upload", "hidden"):
            continue  # listed in the summary; the student has a row of their own
        p = Path(s.path)
        sid = plain_text(s.student_id or (p.stem if p.suffix else p.name))
        if sid in graded:
            continue
        reason = s.reason if s.reason.startswith("not graded") else f"not graded: {s.reason}"
        row = failed_submission(Path(s.path), rubric, Options(), reason)
        rows.append(dataclasses.replace(row, student=sid))
        graded.add(sid)
    return sorted(rows, key=lambda r: r.student)


def cmd_report(args):
    if args.db:
        if not args.assignment:
            return _fail("report --db needs -a ASSIGNMENT")
        try:
            results, manual = _gradebook_results(Path(args.db), args.assignment)
        except batch.GradebookError as exc:
            return _fail(str(exc))
    elif args.results:
        try:
            with open(args.results, encoding="utf-8") as f:
                results = [SubmissionResult.from_dict(json.loads(line)) for line in f if line.strip()]
        except OSError as exc:
            return _fail(f"{args.results} cannot be read ({exc.strerror or exc})")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            return _fail(f"{args.results} is not a JSON-lines file of results written by `dlgrade grade --json` "
                         f"({detail})")
        manual = {}
    else:
        return _fail("report needs a results file (grade --json) or --db GRADEBOOK -a ASSIGNMENT")
    if not results:
        return _fail(f"no results to report in {args.db or args.results}")
    index = report.write_reports(results, get_rubric(args.assignment or results[0].assignment), args.out,
                                 manual=manual)
    console.print(f"wrote {index}")
    return 0


def cmd_export(args):
    rubric = get_rubric(args.assignment)
    try:
        results, manual = _gradebook_results(Path(args.db), rubric.assignment)
        out = export.export(results, rubric, args.format, Path(args.out), manual=manual)
    except (batch.GradebookError, export.ExportError) as exc:
        return _fail(str(exc))
    console.print(f"wrote {out} ({args.format}, {len(results)} students)")
    return 0


def cmd_manual_export(args):
    rubric = get_rubric(args.assignment)
    try:
        results, marks = _gradebook_results(Path(args.db), rubric.assignment)
    except batch.GradebookError as exc:
        return _fail(str(exc))
    sheet = manual.export_manual(results, rubric, args.out, marks=marks)
    console.print(f"wrote {sheet} and one review page per manual item beside it (TA only: model answers inside); "
                  f"fill in the marks, then `dlgrade manual import {sheet} --db {args.db} -a {rubric.assignment}`")
    return 0


def cmd_manual_import(args):
    rubric = get_rubric(args.assignment)
    try:
        with batch.Gradebook.open(Path(args.db), create=False) as gb:
            rows = manual.import_marks(args.marks, rubric, gb.students())
            gb.set_manual_marks(rows)
    except (manual.ManualMarksError, batch.GradebookError) as exc:
        return _fail(f"{exc}; nothing was imported")
    console.print(f"imported {len(rows)} marks into {args.db}")
    return 0


def cmd_validate(args):
    if not args.unsafe and "namespaces" not in sandbox.available_layers():
        return _fail(NO_BWRAP, 3)  # before any answer key is built
    names = [args.assignment] if args.assignment else _assignments()
    findings = []
    for a in names:
        rubric = get_rubric(a)
        with console.status(f"validating {a}") as st:
            findings += validate.validate(rubric, full=args.full, unsafe=args.unsafe,
                                 progress=lambda s, a=a: st.update(f"validating {a}: {s}"))
    if args.json:
        print(json.dumps([f.__dict__ for f in findings], indent=1))
    else:
        t = Table(title="dlgrade validate")
        for col in ("assignment", "check", "ok", "detail"):
            t.add_column(col, overflow="fold")
        for f in findings:
            t.add_row(f.assignment, f.what, "[green]ok[/]" if f.ok else "[red]FAIL[/]", f.detail)
        console.print(t)
    bad = [f for f in findings if not f.ok]
    (err if args.json else console).print(f"{len(findings) - len(bad)} of {len(findings)} validations pass")
    return 1 if bad else 0


def cmd_calibrate(args):

    rubric = get_rubric(args.assignment)
    with console.status(f"calibrating {args.assignment}") as st:
        bands = calibrate.calibrate(rubric, seeds=args.seeds, margin=args.margin, items=tuple(args.item or ()),
                          full=not args.quick, progress=lambda s: st.update(f"calibrating {s}"))
    for item, checks in bands.items():
        for name, b in checks.items():
            console.print(f"{item} / {name}: band [{b['band'][0]:.6g}, {b['band'][1]:.6g}] from {b['seeds']} seeds "
                          f"({b['failures']} failed), {b['date']}")
    return 0


def cmd_release(args):

    try:
        out = release.build(get_rubric(args.assignment), args.out)
    except release.ReleaseError as exc:
        err.print(f"dlgrade: {exc}", markup=False)
        return 2
    except OSError as exc:
        err.print(f"dlgrade: cannot write the bundle into {args.out}: {exc.strerror or exc}", markup=False)
        return 2
    wheel = next(out.glob(f"{release.PACKAGE}-*.whl"))
    console.print(f"wrote {out}/ (README.md, the skeleton, {wheel.name}): give it to students; they "
                  f"`pip install {wheel.name}`, then run `check(\"ID\")` in the notebook or `dlgrade-check NOTEBOOK`")
    return 0


def cmd_skeleton(args):

    names = _assignments() if args.all or not args.assignment else [args.assignment]
    for a in names:
        path = skeleton.write(get_rubric(a))
        console.print(f"wrote {path}")
    return 0


def cmd_demo(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    examples = examples_dir()
    folders = [d for d in sorted(examples.iterdir()) if d.is_dir() and (d.name in _assignments())] \
        if examples.exists() else []
    if args.assignment:
        folders = [d for d in folders if d.name == args.assignment]
    if not folders:
        return _fail(f"no example submissions in {examples}")
    for d in folders:
        rubric = get_rubric(d.name)
        db = out / f"{d.name}.gradebook.sqlite"
        try:
            summary = batch.run_batch(d, rubric, db_path=db, opts=Options(unsafe=args.unsafe), regrade=True,
                                      progress="quiet" if args.quiet else "auto", stream=sys.stderr,
                                      executed_dir=out / d.name)
        except batch.BatchError as exc:
            return _fail(str(exc), exc.exit_code)
        results, marks = _gradebook_results(summary.db_path, rubric.assignment)
        summary_table(results, rubric, marks)
        _write_outputs(results, marks, rubric, out=out / f"{d.name}.csv", jsonl=out / f"{d.name}.jsonl",
                       report_dir=out / d.name)
    console.print(f"results in {out}/: a gradebook, CSV, JSON lines and HTML feedback per assignment; "
                  f"open {out}/<assignment>/index.html")
    return 0


def cmd_cache_clear(args):
    n = clear_cache(args.assignment)
    console.print(f"removed {n} cached key set{'s' if n != 1 else ''} from {cache_dir()}")
    return 0


def _mode_argument(s) -> None:
    s.add_argument("--mode", choices=MODES, default="auto",
                   help="slice: run only what the graded functions need (items marked `needs: full` are not run); "
                        "full: execute the whole notebook cell by cell in the sandbox and grade every item against it; "
                        "auto (default): slice, plus full execution for `needs: full` items and for a submission "
                        "whose slice failed a statement a graded function needs")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dlgrade", description="Reference solutions and a sandboxed autograder "
                                "for the deep-learning-theory course.")
    p.add_argument("--course", metavar="DIR", help="a course directory (rubrics/, skeletons/, examples/); "
                   "default: $DLGRADE_COURSE, else the course shipped with dlgrade")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="assignments and their items")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_list)

    s = sub.add_parser("check", help="student self-check of a notebook (public items)")
    s.add_argument("notebook")
    s.add_argument("-a", "--assignment")
    s.add_argument("--all-items", action="store_true", help="hidden items too, said in words as a student reads "
                   "them (no expected values; --json has every number)")
    s.add_argument("--bundle", metavar="DIR", help="check with a release bundle (no reference needed)")
    _mode_argument(s)
    s.add_argument("--executed", metavar="FILE", help="write the executed notebook here (full mode)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_check)

    s = sub.add_parser("grade", help="grade a class folder into a resumable gradebook (parallel, or on Dask)")
    s.add_argument("directory")
    s.add_argument("-a", "--assignment", required=True)
    s.add_argument("--out", help="also export the plain CSV (one row per student) to this file")
    s.add_argument("--json", help="also write full results as JSON lines to this file")
    s.add_argument("--report", metavar="DIR", help="also write HTML feedback (one page per student + overview)")
    s.add_argument("--full", action="store_true", help="also run the long (full) checks")
    s.add_argument("--item", action="append", help="only this item (repeatable)")
    s.add_argument("--unsafe", action="store_true", help="grade even without sandbox isolation")
    _mode_argument(s)
    batch.add_grade_arguments(s)
    s.set_defaults(fn=cmd_grade)

    s = sub.add_parser("report", help="HTML feedback pages from a gradebook (or saved JSON lines)")
    s.add_argument("results", nargs="?", help="JSON lines written by `dlgrade grade --json` (or use --db)")
    s.add_argument("--db", metavar="FILE", help="the gradebook written by `dlgrade grade`")
    s.add_argument("-a", "--assignment", help="the assignment (needed with --db)")
    s.add_argument("--out", default="report")
    s.set_defaults(fn=cmd_report)

    s = sub.add_parser("export", help="grades from a gradebook as CSV, Canvas, Moodle or Gradescope files")
    s.add_argument("--db", metavar="FILE", required=True)
    s.add_argument("-a", "--assignment", required=True)
    s.add_argument("--format", choices=export.FORMATS, default="csv")
    s.add_argument("--out", required=True, help="a file (csv, canvas, moodle) or a folder (gradescope)")
    s.set_defaults(fn=cmd_export)

    s = sub.add_parser("manual", help="manual items (proofs, prose): review pages and a marks sheet")
    msub = s.add_subparsers(dest="manual_command", required=True)
    m = msub.add_parser("export", help="a review page per manual item and marks.csv to fill in")
    m.add_argument("--db", metavar="FILE", required=True)
    m.add_argument("-a", "--assignment", required=True)
    m.add_argument("--out", required=True, metavar="DIR")
    m.set_defaults(fn=cmd_manual_export)
    m = msub.add_parser("import", help="merge a filled-in marks.csv into the gradebook (all rows or none)")
    m.add_argument("marks", help="the marks.csv written by `dlgrade manual export`")
    m.add_argument("--db", metavar="FILE", required=True)
    m.add_argument("-a", "--assignment", required=True)
    m.set_defaults(fn=cmd_manual_import)

    s = sub.add_parser("validate", help="reference 100%%, skeleton 0, every mutant caught and named")
    s.add_argument("-a", "--assignment")
    s.add_argument("--full", action="store_true")
    s.add_argument("--unsafe", action="store_true")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_validate)

    s = sub.add_parser("calibrate", help="bands for stochastic items from the reference over many seeds")
    s.add_argument("assignment")
    s.add_argument("--seeds", type=int, help="seed count (default: the rubric's, else 200)")
    s.add_argument("--margin", type=float, default=0.25, help="widen the quantile range by this share of its width")
    s.add_argument("--item", action="append")
    s.add_argument("--quick", action="store_true", help="skip checks marked full")
    s.set_defaults(fn=cmd_calibrate)

    s = sub.add_parser("release", help="student bundle: skeleton + frozen public checks, no reference code")
    s.add_argument("assignment")
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_release)

    s = sub.add_parser("skeleton", help="(re)generate skeleton notebooks from the reference")
    s.add_argument("assignment", nargs="?")
    s.add_argument("--all", action="store_true")
    s.set_defaults(fn=cmd_skeleton)

    s = sub.add_parser("cache", help="the answer-key cache ($DLGRADE_CACHE, default ~/.cache/dlgrade)")
    cache_sub = s.add_subparsers(dest="cache_command", required=True)
    c = cache_sub.add_parser("clear", help="remove cached answer keys (they are rebuilt when needed)")
    c.add_argument("-a", "--assignment", help="only this assignment's keys")
    c.set_defaults(fn=cmd_cache_clear)

    s = sub.add_parser("demo", help="grade the bundled example submissions")
    s.add_argument("-a", "--assignment")
    s.add_argument("--out", default="demo-out")
    s.add_argument("--unsafe", action="store_true")
    s.add_argument("--quiet", action="store_true", help="no progress output")
    s.set_defaults(fn=cmd_demo)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.course:
        if not Path(args.course, "rubrics").is_dir():
            return _fail(f"--course {args.course}: no rubrics/ folder there")
        os.environ["DLGRADE_COURSE"] = str(Path(args.course).resolve())
    try:
        return args.fn(args)
    except CliError as exc:
        return _fail(str(exc), exc.code)
    except RubricError as exc:
        return _fail(str(exc))
    except IsolationUnavailable:
        return _fail(NO_BWRAP, 3)


if __name__ == "__main__":
    sys.exit(main())

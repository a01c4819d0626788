"""The executed notebook of a full-mode run: the submission's cells with the outputs the sandbox captured.

Built on the trusted side, with :mod:`nbformat`, from plain data only: the
cells as :func:`~grader.pipeline.load.read_submission` read them (nothing of
the original outputs is copied) and the per-cell reports that came back over
the supervisor's capped channel (:func:`grader.sandbox.supervisor.cell_report`).
Everything the student's code printed is a ``stream`` or ``text/plain`` output
and every figure an ``image/png``; no output of ours is HTML, JavaScript or
markdown, so opening the notebook renders nothing the student wrote as a page.
The grader never executes or renders it either: it is written for the TA.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import nbformat

from grader.model import plain_text
from grader.pipeline.extract import cell_label
from grader.pipeline.load import Submission

NOTE = "[dlgrade] "
SUFFIX = ".executed.ipynb"


def _lines(text: str) -> str:
    return plain_text(text)


def _outputs(report: dict | None, execution_count: int | None, note: str | None) -> list:
    v4 = nbformat.v4
    out = []
    if note:
        out.append(v4.new_output("stream", name="stderr", text=f"{NOTE}{note}: not run in full mode\n"))
    if report is None:
        return out
    for o in report.get("outputs", []):
        kind = o.get("type")
        if kind == "stream":
            out.append(v4.new_output("stream", name=o["name"], text=_lines(o["text"])))
        elif kind == "result":
            out.append(v4.new_output("execute_result", data={"text/plain": _lines(o["text"])},
                                     execution_count=execution_count))
        elif kind == "display":
            out.append(v4.new_output("display_data", data={"text/plain": _lines(o["text"])}))
        elif kind == "figure":
            out.append(v4.new_output("display_data", data={"image/png": o["png"], "text/plain": "<Figure>"}))
        elif kind == "error":
            out.append(v4.new_output("error", ename=_lines(o["ename"]) or "Error", evalue=_lines(o["evalue"]),
                                     traceback=[_lines(t).rstrip("\n") for t in o.get("traceback", [])]))
    status = report.get("status")
    err = report.get("error") or {}
    if status in ("crashed", "timeout") and not any(o.get("type") == "error" for o in report.get("outputs", [])):
        out.append(v4.new_output("stream", name="stderr", text=f"{NOTE}{_lines(err.get('message', status))}\n"))
    elif status == "not_run":
        out.append(v4.new_output("stream", name="stderr", text=f"{NOTE}{_lines(err.get('message', 'not run'))}\n"))
    return out


def executed_notebook(sub: Submission, cells: list[dict], reports: list[dict], *, stopped: dict | None = None,
                      seconds: float | None = None) -> dict:
    """The notebook ``sub`` with the outputs of ``reports`` (one per entry of ``cells``), as a JSON-able dict.

    ``cells`` are the :func:`~grader.pipeline.extract.execution_cells` the sandbox ran; a cell without a
    report (the execution ended before it) gets a note instead of outputs.
    """
    v4 = nbformat.v4
    nb = v4.new_notebook()
    by_label = {c["label"]: (c, r) for c, r in zip(cells, reports)}
    notes = {c["label"]: c.get("note") for c in cells}
    count = 0
    for cell in sub.cells:
        if cell.kind == "markdown":
            nb.cells.append(v4.new_markdown_cell(cell.source))
            continue
        label = cell_label(sub, cell)
        _, report = by_label.get(label, (None, None))
        ran = report is not None and report.get("status") not in ("not_run",) and not notes.get(label)
        if ran:
            count += 1
        code = v4.new_code_cell(cell.source, execution_count=count if ran else None)
        code.outputs = _outputs(report, count if ran else None, notes.get(label))
        meta = {"label": label, "status": report.get("status") if report else "not_run"}
        if report is not None:
            meta["seconds"] = report.get("seconds", 0.0)
        code.metadata["dlgrade"] = meta
        nb.cells.append(code)
    nb.metadata["dlgrade"] = {"executed": "dlgrade full mode: the cells ran in order in the sandbox; outputs "
                                          "captured there (capped), figures as PNG",
                              "student": sub.student,
                              "stopped": stopped.get("message") if stopped else None,
                              "seconds": seconds}
    return json.loads(json.dumps(nb))


def write_executed(path: str | Path, notebook: dict) -> Path:
    """Write ``notebook`` (a dict from :func:`executed_notebook`) to ``path`` atomically (a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    node = nbformat.from_dict(notebook)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            nbformat.write(node, f, version=4)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

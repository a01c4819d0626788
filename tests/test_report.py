"""HTML feedback pages and the class overview."""
from __future__ import annotations


import pytest

from grader.pipeline import grade_file
from grader.report import write_reports


def test_reports(tmp_path, toy_rubric, toy_source):
    from conftest import replace_function, write_notebook

    good = write_notebook(tmp_path / "ann.ipynb", [toy_source])
    bad_src = replace_function(toy_source, "double", "def double(x):\n    return 3.0 * np.asarray(x)\n")
    bad = write_notebook(tmp_path / "ben.ipynb", [bad_src])
    (tmp_path / "cy.ipynb").write_text("{")
    results = [grade_file(p, toy_rubric) for p in (good, bad, tmp_path / "cy.ipynb")]
    index = write_reports(results, toy_rubric, tmp_path / "report")
    overview = index.read_text()
    assert "3 submissions" in overview and "double__tripled" in overview
    ben = (tmp_path / "report" / "ben.html").read_text()
    assert "You tripled instead of doubling." in ben and ben.count("You tripled instead of doubling.") == 1
    assert "Because." not in ben, "model answers must never reach a student page"
    assert "not valid JSON" in (tmp_path / "report" / "cy.html").read_text()


def test_report_shows_saved_figures(tmp_path, toy_rubric, toy_source):
    import base64

    import nbformat

    nb = nbformat.v4.new_notebook()
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 20).decode()
    cell = nbformat.v4.new_code_cell(toy_source)
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png})]
    nb.cells = [cell]
    p = tmp_path / "dee.ipynb"
    p.write_text(nbformat.writes(nb))
    write_reports([grade_file(p, toy_rubric)], toy_rubric, tmp_path / "r")
    assert f"data:image/png;base64,{png}" in (tmp_path / "r" / "dee.html").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ["dln-dynamics", "signal-propagation"])
def test_reference_figures_in_report(assignment, tmp_path, monkeypatch):
    from grader.report import reference_figures
    from grader.rubric import get_rubric

    monkeypatch.setenv("DLGRADE_CACHE", str(tmp_path / "cache"))
    figs = reference_figures(get_rubric(assignment), tmp_path / "r")
    assert len(figs) >= 3
    for _, src in figs:
        png = (tmp_path / "r" / src).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000

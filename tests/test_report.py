"""HTML feedback pages and the class overview."""
from __future__ import annotations


import pytest

from grader.pipeline import grade_file
from grader.report import write_reports


def test_reports(tmp_path, toy_rubric, toy_source):
    from helpers import replace_function, write_notebook

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
    import struct
    import zlib

    import nbformat

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    # a valid 1x1 grey PNG (only valid PNGs are shown: tests/test_figures.py)
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b"")).decode()
    nb = nbformat.v4.new_notebook()
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


# ----------------------------------------------------------------------------
# page names, escaping, the class overview

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_export import graded  # noqa: E402,F401 - the graded toy class fixture


@given(st.text(max_size=60), st.text(max_size=60))
def test_page_names_are_injective(a, b):
    from grader.names import page_name

    assert (page_name(a) == page_name(b)) == (a == b)
    # lower case only: distinct on case-insensitive file systems too
    assert page_name(a).lower() == page_name(a) and page_name(a) != "index.html"
    assert "/" not in page_name(a) and not page_name(a).startswith(".") and len(page_name(a)) <= 255


def test_page_names_of_look_alike_students():
    from grader.names import page_name

    names = ["li wei", "li_wei", "Li Wei", "li-wei", "index", "INDEX", "_69ndex", "", ".hidden", "..", "a" * 300,
             "con", "nul", "com1", "con.x"]
    pages = [page_name(n) for n in names]
    assert len(set(pages)) == len(names)
    assert not {"index.html", "con.html", "nul.html", "com1.html", "con.x.html"} & set(pages)
    assert page_name("alice") == "alice.html" and page_name("12345") == "12345.html"


def test_no_student_overwrites_another_or_the_index(graded, toy_rubric, tmp_path):
    import dataclasses

    from grader.names import page_name

    r = graded[0]
    people = [dataclasses.replace(r, student=s, error=f"note for {s}") for s in ("index", "li wei", "li_wei", "Li Wei")]
    index = write_reports(people, toy_rubric, tmp_path / "r", with_reference_figures=False)
    assert "class overview" in index.read_text()
    for s in ("index", "li wei", "li_wei", "Li Wei"):
        page = (tmp_path / "r" / page_name(s)).read_text()
        assert f"feedback for {s}<" in page and f"note for {s}<" in page
    assert len(list((tmp_path / "r").glob("*.html"))) == 5
    with pytest.raises(ValueError, match="appears twice"):
        write_reports([r, r], toy_rubric, tmp_path / "r2", with_reference_figures=False)


EVIL = "<img src=x onerror=console.error('xss')>"


def test_everything_from_submissions_is_escaped(graded, toy_rubric, tmp_path):
    import dataclasses

    from grader.names import page_name

    r = dataclasses.replace(graded[0], student=EVIL, warnings=("<script>console.error('w')</script>",),
                            error="<b>broken</b>")
    write_reports([r], toy_rubric, tmp_path / "r", with_reference_figures=False)
    for page in (tmp_path / "r" / page_name(EVIL), tmp_path / "r" / "index.html"):
        html = page.read_text()
        assert "<img src=x" not in html and "<script>" not in html and "<b>broken" not in html
        assert "&lt;img src=x onerror=console.error(&#39;xss&#39;)&gt;" in html


def test_overview_numbers(graded, toy_rubric, tmp_path):
    import re

    from grader.export import rows
    from grader.report import overview_stats

    marks = {("101", "T5"): {"mark": 2, "comment": "Clear <and> right.", "who": "ta", "marked_at": "t"}}
    table = rows(graded, toy_rubric, marks)
    stats = overview_stats(table, toy_rubric)
    totals = {row.student: row.total for row in table}
    assert totals == {"101": 7, "102": 3, "103": 4, "104": 0}
    # 7 points: one bin per point, [k, k+1), the top bin closed
    assert [b["count"] for b in stats["histogram"]] == [1, 0, 0, 1, 1, 0, 1]
    t1 = next(s for s in stats["per_item"] if s["id"] == "T1")
    assert (t1["full"], t1["n"], t1["full_rate"]) == (2, 4, 0.5) and t1["mean"] == pytest.approx(1.0)
    t5 = next(s for s in stats["per_item"] if s["id"] == "T5")
    assert (t5["n"], t5["full"], t5["mean"]) == (1, 1, 2)
    assert stats["mistakes"] == [("T1", "double__tripled", 1)]
    assert [s for s, _ in stats["failed"]] == ["104"]
    secs = [r.seconds for r in stats["slowest"]]
    assert secs == sorted(secs, reverse=True) and len(secs) == 4
    index = write_reports(graded, toy_rubric, tmp_path / "r", manual=marks, with_reference_figures=False)
    html = index.read_text()
    assert len(re.findall(r"<rect ", html)) == 7 and "2 / 4 (50 %)" in html
    assert "Submissions that failed to run" in html and 'href="104.html"' in html
    page = (tmp_path / "r" / "101.html").read_text()
    assert "Marked by a TA: Clear &lt;and&gt; right." in page and "total so far <strong>7 / 7" in page

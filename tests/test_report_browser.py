"""The HTML pages in a real headless browser (Debian's ``chromium``): they render, log nothing, are not blank."""
from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess

import numpy as np
import pytest
from test_export import graded  # noqa: F401 - the graded toy class fixture

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)")

EVIL = "<img src=x onerror=console.error('xss')>"


def render(url: str, tmp_path, name: str) -> tuple[np.ndarray, list[str], str]:
    """Screenshot (RGB array), the page's console messages, and the live DOM of ``url``."""
    png = tmp_path / f"{name}.png"
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,900"]
    shot = subprocess.run([*common, "--enable-logging=stderr", "--v=0", f"--screenshot={png}", url],
                          capture_output=True, text=True, timeout=120)
    assert png.exists(), shot.stderr[-2000:]
    console = [line for line in shot.stderr.splitlines() if ":CONSOLE" in line]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    from matplotlib.image import imread

    return imread(png)[..., :3], console, dom


def colours(img: np.ndarray) -> int:
    return len(np.unique((img * 255).astype(np.uint8).reshape(-1, 3), axis=0))


def test_the_checker_sees_console_errors_and_blank_pages(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><html><body><script>console.error('boom'); missing();</script></body></html>")
    img, console, _ = render(bad.as_uri(), tmp_path, "bad")
    assert any("boom" in c for c in console) and any("missing is not defined" in c for c in console)
    assert colours(img) == 1


@pytest.mark.slow  # about 30 s: two browser runs per page
def test_pages_render_without_console_errors(graded, toy_rubric, tmp_path):
    from grader.manual import export_manual
    from grader.names import page_name
    from grader.report import write_reports

    evil = dataclasses.replace(graded[0], student=EVIL, path=graded[0].path)
    results = [*graded, evil]
    marks = {("101", "T5"): {"mark": 1.5, "comment": "<script>console.error('c')</script>", "who": "ta",
                             "marked_at": "t"}}
    index = write_reports(results, toy_rubric, tmp_path / "report", manual=marks, with_reference_figures=False)
    export_manual(results, toy_rubric, tmp_path / "manual", marks=marks)
    pages = {"overview": index, "student": tmp_path / "report" / page_name(EVIL),
             "marked": tmp_path / "report" / "101.html", "manual": tmp_path / "manual" / "T5.html"}
    for name, page in pages.items():
        img, console, dom = render(page.as_uri(), tmp_path, name)
        assert console == [], f"{name}: {console}"
        assert colours(img) > 20, f"{name}: the screenshot is (nearly) blank"
        assert "<img src=\"x\"" not in dom and "<script>console" not in dom, name
        if name == "marked":
            assert "&lt;script&gt;console.error('c')&lt;/script&gt;" in dom
        else:
            assert "&lt;img src=x onerror=console.error('xss')&gt;" in dom, name
        if name == "overview":
            assert len(re.findall(r"<rect ", dom)) == 7 and "Most frequent known mistakes" in dom
            # the histogram is drawn: its bars' blue is in the screenshot
            assert (np.abs(img - np.array([0x4a, 0x78, 0xb5]) / 255).sum(axis=-1) < 0.02).sum() > 1000

"""Intake of a class folder: ids, re-uploads, one row per entry, refused entries, safe zips."""
from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.batch import zips
from grader.batch.intake import IntakeError, discover, materialise, read_payload, safe_name

NB = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def _nb(path: Path, text: str = NB, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _rows(intake):
    return {e.path.name: e for e in intake.entries}, {s.path.name: s for s in intake.skipped}


def test_every_entry_gets_a_row(tmp_path):
    _nb(tmp_path / "alice.ipynb")
    (tmp_path / "bob.py").write_text("def f():\n    return 1\n")
    _nb(tmp_path / "carol" / "hw.ipynb")
    (tmp_path / "essay.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "readme.txt").write_text("hello")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    with zipfile.ZipFile(tmp_path / "dan.zip", "w") as z:
        z.writestr("dan/hw.ipynb", NB)
    intake = discover(tmp_path)
    entries, skipped = _rows(intake)
    assert len(entries) + len(skipped) == len(os.listdir(tmp_path)) == 7
    assert {e.student_id: e.kind for e in intake.entries} == {
        "alice": "notebook", "bob": "module", "carol": "folder", "dan": "zip"}
    assert skipped["essay.pdf"].reason == "not graded: not a notebook or module"
    assert skipped["readme.txt"].reason == "not graded: not a notebook or module"
    assert skipped[".DS_Store"].category == "hidden"
    assert entries["alice.ipynb"].sha256 == hashlib.sha256(NB.encode()).hexdigest()
    assert entries["alice.ipynb"].size == len(NB)


def test_zip_entry_grades_the_extracted_notebook(tmp_path):
    cls = tmp_path / "class"
    with zipfile.ZipFile(_mk(cls) / "dan.zip", "w") as z:
        z.writestr("dan/hw.ipynb", NB)
        z.writestr("__MACOSX/._hw.ipynb", "junk")
        z.writestr("dan/data.csv", "1,2")
    (e,) = discover(cls).entries
    payload = read_payload(e.path, e.kind, cls)
    assert set(payload.files) == {"dan/hw.ipynb"}  # only notebooks and modules travel
    assert payload.sha256 == e.sha256
    out = materialise(payload, _mk(tmp_path / "w"))
    assert (out / "dan" / "hw.ipynb").read_text() == NB


def _mk(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def test_moodle_and_canvas_presets(tmp_path):
    moodle = _mk(tmp_path / "moodle")
    _nb(moodle / "Li Wei_12345_assignsubmission_file_hw2.ipynb")
    _nb(moodle / "Smith Anna_777_assignsubmission_file_" / "hw2.ipynb")
    _nb(moodle / "random.ipynb")
    intake = discover(moodle, id_from="moodle")
    assert [(e.student_id, e.name, e.kind) for e in intake.entries] == [
        ("12345", "Li Wei", "notebook"), ("777", "Smith Anna", "folder")]
    assert intake.skipped[0].path.name == "random.ipynb" and "Moodle" in intake.skipped[0].reason

    canvas = _mk(tmp_path / "canvas")
    _nb(canvas / "liwei_12345_67890_hw2.ipynb", mtime=1000)
    _nb(canvas / "liwei_LATE_12345_67999_hw2-1.ipynb", mtime=2000)
    _nb(canvas / "smithanna_555_1_hw2.ipynb")
    intake = discover(canvas, id_from="canvas")
    assert [(e.student_id, e.path.name) for e in intake.entries] == [
        ("12345", "liwei_LATE_12345_67999_hw2-1.ipynb"), ("555", "smithanna_555_1_hw2.ipynb")]
    (old,) = intake.reuploads
    assert old.path.name == "liwei_12345_67890_hw2.ipynb"
    assert old.reason == "older upload of 12345 (newest graded: liwei_LATE_12345_67999_hw2-1.ipynb)"


def test_id_pattern(tmp_path):
    _nb(tmp_path / "hw2-s0042-final.ipynb")
    _nb(tmp_path / "hw2-nobody.ipynb")
    intake = discover(tmp_path, id_pattern=r"-(?P<id>s\d+)-")
    assert [e.student_id for e in intake.entries] == ["s0042"]
    assert intake.skipped[0].category == "no_id"
    with pytest.raises(IntakeError, match=r"named group \(\?P<id>"):
        discover(tmp_path, id_pattern=r"s\d+")
    with pytest.raises(IntakeError, match="not a valid regular expression"):
        discover(tmp_path, id_pattern=r"(?P<id>")
    with pytest.raises(IntakeError, match="not a folder"):
        discover(tmp_path / "missing")


def test_reupload_newest_by_mtime_is_graded(tmp_path):
    _nb(tmp_path / "bob.ipynb", NB, mtime=2000)
    (tmp_path / "bob.py").write_text("x = 1\n")
    os.utime(tmp_path / "bob.py", (1000, 1000))
    intake = discover(tmp_path)
    assert [(e.student_id, e.path.name) for e in intake.entries] == [("bob", "bob.ipynb")]
    assert [s.path.name for s in intake.reuploads] == ["bob.py"]


def test_names_that_sanitise_alike_get_distinct_ids_and_pages(tmp_path):
    for name in ("li wei", "li_wei", "Li_Wei", "index", "li-wei"):
        _nb(tmp_path / f"{name}.ipynb")
    intake = discover(tmp_path)
    ids = [e.student_id for e in intake.entries]
    assert sorted(ids) == sorted(["li wei", "li_wei", "Li_Wei", "index", "li-wei"])
    pages = {safe_name(i) for i in ids}
    assert len(pages) == len(ids)
    assert safe_name("li-wei") == "li-wei" and safe_name("li_wei") != safe_name("li wei")
    assert safe_name("index") != "index" and safe_name("Li_Wei").lower() != safe_name("li_wei").lower()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=2, max_size=30, unique=True))
def test_safe_name_is_injective_and_never_reserved(ids):
    names = [safe_name(i) for i in ids]
    assert len(set(names)) == len(ids)
    assert len({n.lower() for n in names}) == len(ids)  # also on a case-insensitive file system
    assert all(n not in ("index", "") and "/" not in n and not n.startswith(".") for n in names)


def test_symlinks_never_leave_the_class_folder(tmp_path):
    cls = _mk(tmp_path / "class")
    secret = _nb(tmp_path / "secret.ipynb")
    _nb(cls / "alice.ipynb")
    (cls / "mallory.ipynb").symlink_to(secret)
    (cls / "copy.ipynb").symlink_to(cls / "alice.ipynb")
    _nb(cls / "eve" / "hw.ipynb")
    (cls / "eve" / "key.py").symlink_to(tmp_path / "secret.ipynb")
    (cls / "gone.ipynb").symlink_to(cls / "nothing.ipynb")
    entries, skipped = _rows(discover(cls))
    assert skipped["mallory.ipynb"].reason == "symlink pointing outside the class folder: refused"
    assert "symlink pointing outside the class folder: refused" in skipped["eve"].reason
    assert skipped["gone.ipynb"].category == "unreadable"
    assert entries["copy.ipynb"].sha256 == entries["alice.ipynb"].sha256


def test_hardlink_fifo_and_size_cap_refused_before_reading(tmp_path):
    cls = _mk(tmp_path / "class")
    private = _nb(tmp_path / "shadow.ipynb")
    os.chmod(private, 0o600)
    os.link(private, cls / "linked.ipynb")
    readable = _nb(tmp_path / "reference_like.ipynb")  # world-readable: a link to it is refused all the same
    os.link(readable, cls / "linked2.ipynb")
    os.mkfifo(cls / "pipe.ipynb")  # reading it would block forever
    _nb(cls / "big.ipynb", "x" * 5000)
    _nb(cls / "ok.ipynb")
    intake = discover(cls, max_bytes=1000)
    entries, skipped = _rows(intake)
    assert list(entries) == ["ok.ipynb"]
    assert "hardlink (2 links to one file): refused" in skipped["linked.ipynb"].reason
    assert "hardlink (2 links to one file): refused" in skipped["linked2.ipynb"].reason
    assert "not a regular file" in skipped["pipe.ipynb"].reason
    assert skipped["big.ipynb"].reason == "big.ipynb is 4.9 kB (limit 1.0 kB); not read"
    assert stat.S_ISFIFO(os.stat(cls / "pipe.ipynb").st_mode)


# ----------------------------------------------------------------------------
# zip attacks


def _zip_with(path: Path, name: str, data: bytes = b"x", attr: int | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo(name)
        if attr is not None:
            info.external_attr = attr
        z.writestr(info, data)
    return path


@pytest.mark.parametrize("name,why", [("../evil.py", "leaves the folder"), ("a/../../evil.py", "leaves the folder"),
                                      ("/etc/evil.py", "absolute path"), ("C:/evil.py", "absolute path"),
                                      ("..\\evil.py", "leaves the folder")])
def test_zip_path_traversal_refused(tmp_path, name, why):
    z = _zip_with(tmp_path / "a.zip", name)
    dest = _mk(tmp_path / "out")
    with pytest.raises(zips.ZipRefused, match=why):
        zips.extract(z, dest)
    assert not any(dest.iterdir()) and not (tmp_path / "evil.py").exists()


def test_zip_symlink_nested_and_count_refused(tmp_path):
    z = _zip_with(tmp_path / "link.zip", "hw.ipynb", b"/etc/shadow", attr=(stat.S_IFLNK | 0o777) << 16)
    with pytest.raises(zips.ZipRefused, match="is a symlink"):
        zips.extract(z, tmp_path / "o1")
    z = _zip_with(tmp_path / "nested.zip", "inner.zip", b"PK")
    with pytest.raises(zips.ZipRefused, match="nested archives are refused"):
        zips.extract(z, tmp_path / "o2")
    with zipfile.ZipFile(tmp_path / "many.zip", "w") as zf:
        for i in range(6):
            zf.writestr(f"f{i}.py", "x = 1\n")
    with pytest.raises(zips.ZipRefused, match="6 entries"):
        zips.extract(tmp_path / "many.zip", tmp_path / "o3", max_files=5)
    # a refused zip in a class folder is a skipped row, not a crash
    cls = _mk(tmp_path / "class")
    os.replace(tmp_path / "link.zip", cls / "mallory.zip")
    (cls / "junk.zip").write_bytes(b"not a zip at all")
    intake = discover(cls)
    assert intake.entries == []
    reasons = {s.path.name: s.reason for s in intake.skipped}
    assert "symlink: refused" in reasons["mallory.zip"] and "not a readable zip" in reasons["junk.zip"]


def test_zip_bomb_refused_from_header_and_while_streaming(tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("hw.py", b"0" * 3_000_000)
    assert bomb.stat().st_size < 20_000
    with pytest.raises(zips.ZipRefused, match="unpacks to 3 MB"):
        zips.extract(bomb, tmp_path / "o1", max_bytes=2_000_000)
    # a header that lies about the size: patch both size fields to 1000 bytes
    raw = bytearray(bomb.read_bytes())
    with zipfile.ZipFile(bomb) as z:
        info = z.getinfo("hw.py")
    local = info.header_offset
    raw[local + 22:local + 26] = (1000).to_bytes(4, "little")
    central = raw.rindex(b"PK\x01\x02")
    raw[central + 24:central + 28] = (1000).to_bytes(4, "little")
    liar = tmp_path / "liar.zip"
    liar.write_bytes(bytes(raw))
    with zipfile.ZipFile(liar) as z:
        assert z.getinfo("hw.py").file_size == 1000  # the header passes the size check
    dest = _mk(tmp_path / "o2")
    with pytest.raises(zips.ZipRefused):
        zips.extract(liar, dest, max_bytes=2_000_000)
    assert not any(dest.iterdir())


def test_a_folder_keeps_its_files_times_through_the_worker(tmp_path):
    """Of several versions of a notebook the newest is graded: the copy a worker grades keeps the times."""
    cls = _mk(tmp_path / "class")
    _nb(cls / "zoe" / "hw.ipynb", mtime=5000)
    _nb(cls / "zoe" / "part" / "hw2.ipynb", mtime=1000)
    with zipfile.ZipFile(cls / "yan.zip", "w") as z:
        info = zipfile.ZipInfo("hw.ipynb", date_time=(2024, 5, 17, 12, 30, 0))
        z.writestr(info, NB)
    intake = discover(cls)
    for e in intake.entries:
        payload = read_payload(e.path, e.kind, cls)
        out = materialise(payload, _mk(tmp_path / "w" / e.student_id))
        for rel, t in payload.mtimes.items():
            assert os.stat(out / rel).st_mtime == t
    zoe = read_payload(cls / "zoe", "folder", cls)
    assert zoe.mtimes == {"hw.ipynb": 5000, "part/hw2.ipynb": 1000}
    import time

    yan = read_payload(cls / "yan.zip", "zip", cls)
    assert yan.mtimes == {"hw.ipynb": time.mktime((2024, 5, 17, 12, 30, 0, 0, 0, -1))}

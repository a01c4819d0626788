"""File names for student ids: one injective function, used by reports, exports and the gradebook.

Student ids come from strangers' file names (``li wei``, ``li_wei``, ``Li_Wei``,
``index``, ``../x``): every distinct id must get a distinct, safe file name, on
case-insensitive file systems too, and none may overwrite the class overview.
"""
from __future__ import annotations

import hashlib

__all__ = ["RESERVED", "file_stem", "page_name"]

_KEEP = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")
RESERVED = frozenset({"index", "con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                      *(f"lpt{i}" for i in range(10))})
"""Stems a student page never gets: the report's own page and Windows device names."""


def file_stem(student: str) -> str:
    """A file name for ``student``'s page (no suffix), distinct for every distinct id.

    Lower-case letters, digits, ``-`` and non-leading ``.`` are kept; every
    other character (``_`` and capitals included) becomes ``_`` and two hex
    digits per UTF-8 byte. Decoding gives the id back, so two ids never share
    a stem, not even on a case-insensitive file system; a reserved stem
    (``index``, Windows device names) has its first letter escaped. Stems over 200 characters are
    ``_h`` and the id's sha256.
    """
    out = []
    for i, ch in enumerate(student):
        if ch in _KEEP and not (ch == "." and i == 0):
            out.append(ch)
        else:
            out.append("".join(f"_{b:02x}" for b in ch.encode("utf-8")))
    stem = "".join(out) or "_"
    if stem.split(".", 1)[0] in RESERVED:
        stem = f"_{ord(stem[0]):02x}{stem[1:]}"
    if len(stem) > 200:
        stem = "_h" + hashlib.sha256(student.encode("utf-8")).hexdigest()
    return stem


def page_name(student: str) -> str:
    """The HTML page of ``student`` in a report folder (see :func:`file_stem`)."""
    return file_stem(student) + ".html"

"""Safe extraction of a submitted ``.zip`` (stdlib :mod:`zipfile`).

Refused, before anything is written: absolute paths, ``..``, symlink
entries, encrypted entries, nested zips, more than ``max_files`` entries or
more than ``max_bytes`` uncompressed in the headers. The sizes are counted
again while streaming (a header can lie), so a zip bomb stops at the cap.
"""
from __future__ import annotations

import os
import shutil
import stat
import time
import zipfile
from pathlib import Path, PurePosixPath

MAX_BYTES = 100 * 2**20
MAX_FILES = 500
_CHUNK = 1 << 16


class ZipRefused(ValueError):
    """A zip that is not extracted; the message is the reason, for the summary."""


def _member_path(name: str) -> PurePosixPath:
    clean = name.replace("\\", "/")
    p = PurePosixPath(clean)
    if clean.startswith("/") or (len(clean) > 1 and clean[1] == ":"):
        raise ZipRefused(f"zip entry {name!r} has an absolute path: refused")
    if ".." in p.parts:
        raise ZipRefused(f"zip entry {name!r} leaves the folder ('..'): refused")
    return p


def check_members(zf: zipfile.ZipFile, *, max_bytes: int = MAX_BYTES, max_files: int = MAX_FILES) -> list[zipfile.ZipInfo]:
    """The zip's entries after the header checks; raises :class:`ZipRefused`."""
    infos = zf.infolist()
    if len(infos) > max_files:
        raise ZipRefused(f"zip holds {len(infos)} entries (limit {max_files}): refused")
    total = sum(i.file_size for i in infos)
    if total > max_bytes:
        raise ZipRefused(f"zip unpacks to {total / 2**20:.0f} MB (limit {max_bytes / 2**20:.0f} MB): refused")
    for info in infos:
        _member_path(info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ZipRefused(f"zip entry {info.filename!r} is a symlink: refused")
        if info.flag_bits & 0x1:
            raise ZipRefused(f"zip entry {info.filename!r} is password-protected: refused")
        if not info.is_dir() and info.filename.lower().endswith((".zip", ".jar", ".whl", ".7z", ".rar", ".tar", ".gz")):
            raise ZipRefused(f"zip holds another archive ({info.filename}); nested archives are refused, "
                             "submit the notebook itself")
    return infos


def extract(zip_path: str | Path, dest: str | Path, *, max_bytes: int = MAX_BYTES,
            max_files: int = MAX_FILES) -> list[Path]:
    """Extract ``zip_path`` into the empty folder ``dest``; the regular files written.

    On refusal ``dest`` is emptied again and :class:`ZipRefused` says why.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ValueError(f"{dest} is not empty")
    written: list[Path] = []
    try:
        try:
            zf = zipfile.ZipFile(zip_path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ZipRefused(f"not a readable zip ({exc})") from None
        with zf:
            infos = check_members(zf, max_bytes=max_bytes, max_files=max_files)
            total = 0
            for info in infos:
                rel = _member_path(info.filename)
                target = dest.joinpath(*rel.parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                size = 0
                with zf.open(info) as src, open(target, "xb") as out:
                    while chunk := src.read(_CHUNK):
                        size += len(chunk)
                        total += len(chunk)
                        if size > info.file_size or total > max_bytes:
                            raise ZipRefused(f"zip entry {info.filename!r} unpacks to more than its header says "
                                             f"or past the {max_bytes / 2**20:.0f} MB limit: refused")
                        out.write(chunk)
                try:  # the member's own time, so the newest of several versions is known (choose_files)
                    stamp = time.mktime((*info.date_time, 0, 0, -1))
                    os.utime(target, (stamp, stamp))
                except (OverflowError, ValueError, OSError):
                    pass
                written.append(target)
    except ZipRefused:
        _empty(dest)
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        _empty(dest)
        raise ZipRefused(f"zip could not be extracted ({type(exc).__name__}: {exc})") from None
    return written


def _empty(folder: Path):
    for p in folder.iterdir():
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)

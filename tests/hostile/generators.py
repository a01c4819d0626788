"""Submissions made at test time (big, special or linked files are never committed) and host probes."""
from __future__ import annotations

import glob
import json
import os
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

from hostile_lib import HERE, REPO, TOY_DIR, pwn_name

HONEST = (HERE / "subs" / "honest.py").read_text()
WORK_ONLY = "import numpy as np\n"  # a folder's honest-but-empty work: nothing graded


def remove(p: Path):
    p = Path(p)
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    elif os.path.lexists(p):
        p.unlink()


def marked_processes() -> list[str]:
    """Processes a hostile submission named ``dlghostile`` (prctl PR_SET_NAME) that are still alive."""
    out = []
    for comm in glob.glob("/proc/[0-9]*/comm"):
        try:
            if Path(comm).read_text().strip() == "dlghostile":
                out.append(comm.split("/")[2])
        except OSError:
            pass
    return out


def leftover_job_dirs(tid: str) -> list[str]:
    """Job dirs still on disk that hold this test's marker file (the attack writes ``<pwn>.marker`` in its cwd)."""
    name = pwn_name(tid) + ".marker"
    found = []
    for pattern in (f"/tmp/*/{name}", f"/tmp/*/*/{name}", f"/tmp/*/*/*/{name}", f"/dev/shm/*/{name}",
                    f"/dev/shm/*/*/{name}", f"/run/*/{name}", f"/run/*/*/{name}"):
        found += glob.glob(pattern)
    return found


def remove_leftover_job_dirs(tid: str):
    """Job dirs this test's attack marked, left behind (e.g. when a hang killed the grader): ours to remove."""
    for marker in leftover_job_dirs(tid):
        job = Path(marker).parent
        top = job.parent if job.name == "job" else job
        shutil.rmtree(top, ignore_errors=True)


def class_folder(tmp: Path, files: list[Path], honest: bool = True) -> Path:
    d = tmp / "class"
    d.mkdir(exist_ok=True)
    for f in files:
        target = d / f.name
        if f.is_dir():
            shutil.copytree(f, target, symlinks=True)
        else:
            shutil.copy(f, target, follow_symlinks=False)
    if honest:
        (d / "z_honest.py").write_text(HONEST)
    return d


def _folder(tmp: Path, name: str, files: dict[str, str]) -> Path:
    d = tmp / name / "s"
    d.mkdir(parents=True)
    for n, text in files.items():
        (d / n).write_text(text)
    return d


def _linked_folder(tmp, target, how="symlink"):
    base = _folder(tmp, "baseline", {"work.py": WORK_ONLY})
    att = _folder(tmp, "attack", {"work.py": WORK_ONLY})
    if how == "symlink":
        (att / "answer.py").symlink_to(target)
    elif how == "hardlink":
        os.link(target, att / "answer.py")
    return att, base


def folder_symlink_reference(tmp, hostile, entry, marks):
    att, base = _linked_folder(tmp, TOY_DIR / "toyref.py")
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def folder_symlink_signal_reference(tmp, hostile, entry, marks):
    att, base = _linked_folder(tmp, REPO / "reference" / "signal_propagation.py")
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def folder_symlink_canary(tmp, hostile, entry, marks):
    att, base = _linked_folder(tmp, hostile.canary_file)
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def folder_symlink_shadow(tmp, hostile, entry, marks):
    att, base = _linked_folder(tmp, "/etc/shadow")
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def folder_dir_symlink(tmp, hostile, entry, marks):
    base = _folder(tmp, "baseline", {"work.py": WORK_ONLY})
    att = _folder(tmp, "attack", {"work.py": WORK_ONLY})
    (att / "lib").symlink_to(TOY_DIR, target_is_directory=True)
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def folder_hardlink_reference(tmp, hostile, entry, marks):
    att, base = _linked_folder(tmp, TOY_DIR / "toyref.py", how="none")
    try:
        os.link(TOY_DIR / "toyref.py", att / "answer.py")
    except OSError:  # another file system: a hardlink to a copy outside the submission instead
        outside = tmp / "outside.py"
        shutil.copy(TOY_DIR / "toyref.py", outside)
        os.link(outside, att / "answer.py")
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def folder_fifo(tmp, hostile, entry, marks):
    att, base = _linked_folder(tmp, None, how="none")
    os.mkfifo(att / "answer.py")
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def folder_devzero(tmp, hostile, entry, marks):
    att, base = _linked_folder(tmp, "/dev/zero")
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def folder_chardev(tmp, hostile, entry, marks):
    att, base = _linked_folder(tmp, None, how="none")
    os.mknod(att / "answer.py", 0o600 | 0o020000, os.makedev(1, 5))  # a character device: /dev/zero's numbers
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def folder_sparse(tmp, hostile, entry, marks):
    att, base = _linked_folder(tmp, None, how="none")
    with open(att / "answer.py", "wb") as f:
        f.write(b"import numpy as np\n")
        f.truncate(8 * 2**30)  # 8 GiB, sparse: no disk used
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def _zip_with_symlink(path: Path, members: dict[str, str], links: dict[str, str]):
    with zipfile.ZipFile(path, "w") as z:
        for n, text in members.items():
            z.writestr(n, text)
        for n, target in links.items():
            info = zipfile.ZipInfo(n)
            info.external_attr = (0o120777 << 16)  # a symlink entry
            info.create_system = 3
            z.writestr(info, target)


def zip_symlink(tmp, hostile, entry, marks):
    (tmp / "baseline").mkdir()
    base = tmp / "baseline" / "s.zip"
    _zip_with_symlink(base, {"work.py": WORK_ONLY}, {})
    att = tmp / "a_s.zip"
    _zip_with_symlink(att, {"work.py": WORK_ONLY}, {"answer.py": str(TOY_DIR / "toyref.py"),
                                                     "up.py": "../../../../../../.." + str(TOY_DIR / "toyref.py")})
    return {"attack": att, "baseline": base, "class_dir": class_folder(tmp, [att]), "honest": ["z_honest"]}


def deflate_bomb(n_bytes: int, prefix: bytes = b"") -> tuple[bytes, int]:
    """A raw deflate stream of ``prefix`` + ``n_bytes`` zeros built by repeating one flushed block (fast)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(2**20)) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush(zlib.Z_FINISH)
    n = n_bytes // 2**20
    return head + block * n + tail, len(prefix) + n * 2**20


def write_zip_member(path: Path, name: str, data: bytes, size: int, crc: int = 0):
    """A one-member zip whose deflated member is ``data`` (``size`` bytes once inflated; CRC not checked up front)."""
    fn = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(fn), 0) + fn
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), size,
                          len(fn), 0, 0, 0, 0, 0, 0) + fn
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    path.write_bytes(local + data + central + end)


def zip_bomb(tmp, hostile, entry, marks):
    (tmp / "baseline").mkdir()
    base = tmp / "baseline" / "bomb.zip"
    with zipfile.ZipFile(base, "w") as z:
        z.writestr("answer.py", HONEST)
    att = tmp / "a_bomb.zip"
    data, size = deflate_bomb(4 * 2**30 - 2**21, HONEST.encode())
    write_zip_member(att, "answer.py", data, size)
    return {"attack": att, "baseline": base, "class_dir": class_folder(tmp, [att]), "honest": ["z_honest"]}


def _notebook(cells: list[dict], metadata: dict | None = None) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata or {}, "cells": cells}


def _code(src: str, outputs=(), metadata=None, i=0) -> dict:
    return {"cell_type": "code", "id": f"c{i}", "metadata": metadata or {}, "source": src,
            "outputs": list(outputs), "execution_count": None}


def notebook_big_output(tmp, hostile, entry, marks):
    (tmp / "baseline").mkdir()
    base = tmp / "baseline" / "nb.ipynb"
    base.write_text(json.dumps(_notebook([_code(HONEST)])))
    att = tmp / "a_nb.ipynb"
    out = {"output_type": "stream", "name": "stdout", "text": "x" * (100 * 2**20)}
    att.write_text(json.dumps(_notebook([_code(HONEST, [out])])))
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def notebook_deep_json(tmp, hostile, entry, marks):
    (tmp / "baseline").mkdir()
    base = tmp / "baseline" / "nb.ipynb"
    base.write_text(json.dumps(_notebook([_code(HONEST)])))
    text = json.dumps(_notebook([_code(HONEST, metadata={"deep": "@DEEP@"})]))
    depth = 200_000
    att = tmp / "a_nb.ipynb"
    att.write_text(text.replace('"@DEEP@"', "[" * depth + "]" * depth))
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def notebook_odd_metadata(tmp, hostile, entry, marks):
    (tmp / "baseline").mkdir()
    base = tmp / "baseline" / "nb.ipynb"
    base.write_text(json.dumps(_notebook([_code(HONEST), {"cell_type": "markdown", "id": "m", "metadata": {},
                                                          "source": "answer"}])))
    att = tmp / "a_nb.ipynb"
    att.write_text(json.dumps(_notebook(
        [_code(HONEST, metadata={"dlgrade": ["not", "a", "dict"]}),
         {"cell_type": "markdown", "id": "m", "metadata": {"dlgrade": {"item": {"T5": 1}}}, "source": "answer"},
         {"cell_type": "markdown", "id": "n", "metadata": {"dlgrade": {"item": ["T5"]}}, "source": ["a", "b"]}],
        metadata={"dlgrade": "toy", "kernelspec": 7})))
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def py_many_lines(tmp, hostile, entry, marks):
    (tmp / "baseline").mkdir()
    base = tmp / "baseline" / "big.py"
    base.write_text(HONEST)
    att = tmp / "a_big.py"
    att.write_text(HONEST + "".join(f"C{i} = {i}\n" for i in range(60_000)))
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


INJECTED_NAMES = ["[bold red]x", '=HYPERLINK("e.example","y")', "<img src=x onerror=alert(1)>",
                  "\x1b[2J\x1b]0;owned\x07esc", "index", "+cmd", "@SUM(1)"]


def injection_names(tmp, hostile, entry, marks):
    d = tmp / "class"
    d.mkdir()
    for n in INJECTED_NAMES:
        (d / f"{n}.py").write_text(HONEST)
    (tmp / "baseline").mkdir()
    base = tmp / "baseline" / "honest.py"
    base.write_text(HONEST)
    att = d / f"{INJECTED_NAMES[1]}.py"
    return {"attack": att, "baseline": base, "class_dir": d, "honest": INJECTED_NAMES, "rows": INJECTED_NAMES}


def class_odd_entries(tmp, hostile, entry, marks):
    """A class folder with a dangling symlink, an unreadable symlink loop and an honest student."""
    d = tmp / "class"
    d.mkdir()
    (d / "a_dangling.py").symlink_to(tmp / "does-not-exist.py")
    (d / "b_loop.py").symlink_to(d / "b_loop.py")
    (d / "z_honest.py").write_text(HONEST)
    (tmp / "baseline").mkdir()
    base = tmp / "baseline" / "empty.py"
    base.write_text(WORK_ONLY)
    return {"attack": d / "a_dangling.py", "baseline": base, "class_dir": d, "honest": ["z_honest"],
            "rows": ["a_dangling", "b_loop", "z_honest"]}


def class_fifo(tmp, hostile, entry, marks):
    d = tmp / "class"
    d.mkdir()
    os.mkfifo(d / "a_fifo.py")
    (d / "z_honest.py").write_text(HONEST)
    (tmp / "baseline").mkdir()
    base = tmp / "baseline" / "empty.py"
    base.write_text(WORK_ONLY)
    return {"attack": d / "a_fifo.py", "baseline": base, "class_dir": d, "honest": ["z_honest"], "rows": ["a_fifo"]}


def neighbour_folder(tmp, hostile, entry, marks):
    """The attack reads the class folder; its neighbour's file holds the canary token."""
    src = (HERE / "subs" / entry["sub"]).read_text()
    from test_hostile import fill, strip_attack

    marks = {**marks, "@CLASSDIR@": str(tmp / "class")}
    d = tmp / "class"
    d.mkdir()
    att = d / "a_reader.py"
    att.write_text(fill(src, marks))
    (d / "z_honest.py").write_text(HONEST + f"# neighbour's private note: {hostile.file_token}\n")
    (tmp / "baseline").mkdir()
    base = tmp / "baseline" / "reader.py"
    base.write_text(fill(strip_attack(src), marks))
    return {"attack": att, "baseline": base, "class_dir": d, "honest": ["z_honest"]}


def shipped_module(tmp, hostile, entry, marks):
    """A folder: the answer imports a module the student ships, whose top level reads secrets and writes outside."""
    from test_hostile import fill, strip_attack

    src = (HERE / "subs" / entry["sub"]).read_text()
    helper = fill("LOOT = []\n"
                  "import os\n"
                  "for p in ('/tmp/@PWN@', '/root/@PWN@', '@SITE@/@PWN@.pth'):\n"
                  "    try:\n"
                  "        open(p, 'w').write('dlgrade-hostile-pwn-marker\\n')\n"
                  "    except OSError:\n"
                  "        pass\n"
                  "try:\n"
                  "    LOOT.append(open('@CANARY_FILE@').read())\n"
                  "except OSError:\n"
                  "    pass\n"
                  "print(LOOT)\n", marks)
    att = _folder(tmp, "attack", {"answer.py": fill(src, marks), "evilhelper.py": helper})
    base = _folder(tmp, "baseline", {"answer.py": fill(strip_attack(src), marks), "evilhelper.py": helper})
    return {"attack": att, "baseline": base, "class_dir": None, "honest": []}


def signal_batch(tmp, hostile, entry, marks):
    """`dlgrade grade` on signal-propagation: the attack first, a correct notebook (alice) second."""
    from test_hostile import fill, strip_attack

    src = (HERE / "subs" / entry["sub"]).read_text()
    d = tmp / "class"
    d.mkdir()
    att = d / "a_attack.py"
    att.write_text(fill(src, marks))
    shutil.copy(REPO / "examples" / "signal-propagation" / "alice.ipynb", d / "z_alice.ipynb")
    (tmp / "baseline").mkdir()
    base = tmp / "baseline" / "attack.py"
    base.write_text(fill(strip_attack(src), marks))
    return {"attack": att, "baseline": base, "class_dir": d, "honest": ["z_alice"]}

"""The hostile corpus (issue 10): one attack per test, each judged by the issue's bar.

Every submission in ``manifest.yaml`` is graded in a process of its own (wall-clock bound,
address-space cap, host memory/disk/inodes sampled meanwhile) next to its *baseline*: the same
file without its ``# ATTACK`` ... ``# END ATTACK`` region (or a generator's baseline). A test
fails, listing every reason, unless grading ended with a scored result, nothing leaked, the
attack scored no more than its baseline, the host was left as it was, the honest neighbours of
a batch got full marks, and the grader's peak memory stayed under the cap.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import stat
from pathlib import Path

import generators
import pytest
import yaml
from hostile_lib import HERE, RUNS, pwn_paths, tree_digest

MANIFEST = yaml.safe_load((HERE / "manifest.yaml").read_text())
ENTRIES = MANIFEST["submissions"]
DEFAULTS = MANIFEST["defaults"]
ATTACK = re.compile(r"^[ \t]*# ATTACK\b.*?^[ \t]*# END ATTACK[^\n]*\n", re.DOTALL | re.MULTILINE)
_BASELINES: dict[str, dict] = {}


def strip_attack(text: str) -> str:
    out, n = ATTACK.subn("", text)
    assert n, "an attack submission must mark its attack with # ATTACK ... # END ATTACK"
    return out


def fill(text: str, marks: dict[str, str]) -> str:
    for k, v in marks.items():
        text = text.replace(k, v)
    return text


def materialise(entry: dict, tmp: Path, hostile) -> dict:
    """{"attack": path, "baseline": path, "class_dir": path | None, "honest": [student ids]}."""
    marks = hostile.placeholders(entry["id"])
    if "gen" in entry:
        return getattr(generators, entry["gen"])(tmp, hostile, entry, marks)
    src = (HERE / "subs" / entry["sub"]).read_text()
    attack = tmp / ("a_" + entry["sub"])
    attack.write_text(fill(src, marks))
    baseline = tmp / "baseline" / entry["sub"]
    baseline.parent.mkdir()
    baseline.write_text(fill(strip_attack(src), marks))
    made = {"attack": attack, "baseline": baseline, "class_dir": None, "honest": []}
    if entry.get("batch"):
        made["class_dir"] = generators.class_folder(tmp, [attack])
        made["honest"] = ["z_honest"]
    return made


def digest(path: Path) -> str:
    h = hashlib.sha256()
    paths = sorted(path.rglob("*")) if path.is_dir() else [path]
    for p in paths:
        h.update(str(p.relative_to(path)).encode() if path.is_dir() else b"")
        if p.is_symlink():
            h.update(os.readlink(p).encode())
        elif p.is_file():
            data = p.read_bytes()
            if p.suffix == ".py":  # whole-line comments change nothing graded: equal baselines grade once
                data = b"\n".join(ln for ln in data.splitlines() if not ln.lstrip().startswith(b"#"))
            h.update(data)
    return h.hexdigest()


def rubric_of(entry, hostile) -> str:
    return str(hostile.toy_rubric) if entry.get("rubric", "toy") == "toy" else entry["rubric"]


def grade_spec(entry, hostile, path: Path) -> dict:
    rubric = rubric_of(entry, hostile)
    return {"mode": "grade", "path": str(path), "rubric": rubric, "unsafe": False, "items": entry.get("items"),
            "as_cap_mb": entry.get("as_cap_mb", DEFAULTS["as_cap_mb"])}


def baseline_result(entry, hostile, path: Path) -> dict:
    key = f"{rubric_of(entry, hostile)}|{entry.get('items')}|{digest(path)}"
    if key not in _BASELINES:
        _BASELINES[key] = hostile.run(grade_spec(entry, hostile, path), timeout=120)
    return _BASELINES[key]


def strings_in(result: dict) -> str:
    return json.dumps(result, default=str)


def check_result(rec: dict, what: str, entry: dict, problems: list[str]):
    """The grading ended, with a scored result whose lost points are explained."""
    if rec.get("timed_out"):
        problems.append(f"{what}: grading did not end within {entry.get('timeout', DEFAULTS['timeout'])} s (hang)")
        return None
    if not rec.get("ok"):
        problems.append(f"{what}: no result; the grader failed: {rec.get('exception') or rec.get('exit_code')} "
                        f"(exit {rec.get('returncode')}) {rec.get('stderr', '')[-300:]!r}")
        return None
    return rec.get("result")


def explained(result: dict, entry: dict, problems: list[str]):
    for it in result["items"]:
        if it["status"] not in ("passed", "manual") and not (it["message"] or "").strip():
            problems.append(f"item {it['item_id']} lost points without a reason")
    lost = [it for it in result["items"] if it["status"] not in ("passed", "manual")]
    if entry.get("reason") and lost:
        text = " ".join([result.get("error") or "", *result.get("warnings", []),
                         *[it["message"] for it in result["items"]],
                         *[c["message"] for it in result["items"] for c in it["checks"]]])
        if not re.search(entry["reason"], text):
            problems.append(f"no clear reason: /{entry['reason']}/ not in the messages ({text[:300]!r})")


def leaks(text: str, where: str, hostile, problems: list[str]):
    for name, needle in hostile.needles.items():
        if needle in text:
            i = text.index(needle)
            problems.append(f"leak in {where}: {name} ({text[max(0, i - 60):i + 60]!r})")
    if "\x1b" in text or "\\u001b" in text:
        problems.append(f"terminal control sequence (ESC) in {where}")


def host_checks(entry, hostile, before: dict, problems: list[str]):
    tid = entry["id"]
    for p in pwn_paths(tid):
        if os.path.lexists(p):
            problems.append(f"the attack created {p} on the host")
    c = hostile.canary_file
    try:
        st = os.lstat(c)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != 0 or stat.S_IMODE(st.st_mode) != 0o600:
            problems.append(f"the canary file's owner/mode changed: uid {st.st_uid} mode {oct(st.st_mode)}")
        elif hashlib.sha256(c.read_bytes()).hexdigest() != hostile.canary_digest:
            problems.append(f"the canary file was modified: {c.read_bytes()[:120]!r}")
    except OSError as exc:
        problems.append(f"the canary file is gone ({exc})")
    after = tree_digest(hostile.cache)
    changed = [p for p, d in before["cache"].items() if after.get(p) != d]
    if changed:
        problems.append(f"answer-key cache files changed or removed: {changed[:3]}")
    if len(hostile.listener.hits) > before["hits"]:
        problems.append(f"a sandbox reached the host's network: {hostile.listener.hits[before['hits']:]}")
    alive = generators.marked_processes()
    if alive:
        problems.append(f"processes of the submission outlived its grading: {alive}")
    left = generators.leftover_job_dirs(tid)
    if left:
        problems.append(f"the job dir was not removed: {left}")


def resources(rec: dict, entry: dict, where: str, problems: list[str]):
    caps = {**DEFAULTS["caps"], **entry.get("caps", {})}
    if "vmhwm_kb" in rec and rec["vmhwm_kb"] / 1024 > caps["grader_mb"]:
        problems.append(f"{where}: grader peak memory {rec['vmhwm_kb'] / 1024:.0f} MiB > {caps['grader_mb']} MiB")
    for k, cap in (("shmem_delta_mb", "shmem_mb"), ("disk_delta_mb", "disk_mb"), ("inodes_delta", "inodes")):
        if rec.get(k, 0) > caps[cap]:
            problems.append(f"{where}: the host's {k.split('_')[0]} grew by {rec[k]} (cap {caps[cap]})")


def run_batch(entry, hostile, made, tmp: Path, problems: list[str]):
    out = tmp / "results"
    out.mkdir()
    argv = ["grade", str(made["class_dir"]), "-a", "toy" if entry.get("rubric", "toy") == "toy" else entry["rubric"],
            "--out", str(out / "r.csv"), "--json", str(out / "r.jsonl"), "--report", str(out / "report")]
    for it in entry.get("items") or ():
        argv += ["--item", it]
    rec = hostile.run({"mode": "cli", "argv": argv, "rubrics": {"toy": str(hostile.toy_rubric)},
                       "as_cap_mb": entry.get("as_cap_mb", DEFAULTS["as_cap_mb"])},
                      timeout=entry.get("timeout", DEFAULTS["timeout"]))
    if rec.get("timed_out"):
        problems.append(f"batch: `dlgrade grade` did not end within {entry.get('timeout', DEFAULTS['timeout'])} s")
        return rec, {}
    if not rec.get("ok"):
        problems.append(f"batch: `dlgrade grade` failed: {rec.get('exception') or 'exit ' + str(rec.get('exit_code'))} "
                        f"{rec.get('stderr', '')[-300:]!r}")
    rows = {}
    if (out / "r.jsonl").exists():
        for line in (out / "r.jsonl").read_text().splitlines():
            if line.strip():
                d = json.loads(line)
                rows[d["student"]] = d
    texts = {"CLI output": rec.get("stdout", "") + rec.get("stderr", "")}
    if (out / "r.csv").exists():
        raw = (out / "r.csv").read_text()
        texts["CSV"] = raw
        for row in list(csv.reader(io.StringIO(raw)))[1:]:
            for cell in row:
                if cell[:1] in ("=", "+", "-", "@") and not re.fullmatch(r"-?[\d.]+(e-?\d+)?", cell):
                    problems.append(f"CSV cell starts a formula: {cell[:60]!r}")
    if (out / "r.jsonl").exists():
        texts["JSONL"] = (out / "r.jsonl").read_text()
    report = out / "report"
    if report.exists():
        for page in report.glob("*.html"):
            html = page.read_text(errors="replace")
            texts[f"report {page.name}"] = html
            if re.search(r"<script|<img[^>]+onerror|<b>INJECT", html, re.IGNORECASE):
                problems.append(f"unescaped HTML from the submission in report {page.name}")
        pages = [p for p in report.glob("*.html") if p.name != "index.html"]
        if rows and len(pages) < len(rows):
            problems.append(f"report: {len(rows)} students but {len(pages)} student pages (one was overwritten)")
        index = report / "index.html"
        if not index.exists() or "submissions" not in index.read_text(errors="replace").lower():
            problems.append("the class overview report/index.html is missing or was overwritten by a student page")
    for where, text in texts.items():
        leaks(text, where, hostile, problems)
    from grader.model import plain_text  # ids from file names lose their control characters

    rows = {**rows, **{plain_text(k): v for k, v in rows.items()}}
    for name in made["honest"]:
        r = rows.get(name) or rows.get(plain_text(name))
        if r is None:
            problems.append(f"batch: the honest neighbour {name} has no result")
            continue
        score = sum(i["points"] for i in r["items"] if i["status"] != "manual")
        top = sum(i["max_points"] for i in r["items"] if i["status"] != "manual")
        if score < top - 1e-9:
            problems.append(f"batch: the honest neighbour {name} got {score:g}/{top:g}: "
                            + "; ".join(i["message"] for i in r["items"] if i["status"] not in ("passed", "manual")))
    for name in made.get("rows", []):
        if name not in rows and plain_text(name) not in rows:
            problems.append(f"batch: {name!r} in the class folder got no row")
    for lit in entry.get("literal_in_output", []):
        if lit not in texts["CLI output"]:
            problems.append(f"CLI output lost the literal text {lit!r} (interpreted as markup?)")
    return rec, rows


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_hostile(entry, hostile, tmp_path):
    tid = entry["id"]
    for p in pwn_paths(tid):
        generators.remove(p)
    generators.remove_leftover_job_dirs(tid)
    hostile.reset_canary()
    before = {"cache": tree_digest(hostile.cache), "hits": len(hostile.listener.hits)}
    problems: list[str] = []
    first = (HERE / "subs" / entry["sub"]).read_text().splitlines()[0] if "sub" in entry else ""
    record = {"id": tid, "why": entry.get("why") or first.lstrip("# ") or entry.get("gen", "")}
    try:
        made = materialise(entry, tmp_path, hostile)
        base = baseline_result(entry, hostile, made["baseline"]) if made.get("baseline") else None
        base_score = base["score"] if base and base.get("ok") else None
        if made.get("baseline") and base_score is None:
            problems.append(f"the baseline could not be graded: {base and base.get('exception')}")
        if made["class_dir"] is not None:
            rec, rows = run_batch(entry, hostile, made, tmp_path, problems)
            att = made["attack"]
            result = rows.get(att.stem if att.suffix in (".py", ".ipynb", ".zip") else att.name)
            if result is None and not problems:
                problems.append("batch: the attack submission got no row")
        else:
            rec = hostile.run(grade_spec(entry, hostile, made["attack"]), timeout=entry.get("timeout", DEFAULTS["timeout"]))
            result = check_result(rec, "attack", entry, problems)
        if result is not None:
            score = sum(i["points"] for i in result["items"] if i["status"] != "manual")
            record.update(score=score, baseline=base_score, messages=[f"{i['item_id']}: {i['message'][:160]}"
                                                                     for i in result["items"]],
                          error=result.get("error"), layers=result.get("layers"))
            explained(result, entry, problems)
            leaks(strings_in(result), "the result", hostile, problems)
            if base_score is not None and score > base_score + 1e-9:
                problems.append(f"the attack scored {score:g}, above its baseline {base_score:g}")
        resources(rec, entry, "attack", problems)
        record.update({k: rec.get(k) for k in ("vmhwm_kb", "children_maxrss_kb", "wall_s", "shmem_delta_mb",
                                               "disk_delta_mb", "inodes_delta", "timed_out")})
        host_checks(entry, hostile, before, problems)
    finally:
        for p in pwn_paths(tid):
            generators.remove(p)
        generators.remove_leftover_job_dirs(tid)
        hostile.reset_canary()
        record["problems"] = problems
        RUNS.append(record)
        print(json.dumps(record, default=str))
    assert not problems, f"{tid}: " + "\n  ".join(problems)

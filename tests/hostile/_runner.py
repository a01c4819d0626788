"""Grade one submission (or run one CLI batch) in a process of its own, for the hostile corpus.

``python _runner.py SPEC.json OUT.json``. The spec says what to run and the
address-space cap of this process (so a grader that tries to allocate
gigabytes fails here instead of taking the machine down). OUT.json gets the
result (or the grader's exception) and this process's peak memory.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import traceback
from pathlib import Path


def _peak() -> dict:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {"vmhwm_kb": int(status["VmHWM"].split()[0]),
            "self_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "children_maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}


def main(spec_path: str, out_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    cap = int(spec["as_cap_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    sys.path.insert(0, spec["toy_dir"])  # toyref / toymistakes, as tests/conftest.py does
    out: dict = {"ok": False}
    try:
        if spec["mode"] == "grade":
            from grader.pipeline import Options, grade_file
            from grader.rubric import get_rubric, load_rubric

            rubric = load_rubric(spec["rubric"]) if spec["rubric"].endswith(".yaml") else get_rubric(spec["rubric"])
            opts = Options(unsafe=spec["unsafe"], items=tuple(spec.get("items") or ()))
            res = grade_file(spec["path"], rubric, opts=opts)
            out.update(ok=True, result=res.to_dict(), score=res.score, max_score=res.max_score)
        else:  # the CLI's own `grade` command, in this process, on a course dir with the test rubrics
            import shutil
            import tempfile

            from grader.cli.main import main as cli_main
            from grader.rubric import rubric_dir

            named = spec.get("rubrics", {})
            if named:
                course = Path(tempfile.mkdtemp(prefix="dlgrade-hostile-course-"))
                (course / "rubrics").mkdir()
                for p in rubric_dir().glob("*.yaml"):
                    shutil.copyfile(p, course / "rubrics" / p.name)
                for name, path in named.items():
                    shutil.copyfile(path, course / "rubrics" / f"{name}.yaml")
                os.environ["DLGRADE_COURSE"] = str(course)
            code = cli_main(spec["argv"])
            out.update(ok=code == 0, exit_code=code)
    except BaseException as exc:  # noqa: BLE001 - report every way the grader can fail
        out.update(ok=False, exception=f"{type(exc).__name__}: {exc}"[:2000],
                   traceback=traceback.format_exc()[-4000:])
    out.update(_peak())
    with open(out_path, "w") as f:
        json.dump(out, f, default=str)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

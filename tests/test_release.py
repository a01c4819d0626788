"""The student bundle: same verdicts as the TA's check, and nothing secret inside it or its wheel."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader.authoring import mutants as mutant_src
from grader.authoring import release, skeleton
from grader.authoring.release import build
from grader.pipeline import Options, ReferenceKeys, grade_file, make_plan
from grader.rubric import get_rubric

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "signal-propagation"
ASSIGNMENT = "signal-propagation"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build(get_rubric(ASSIGNMENT), tmp_path_factory.mktemp("bundle"))


DATA_PKG = "dlgrade_check_signal_propagation"


def _data(bundle: Path) -> dict:
    return json.loads((bundle / DATA_PKG / "_bundle" / "selfcheck.json").read_text())


def _wheel(bundle: Path) -> Path:
    """The shared checker's wheel (code only)."""
    (wheel,) = bundle.glob("dlgrade_check-*.whl")
    return wheel


def _data_wheel(bundle: Path) -> Path:
    """The assignment's wheel (its public checks, no code)."""
    (wheel,) = bundle.glob(f"{DATA_PKG}-*.whl")
    return wheel


def test_bundle_layout(bundle):
    rubric = get_rubric(ASSIGNMENT)
    names = {p.name for p in bundle.iterdir()}
    assert names == {"README.md", f"{ASSIGNMENT}.ipynb", "check.py", "dlgrade_check", DATA_PKG, _wheel(bundle).name,
                     _data_wheel(bundle).name}, names
    assert sorted(p.name for p in bundle.glob("dlgrade_check*.whl")) == sorted([_wheel(bundle).name,
                                                                                 _data_wheel(bundle).name])
    readme = (bundle / "README.md").read_text()
    assert "pip install dlgrade_check*.whl" in readme and "whole set-up" in readme
    assert _wheel(bundle).name in readme and _data_wheel(bundle).name in readme
    assert 'check("D1")' in readme and "dlgrade-check" in readme and "-a signal-propagation" in readme
    assert "macOS" in readme and "Windows" in readme and "Linux only" not in readme and "replaces this one" not in readme
    assert (bundle / f"{ASSIGNMENT}.ipynb").read_text() == skeleton.skeleton_path(rubric).read_text()
    assert not (bundle / "dlgrade_check" / "_bundle").exists()  # the shared checker carries no assignment
    assert sorted(p.name for p in (bundle / DATA_PKG).iterdir()) == ["__init__.py", "_bundle"]
    init = (bundle / DATA_PKG / "__init__.py").read_text()
    assert [type(n) for n in __import__("ast").parse(init).body] == [__import__("ast").Expr]  # a docstring, no code


def test_bundle_holds_no_solution_and_no_hidden_item(bundle):
    rubric = get_rubric(ASSIGNMENT)
    hidden = {i.id for i in rubric.items if i.visibility == "hidden"}
    data = _data(bundle)
    assert {i["id"] for i in data["items"]}.isdisjoint(hidden)
    assert all(i["visibility"] == "public" for i in data["items"])
    pkg = bundle / "dlgrade_check"
    assert not list(bundle.rglob("reference")) and not list(bundle.rglob("authoring"))
    shipped = {p.name for p in (pkg / "_grader").iterdir()}
    assert not shipped & {"authoring", "course", "batch", "templates", "student"}, shipped
    assert not list(bundle.rglob("*.yaml"))  # no rubric travels with the grader
    for f in bundle.rglob("*"):
        if f.is_file() and f.suffix in (".py", ".json", ".ipynb", ".md"):
            text = f.read_text()
            assert "### BEGIN SOLUTION" not in text, f
            assert "model_answer" not in text or f.suffix == ".py", f
    for call in data["calls"]:
        assert call["id"] in {c for i in data["items"] for ch in i["checks"] for c in ch["calls"]}


def _solution_lines(rubric) -> set[str]:
    """Distinctive lines of the reference's solution regions and of every mutant's body."""
    lines, inside = set(), False
    for ln in mutant_src.reference_source(rubric).splitlines():
        if skeleton.BEGIN.match(ln):
            inside = True
        elif skeleton.END.match(ln):
            inside = False
        elif inside and len(ln.strip()) >= 24 and not ln.strip().startswith("#"):
            lines.add(ln.strip())
    for mod in rubric.mistakes_modules:
        src = Path(__import__(mod, fromlist=["_"]).__file__).read_text()
        body = src[src.index("@mistake"):]
        lines |= {ln.strip() for ln in body.splitlines() if len(ln.strip()) >= 24 and ln.startswith("    ")
                  and not ln.strip().startswith(("#", '"', "feedback="))}
    assert len(lines) > 20
    return lines


def _texts(bundle: Path):
    """(name, text) of every text file of the bundle and of every file inside its wheel."""
    for f in bundle.rglob("*"):
        if f.is_file() and f.suffix in (".py", ".json", ".ipynb", ".md", ".txt"):
            yield str(f.relative_to(bundle)), f.read_text()
    for wheel in (_wheel(bundle), _data_wheel(bundle)):
        with zipfile.ZipFile(wheel) as z:
            for name in z.namelist():
                if not name.endswith((".npz", ".mat")):
                    yield f"{wheel.name}:{name}", z.read(name).decode()


def test_bundle_and_wheel_hold_no_reference_or_mutant_code(bundle):
    lines = _solution_lines(get_rubric(ASSIGNMENT))
    for name, text in _texts(bundle):
        leaked = [ln for ln in lines if ln in text]
        assert not leaked, f"{name} holds solution code: {leaked[:3]}"


def _floats(value, out: set):
    """Every distinctive float (not 0, not an integer) in a nested value."""
    if isinstance(value, dict):
        for v in value.values():
            _floats(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _floats(v, out)
    elif isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            out.update(float(x) for x in value.ravel() if np.isfinite(x) and x != round(x))
        elif value.dtype == object:
            _floats(list(value.ravel()), out)
    elif isinstance(value, (float, np.floating)) and np.isfinite(value) and value != round(value):
        out.add(float(value))
    return out


def _bundle_floats(data_dir: Path) -> set:
    out = _floats(json.loads((data_dir / "selfcheck.json").read_text()), set())
    with np.load(data_dir / "selfcheck.npz") as z:
        for k in z.files:
            _floats(z[k], out)
    return out


def test_bundle_holds_no_hidden_inputs_expected_values_or_mutant_outputs(bundle):
    """The numbers of the hidden items (their inputs, answer keys, mutants' outputs) are nowhere in the bundle.

    A number a public item also has (the same call judged by both, a shared input) is allowed: it
    is public anyway. The wheel's data files are the same bytes as the unpacked ones.
    """
    rubric = get_rubric(ASSIGNMENT)
    keys = ReferenceKeys(rubric)
    full = make_plan(rubric, Options(), keys)
    public = make_plan(rubric, Options(public_only=True), keys)
    hidden_ids = [i.id for i in full.items if i.visibility == "hidden" and not i.manual]
    public_ids = [i.id for i in public.items]
    assert hidden_ids and public_ids

    def numbers(plan, ids):
        out = set()
        calls = {c["id"]: c for c in plan.calls}
        for (item, _, _), cid in plan.index.items():
            if item in ids:
                _floats(calls[cid], out)
                for k in _array_keys(calls[cid]):
                    _floats(plan.arrays[k], out)
        for o in keys.expected(ids).values():
            _floats(o.value, out)
        for mk in keys.mutants(ids).values():
            for o in mk.values():
                _floats(o.value, out)
        return out

    secret = numbers(full, hidden_ids) - numbers(public, public_ids)
    assert len(secret) > 50, "the hidden items should have numbers of their own"
    shipped = _bundle_floats(bundle / DATA_PKG / "_bundle")
    leaked = secret & shipped
    assert not leaked, f"{len(leaked)} numbers of hidden items are in the bundle, e.g. {sorted(leaked)[:5]}"
    hidden_feedback = {text for i in hidden_ids for text in keys.feedback([i]).get(i, {}).values()}
    hidden_names = {name for i in hidden_ids for name in keys.feedback([i]).get(i, {})}
    assert hidden_feedback and hidden_names
    for name, text in _texts(bundle):
        assert not any(t in text for t in hidden_feedback), name
        assert not any(re.search(rf"\b{re.escape(n)}\b", text) for n in hidden_names), name
    with zipfile.ZipFile(_data_wheel(bundle)) as z:
        for f in ("selfcheck.json", "selfcheck.npz"):
            assert z.read(f"{DATA_PKG}/_bundle/{f}") == (bundle / DATA_PKG / "_bundle" / f).read_bytes()
    with zipfile.ZipFile(_wheel(bundle)) as z:  # the shared checker holds no assignment's numbers at all
        assert not [n for n in z.namelist() if "_bundle" in n or n.endswith((".npz", ".mat"))]


def _array_keys(call):
    from grader.sandbox.worker.wire import array_keys

    return array_keys(call)


def _wheel_contents(wheel: Path):
    """(files outside .dist-info, METADATA, entry_points.txt) of a wheel."""
    with zipfile.ZipFile(wheel) as z:
        files = {n: z.read(n) for n in z.namelist() if not n.split("/")[0].endswith(".dist-info")}
        dist = next(n.split("/")[0] for n in z.namelist() if n.split("/")[0].endswith(".dist-info"))
        return files, z.read(f"{dist}/METADATA").decode(), z.read(f"{dist}/entry_points.txt").decode()


def _unpacked(bundle: Path, package: str) -> dict:
    return {str(f.relative_to(bundle)): f.read_bytes() for f in (bundle / package).rglob("*")
            if f.is_file() and "__pycache__" not in f.parts}


def test_wheels_are_the_unpacked_packages_with_their_real_dependencies(bundle):
    data = _data(bundle)
    wheel, data_wheel = _wheel(bundle), _data_wheel(bundle)
    assert data_wheel.name == f"{DATA_PKG}-{data['package_version']}-py3-none-any.whl"
    assert wheel.name == f"dlgrade_check-{data['code_version']}-py3-none-any.whl"
    assert re.fullmatch(r"\d+\.\d+\.\d+\+signal\.propagation\.v\d+\.k[0-9a-f]{8}", data["package_version"])
    assert re.fullmatch(r"(\d+\.\d+\.\d+)\+c[0-9a-f]{9}", data["code_version"])
    public = data["code_version"].split("+")[0]

    files, meta, entry = _wheel_contents(wheel)
    assert files == _unpacked(bundle, "dlgrade_check")
    assert re.search(r"^Name: dlgrade-check$", meta, re.M)
    assert sorted(re.findall(r"^Requires-Dist: (\S+)", meta, re.M)) == sorted(release.BASE_REQUIREMENTS)
    assert "dlgrade-check = dlgrade_check.cli:main" in entry
    for name, text in files.items():  # no import reaches the TA's grader; none of the reference at module level
        if name.endswith(".py"):  # (ReferenceKeys' function-level one is the TA's side, never called here)
            assert not re.search(r"^\s*(from|import) grader\b", text.decode(), re.M), name
            assert not re.search(r"^(from|import) reference\b", text.decode(), re.M), name

    files, meta, entry = _wheel_contents(data_wheel)
    assert files == _unpacked(bundle, DATA_PKG)
    assert sorted(files) == [f"{DATA_PKG}/__init__.py", f"{DATA_PKG}/_bundle/selfcheck.json",
                             f"{DATA_PKG}/_bundle/selfcheck.npz"]
    assert re.search(r"^Name: dlgrade-check-signal-propagation$", meta, re.M)
    # signal-propagation: numpy and scipy, which the checker brings; no torch
    assert re.findall(r"^Requires-Dist: (\S+)", meta, re.M) == [f"dlgrade-check=={public}"]
    assert entry.split() == ["[dlgrade_check.assignments]", "signal-propagation", "=", DATA_PKG]


def test_the_checker_is_the_same_for_every_assignment(bundle, tmp_path):
    other = build(get_rubric("learning-time"), tmp_path / "lt", wheel=False)
    assert _unpacked(other, "dlgrade_check") == _unpacked(bundle, "dlgrade_check")
    lt = json.loads((other / "dlgrade_check_learning_time" / "_bundle" / "selfcheck.json").read_text())
    assert lt["code_version"] == _data(bundle)["code_version"] and lt["assignment"] == "learning-time"
    assert not list(other.glob("*.whl"))
    # a bundle written again over an older one (also the one-package layout before) keeps nothing of it
    (other / "dlgrade_check" / "_bundle").mkdir()
    (other / "dlgrade_check_old_thing").mkdir()
    (other / "dlgrade_check-0.0.1+old-py3-none-any.whl").write_bytes(b"")
    build(get_rubric("learning-time"), other, wheel=False)
    assert not (other / "dlgrade_check" / "_bundle").exists() and not (other / "dlgrade_check_old_thing").exists()
    assert not list(other.glob("*.whl"))


@pytest.mark.parametrize("assignment,torch", [("dln-dynamics", True), ("linear-deep-learning", True),
                                              ("signal-propagation", False), ("backprop", False),
                                              ("learning-time", False)])
def test_requirements_follow_what_the_provided_code_imports(assignment, torch):
    reqs = release.requirements(skeleton.provided_code(get_rubric(assignment)))
    assert reqs[:len(release.BASE_REQUIREMENTS)] == list(release.BASE_REQUIREMENTS)
    assert any(r.startswith("torch") for r in reqs) == torch
    assert not any(r.startswith("math") for r in reqs)


def test_base_requirements_match_dlgrades_own_bounds():
    pyproject = (ROOT / "pyproject.toml").read_text()
    for req in release.BASE_REQUIREMENTS:
        assert f'"{req}"' in pyproject, req


def test_rewrite_imports_renames_only_imports_and_the_name():
    src = ('"""grader.model stays in a docstring."""\nimport grader.sandbox as package\n'
           "from grader.student import deps\nfrom grader.model import X  # grader here too\n"
           "def f():\n    import grader.authoring.mutants\n    return grader.authoring, 'grader.values'\n")
    out = release.rewrite_imports(src)
    assert out == ('"""grader.model stays in a docstring."""\nimport dlgrade_check._grader.sandbox as package\n'
                   "from dlgrade_check import deps\nfrom dlgrade_check._grader.model import X  # grader here too\n"
                   "def f():\n    import dlgrade_check._grader.authoring.mutants\n"
                   "    return dlgrade_check._grader.authoring, 'grader.values'\n")


@pytest.mark.parametrize("student", ["alice", "bob", "carol", "dave"])
def test_bundle_check_agrees_with_the_grader(bundle, student):
    nb = EXAMPLES / f"{student}.ipynb"
    ta = grade_file(nb, ASSIGNMENT, opts=Options(public_only=True, unsafe=True))
    out = subprocess.run([sys.executable, "-I", "check.py", str(nb), "--json"], cwd=bundle,
                         capture_output=True, text=True)
    assert out.returncode == (2 if student == "dave" else 0), out.stderr
    res = json.loads(out.stdout)
    got = {i["item_id"]: (round(i["points"], 9), i["status"]) for i in res["items"]}
    # follow-through credit needs the reference (the TA's side): the bundle gives the note, not the credit
    credited = {i.item_id for i in ta.items if any(c.follow_through for c in i.checks)}
    want = {i.item_id: (round(i.points, 9), i.status) for i in ta.items if i.item_id not in credited}
    assert {k: v for k, v in got.items() if k not in credited} == want
    assert credited == ({"D3"} if student == "bob" else set())
    for i in res["items"]:
        if i["item_id"] in credited:
            assert i["status"] != "passed" and "which failed D1: fix D1 first" in i["message"], i
    mistakes = sorted(m for i in res["items"] for c in i["checks"] for m in [c["mistake"]] if m)
    assert mistakes == sorted(m for i in ta.items for m in i.mistakes)
    assert not [w for w in res["warnings"] if "dlgrade_check" in w or "Checker" in w], res["warnings"]


@pytest.mark.parametrize("args,says", [
    (["nowhere.ipynb"], "nowhere.ipynb does not exist"),
    ([str(EXAMPLES / "dave.ipynb")], "dave.ipynb is not a notebook"),
    ([str(EXAMPLES / "alice.ipynb"), "D2"], "no public item D2 in signal-propagation; the self-check runs D1, D3, D4"),
])
def test_bad_input_is_one_line_and_exit_2(bundle, args, says):
    out = subprocess.run([sys.executable, "-I", "check.py", *args], cwd=bundle, capture_output=True, text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and says in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_one_item_only(bundle):
    out = subprocess.run([sys.executable, "-I", "check.py", str(EXAMPLES / "bob.ipynb"), "D3", "--json"],
                         cwd=bundle, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert [i["item_id"] for i in res["items"]] == ["D3"] and res["items"][0]["status"] == "partial"


def test_tas_check_with_bundle_reads_a_release_folder(bundle):
    out = subprocess.run([sys.executable, "-m", "grader.cli", "check", str(EXAMPLES / "alice.ipynb"), "--bundle",
                          str(bundle), "--json"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["items"] and all(i["status"] == "passed" for i in res["items"])

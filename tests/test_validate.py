"""`dlgrade validate` on every assignment: reference 100 %, skeleton 0, mutants caught and named."""
from __future__ import annotations

import pytest

from grader.rubric import get_rubric, rubric_paths
from grader.authoring.validate import validate

# torch-heavy assignments: every sandboxed run imports torch (~2 s each)
SLOW = {"dln-dynamics", "linear-deep-learning", "backprop"}
ASSIGNMENTS = [pytest.param(p.stem, marks=pytest.mark.slow) if p.stem in SLOW else p.stem
               for p in rubric_paths()]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate(assignment):
    findings = validate(get_rubric(assignment))
    bad = [f"{f.what}: {f.detail}" for f in findings if not f.ok]
    assert not bad, "\n".join(bad)
    assert any(f.what.startswith("mutant ") for f in findings), "no mutants for this assignment"


def test_validate_toy(toy_rubric, tmp_path, monkeypatch):
    from grader.authoring import skeleton

    monkeypatch.setattr(skeleton, "skeleton_dir", lambda: tmp_path)
    skeleton.write(toy_rubric)
    findings = {f.what: f for f in validate(toy_rubric)}
    # the toy's noisy mean is centred on 0, so its band holds the constant 0: validate says so
    assert not findings.pop("trivial answer T4 (all 0s)").ok
    assert all(f.ok for f in findings.values()), [f for f in findings.values() if not f.ok]
    assert findings["mutant tick__ignores_k"].detail.startswith("caught and named")


def test_a_check_that_rewards_a_placeholder_is_flagged(tmp_path):
    """A tolerance so loose that an all-zero answer earns the item: validate says so."""
    import yaml

    from helpers import TOY
    from grader.authoring.validate import trivial_answers
    from grader.rubric import load_rubric

    raw = yaml.safe_load((TOY / "toy.yaml").read_text())
    t1 = next(i for i in raw["items"] if i["id"] == "T1")
    t1["checks"][0]["compare"] = {"kind": "allclose", "rtol": 0, "atol": 100.0}
    (tmp_path / "loose.yaml").write_text(yaml.safe_dump(raw))
    found = {f.what: f for f in trivial_answers(load_rubric(tmp_path / "loose.yaml"))}
    assert not found["trivial answer T1 (all 0s)"].ok and "passes every check of T1" in found["trivial answer T1 (all 0s)"].detail
    assert {f.what for f in trivial_answers(load_rubric(TOY / "toy.yaml")) if not f.ok} == {"trivial answer T4 (all 0s)"}


def test_alternative_method_references_must_score_full_marks(tmp_path):
    """An alternative correct notebook passes; a tolerance only the reference's method meets would fail it."""
    import shutil

    import nbformat

    from helpers import TOY, write_notebook
    from grader.authoring.validate import alternatives, validate
    from grader.rubric import load_rubric

    for f in TOY.iterdir():
        if f.is_file():
            shutil.copy(f, tmp_path / f.name)
    alt = tmp_path / "alternatives" / "toy"
    alt.mkdir(parents=True)

    def alternative(name, cells, items):
        p = write_notebook(alt / f"{name}.ipynb", cells)
        nb = nbformat.read(str(p), as_version=4)
        nb.metadata["dlgrade"] = {"assignment": "toy", "alternative": {"items": items}}
        nbformat.write(nb, str(p))

    alternative("lambdas", ["import numpy as np\ntwo = np.float64(1.0)\ntwo += 1\n",
                            "double = lambda x: two * np.asarray(x)\n"], ["T1"])
    alternative("float32", ["import numpy as np\n",  # a float32 method: off by ~1e-7 relative
                            "def double(x):\n    return (2 * np.asarray(x, dtype=np.float32)).astype(float)\n"],
                ["T1"])
    rubric = load_rubric(tmp_path / "toy.yaml")
    assert [(p.name, items) for p, items in alternatives(rubric)] == [("float32.ipynb", ("T1",)),
                                                                       ("lambdas.ipynb", ("T1",))]
    found = {f.what: f for f in validate(rubric, mutants=False)}
    assert found["alternative lambdas"].ok, found["alternative lambdas"].detail
    # the toy's T1 demands rtol 1e-9: a float32 method fails, and validate names the check that is too tight
    assert not found["alternative float32"].ok and "T1" in found["alternative float32"].detail

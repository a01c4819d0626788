"""Grade the hand-made linear-deep-learning corpus and check what expected.yaml says.

Each notebook in ``tests/corpus/linear-deep-learning/`` goes through the real
pipeline (``grader.pipeline.grade_file``: read, extract, sandbox, compare,
score). Notebooks that cannot be read need no sandbox and run fast; the others
start a sandboxed worker that imports torch (a few seconds each) and are marked
``slow``. Rebuild the notebooks with ``make_corpus.py`` (the first test checks
that the committed files are what it writes).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
import yaml

torch.set_num_threads(1)  # the answer key is computed in this process

CORPUS = Path(__file__).parent / "corpus" / "linear-deep-learning"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text())
ASSIGNMENT = "linear-deep-learning"
NEEDS_SANDBOX = {name for name, spec in EXPECTED["notebooks"].items() if "error" not in spec}


def _params():
    for name in EXPECTED["notebooks"]:
        marks = [pytest.mark.slow] if name in NEEDS_SANDBOX else []
        yield pytest.param(name, marks=marks, id=name.replace(" ", "_"))


@pytest.fixture(scope="module")
def grade():
    from grader.pipeline import grade_file

    cache = {}

    def run(file: str, public_only: bool):
        if (file, public_only) not in cache:
            cache[file, public_only] = grade_file(CORPUS / file, ASSIGNMENT, public_only=public_only)
        return cache[file, public_only]

    return run


def test_corpus_files_are_what_make_corpus_writes(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "HERE", tmp_path)
    mod.main()
    made = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    committed = sorted(p.name for p in CORPUS.glob("*.ipynb"))
    assert made == committed
    for name in made:
        assert (tmp_path / name).read_text() == (CORPUS / name).read_text(), f"{name}: rerun make_corpus.py"
    files = {spec.get("file", name) for name, spec in EXPECTED["notebooks"].items()}
    assert files == set(made), "expected.yaml and the corpus disagree about the notebooks"


@pytest.mark.parametrize("name", list(_params()))
def test_corpus_notebook(name, grade):
    spec = EXPECTED["notebooks"][name]
    res = grade(spec.get("file", name), bool(spec.get("public_only", False)))
    items = {it.item_id: it for it in res.items}
    problems = []

    want_ids = spec.get("items", EXPECTED["all_items"])
    if sorted(items) != sorted(want_ids):
        problems.append(f"items {sorted(items)}, expected {sorted(want_ids)}")

    def show(it):
        return f"{it.item_id} {it.points:g}/{it.max_points:g} ({it.message[:200]})"

    for iid in spec.get("full", []):
        it = items.get(iid)
        if it is None or it.points != pytest.approx(it.max_points) or it.max_points <= 0:
            problems.append(f"full marks expected: {show(it) if it else iid + ' missing'}")
    for iid in spec.get("zero", []):
        it = items.get(iid)
        if it is None or it.points != 0:
            problems.append(f"zero expected: {show(it) if it else iid + ' missing'}")
    for iid in spec.get("partial", []):
        it = items.get(iid)
        if it is None or not 0 < it.points < it.max_points:
            problems.append(f"partial marks expected: {show(it) if it else iid + ' missing'}")
    for iid, names in (spec.get("mistakes") or {}).items():
        named = {c.mistake for c in items[iid].checks if c.mistake} if iid in items else set()
        for m in names:
            if m not in named:
                problems.append(f"{iid}: mistake {m} not named (named: {sorted(named) or 'none'})")
    if spec.get("no_mistakes"):
        named = {(it.item_id, c.mistake) for it in res.items for c in it.checks if c.mistake}
        if named:
            problems.append(f"no mistake should be named, got {sorted(named)}")
    for needle in spec.get("warnings", []):
        if not any(needle in w for w in res.warnings):
            problems.append(f"no warning mentions {needle!r}; warnings: {list(res.warnings)}")
    if "error" in spec:
        if not res.error or spec["error"] not in res.error:
            problems.append(f"error should mention {spec['error']!r}, got {res.error!r}")
    elif res.error:
        problems.append(f"unexpected submission error: {res.error}")

    assert not problems, f"{name}:\n  " + "\n  ".join(problems)

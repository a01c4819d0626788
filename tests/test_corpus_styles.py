"""The style corpus (issue 13): honest notebooks the extractor must not break, each with a defs-only twin.

``tests/corpus/styles/make_styles.py`` writes, for each of 25 pairs spread over
the five assignments, a *styled* notebook (top-level statements the graded
code needs: lambdas, ``np.vectorize`` / ``functools.partial``, in-place
updates, a dataclass config, seeds, tables filled by loops, re-definitions,
plus training runs, sweeps and plots that must not run) and its
*whitelist-style twin* (the same functions and maths, as imports, defs,
classes and literal constants only). Each pair is graded on its own items
(``Options(items=...)``) through the real pipeline:

* (a) the twin scores full marks on every item of the pair: the solutions are
  right, so a difference in (b) is the extractor's fault;
* (b) the styled notebook scores the twin's points item by item (within
  1e-9) and names no mistake.

(b) fails with the defs-only extractor (the table of what it scores is at the
top of make_styles.py); it passes once extraction keeps what the graded code
reads (dependency slicing). The fast tests check the committed notebooks are
what the generator writes and that every twin really is whitelist-style.
"""
from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus" / "styles"


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_styles", CORPUS / "make_styles.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_styles", mod)
    spec.loader.exec_module(mod)
    return mod


GEN = _load_generator()
PAIRS = {p.name: p for p in GEN.PAIRS}
BY_FILE = {f: p for p in GEN.PAIRS for f in p.files}


def _path(fname: str) -> Path:
    """A pair's file in the checkout: the styled one is a course alternative, the twin is here."""
    p = BY_FILE[fname]
    return GEN.styled_path(p) if fname == p.files[0] else CORPUS / fname
ASSIGNMENTS = ("dln-dynamics", "backprop", "linear-deep-learning", "signal-propagation", "learning-time")


def _top_level(path: Path) -> list[ast.stmt]:
    import nbformat

    from grader.pipeline.extract import strip_ipython

    nb = nbformat.read(str(path), as_version=4)
    nodes = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            nodes += ast.parse(strip_ipython(cell.source)[0]).body
    return nodes


def _defs_only(node: ast.stmt) -> bool:
    """An import, def, class, or an assignment of a value with no call, lambda or comprehension in it."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, ast.Assign) and all(isinstance(t, (ast.Name, ast.Tuple)) for t in node.targets):
        return not any(isinstance(n, (ast.Call, ast.Lambda, ast.ListComp, ast.DictComp, ast.SetComp,
                                      ast.GeneratorExp, ast.NamedExpr))
                       for n in ast.walk(node.value))
    return False


def test_corpus_files_are_what_make_styles_writes(tmp_path):
    GEN.write_all(tmp_path)
    made = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    committed = sorted([p.name for p in CORPUS.glob("*.ipynb")] + [p.name for p in GEN.ALTERNATIVES.glob("*/*.ipynb")])
    assert made == committed
    for name in made:
        assert (tmp_path / name).read_text() == _path(name).read_text(), f"{name}: rerun make_styles.py"


def test_corpus_covers_every_assignment():
    assert len(PAIRS) >= 25
    for a in ASSIGNMENTS:
        assert sum(p.assignment == a for p in PAIRS.values()) >= 4, a


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_twin_is_whitelist_style_and_styled_is_not(name):
    styled, twin = (_path(f) for f in PAIRS[name].files)
    offending = [ast.unparse(n).splitlines()[0] for n in _top_level(twin) if not _defs_only(n)]
    assert not offending, f"{twin.name} has top-level statements a defs-only extractor drops: {offending}"
    assert any(not _defs_only(n) for n in _top_level(styled)), f"{styled.name} is written in whitelist style"


# ---------------------------------------------------------------------------
# grading (a sandboxed worker per notebook; the answer keys of A8/A9 take minutes the first time)


@pytest.fixture(scope="module")
def grade():
    from grader.model import Options
    from grader.pipeline import grade_file
    from grader.sandbox import IsolationUnavailable

    cache = {}

    def run(name: str, which: int):
        pair = PAIRS[name]
        fname = pair.files[which]
        if fname not in cache:
            try:
                cache[fname] = grade_file(_path(fname), pair.assignment, opts=Options(items=pair.items))
            except IsolationUnavailable:  # our own notebooks: grading without the namespaces is fine
                cache[fname] = grade_file(_path(fname), pair.assignment, opts=Options(items=pair.items, unsafe=True))
        return cache[fname]

    return run


def _show(it) -> str:
    return f"{it.item_id} {it.points:g}/{it.max_points:g} [{it.status}] {it.message[:300]}"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_twin_scores_full_marks(name, grade):
    res = grade(name, 1)
    assert res.error is None, res.error
    assert sorted(i.item_id for i in res.items) == sorted(PAIRS[name].items)
    problems = [_show(i) for i in res.items if i.max_points <= 0 or i.points != pytest.approx(i.max_points)]
    problems += [f"{i.item_id}: names mistakes {i.mistakes}" for i in res.items if i.mistakes]
    assert not problems, f"{PAIRS[name].files[1]}:\n  " + "\n  ".join(problems)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_styled_scores_as_its_twin(name, grade):
    """Fails with the defs-only extractor (issue 13); passes with dependency slicing."""
    styled, twin = grade(name, 0), grade(name, 1)
    assert styled.error is None, styled.error
    want = {i.item_id: i for i in twin.items}
    got = {i.item_id: i for i in styled.items}
    assert sorted(got) == sorted(want)
    problems = [f"{_show(got[k])}\n      twin: {want[k].points:g}" for k in sorted(want)
                if abs(got[k].points - want[k].points) > 1e-9]
    problems += [f"{i.item_id}: names mistakes {i.mistakes}" for i in styled.items if i.mistakes]
    assert not problems, (f"{PAIRS[name].files[0]} ({'; '.join(PAIRS[name].styles)}):\n  "
                          + "\n  ".join(problems) + "\n  warnings: " + "; ".join(w[:120] for w in styled.warnings))

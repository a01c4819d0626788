"""Write the example class of each assignment (``examples/<assignment>/``).

Four students per assignment, all generated from the reference so they stay
in step with it:

- ``alice`` a worked notebook (the reference solution) with the kind of
  top-level exploration code real notebooks have (plots, sweeps, training),
  which the defs-only grader does not run;
- ``bob`` the same with two known mistakes (mutants of two different items);
- ``carol`` the unanswered skeleton;
- ``dave`` a notebook cut off mid-file (not valid JSON);
- ``eve`` (backprop only) the solution as a plain ``.py`` module.

``python examples/make_examples.py`` rewrites them; ``tests/test_examples.py``
fails when they are out of date.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.authoring import mutants as answers  # noqa: E402
from grader.authoring import skeleton  # noqa: E402
from grader.rubric import get_rubric, rubric_paths  # noqa: E402

# top-level code a student leaves in the notebook; never run by defs-only grading
EXPLORATION = {
    "signal-propagation": """\
import matplotlib.pyplot as plt
sigma_ws = np.linspace(0.5, 4.0, 200)
qs = [q_star(sw, 0.3) for sw in sigma_ws]
chis = [chi1(sw, 0.3) for sw in sigma_ws]
fig, ax = plt.subplots(1, 2, figsize=(8, 3))
ax[0].plot(sigma_ws, qs); ax[0].set_xlabel("sigma_w"); ax[0].set_ylabel("q*")
ax[1].plot(sigma_ws, chis); ax[1].axhline(1, color="k")
rng = np.random.default_rng(0)
trajectory = correlation_trajectory(rng.normal(size=1000), rng.normal(size=1000), 2.5, 0.3, 1000, 50, rng)
plt.show()

# D4: the edge of chaos in Poole et al.'s plane; D7: the gradient entries per layer
sw, sb = edge_of_chaos(np.logspace(0, 3, 60))
plt.figure(figsize=(4, 3))
plt.loglog(sw**2, sb**2)
plt.xlabel("sigma_w^2"); plt.ylabel("sigma_b^2"); plt.title("chi_1 = 1")
edges, density = layer_gradient_histograms(3.0, 0.5, 300, 6, rng)
fig, axes = plt.subplots(2, 3, figsize=(9, 5))
for l, ax in enumerate(axes.ravel()):
    ax.bar(edges[l, :-1], density[l], width=np.diff(edges[l]), align="edge")
    ax.set_title(f"layer {l + 1}")
plt.show()
""",
    "backprop": """\
import scipy.io
data = scipy.io.loadmat("mnist_sevens_nines.mat")
rng = np.random.default_rng(0)
for scale in (0.01, 0.1):
    weights = init_weights(50, 50, scale, rng)
    curves = train(data["X_train"], data["y_train"], data["X_test"], data["y_test"], weights,
                   0.1 / data["X_train"].shape[1], 2000)
    print(scale, curves["test_acc"][-1])
""",
}


# assignments that also get a module submission (eve.py)
MODULE_SUBMISSIONS = {"backprop": "Eve's backprop.py: the whole assignment as a plain module, graded like a notebook."}


def _write(nb, path: Path):
    path.write_text(nbformat.writes(nb) + "\n")


def bob_mistakes(rubric) -> list:
    """The two known mistakes in bob's notebook: the first mutants of two different quick items."""
    mistakes, seen = [], set()
    for m in answers.mistakes_of(rubric):
        if m.item not in seen and not rubric.item(m.item).checks[0].full:
            mistakes.append(m)
            seen.add(m.item)
        if len(mistakes) == 2:
            break
    return mistakes


def make(assignment: str, out_dir: Path) -> list[Path]:
    rubric = get_rubric(assignment)
    out = out_dir / assignment
    out.mkdir(parents=True, exist_ok=True)
    written = []
    nb = skeleton.build_notebook(rubric, solutions=True)
    if assignment in EXPLORATION:
        nb.cells.append(nbformat.v4.new_code_cell(EXPLORATION[assignment], id="exploration"))
    _write(nb, out / "alice.ipynb")
    written.append(out / "alice.ipynb")
    src = None
    for m in bob_mistakes(rubric):
        src = answers.mutated_source(rubric, m, src)
    _write(skeleton.build_notebook(rubric, source=src, solutions=True), out / "bob.ipynb")
    _write(skeleton.build_notebook(rubric), out / "carol.ipynb")
    text = nbformat.writes(skeleton.build_notebook(rubric, solutions=True))
    (out / "dave.ipynb").write_text(text[: len(text) // 3])
    written += [out / "bob.ipynb", out / "carol.ipynb", out / "dave.ipynb"]
    if assignment in MODULE_SUBMISSIONS:  # a plain .py module with the same functions
        eve = out / "eve.py"
        eve.write_text(f"# {MODULE_SUBMISSIONS[assignment]}\n" + skeleton.keep_solutions(answers.reference_source(rubric)))
        written.append(eve)
    return written


def main():
    for p in rubric_paths():
        for w in make(p.stem, ROOT / "examples"):
            print("wrote", w.relative_to(ROOT))


if __name__ == "__main__":
    main()

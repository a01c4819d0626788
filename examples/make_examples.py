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
import matplotlib.pyplot as plt
import scipy.io
data = scipy.io.loadmat("mnist_sevens_nines.mat")
X_train, X_test = data["X_train"].astype(float), data["X_test"].astype(float)
y_train, y_test = data["y_train"].astype(float), data["y_test"].astype(float)
rng = np.random.default_rng(0)
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
for scale in (0.01, 0.1):
    weights = init_weights(50, 50, scale, rng)
    curves = train(X_train, y_train, X_test, y_test, weights, 0.1 / X_train.shape[1], 5000)
    print(scale, curves["test_acc"][-1], best_stopping_iteration(curves["test_loss"]))
    for part in ("train", "test"):
        ax_loss.semilogy(curves[part + "_loss"], label=f"{part} {scale}")
        ax_acc.plot(curves[part + "_acc"], label=f"{part} {scale}")
ax_loss.set_xlabel("iteration"); ax_loss.legend(); ax_acc.set_xlabel("iteration"); ax_acc.set_ylabel("accuracy")
plt.show()

# part f: the phase portrait of the two-weight chain; part g: the balanced error
w1, w2 = np.meshgrid(np.linspace(-3, 3, 100), np.linspace(-3, 3, 100))
E = SIGMA_Y - 2 * SIGMA_YX * w1 * w2 + SIGMA_X * (w1 * w2) ** 2
plt.figure(figsize=(5, 4))
plt.contourf(w1, w2, E, levels=30); plt.colorbar(label="E")
for w0 in EULER_STARTS:
    traj = euler_trajectory(np.array(w0), SIGMA_Y, SIGMA_YX, SIGMA_X)
    plt.plot(traj[:, 0], traj[:, 1], "w-")
u = np.linspace(0.7, 3, 100)
plt.plot(u, 2 / u, "r--"); plt.plot(-u, -2 / u, "r--"); plt.plot(0, 0, "rx")
plt.xlabel("w1"); plt.ylabel("w2")
plt.figure(figsize=(4, 3))
w = np.linspace(0, 1.6, 200)
for D in range(2, 7):
    plt.plot(w, balanced_error(w, D, SIGMA_Y, SIGMA_YX, SIGMA_X), label=f"D={D}")
plt.ylim(0, 6); plt.xlabel("w"); plt.ylabel("E(w)"); plt.legend()
plt.show()
""",
    "dln-dynamics": """\
import matplotlib.pyplot as plt
rng = np.random.default_rng(0)
std = np.sqrt(INIT_VARIANCE)
w1 = rng.normal(0, std, (16, 4)); w2 = rng.normal(0, std, (7, 16)); w = rng.normal(0, std, (7, 4))
modes = simulate_modes(w1, w2, w, DT, TAU, SIGMA_X, SIGMA_YX, N_STEPS)
t = np.arange(N_STEPS + 1) * DT
s = np.linalg.svd(SIGMA_YX, compute_uv=False)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
axes[0].plot(t, modes["deep"]); axes[0].plot(t, analytic_deep(t[:, None], s[None, :], A0, TAU), "k--")
axes[1].plot(t, modes["shallow"]); axes[1].plot(t, analytic_shallow(t[:, None], s[None, :], B0, TAU), "k--")
axes[0].set_title("deep"); axes[1].set_title("shallow"); axes[0].set_xlabel("t"); axes[1].set_xlabel("t")
plt.show()

# A8/A9: a deep linear and a deep ReLU network on the tree data (the sheet's 1000 epochs at lr 0.5)
torch.manual_seed(0)
features, items = DiffuseTreeSampler(100, 3, 4, 0.05, rng=rng).sample_data()
for Net in (DeepLinearNetwork, DeepNonLinearNetwork):
    net = Net(64, 100, [64, 128, 128])
    loss_log, svs = train_network(net, nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.5), 1000, items, features)
    print(Net.__name__, loss_log[-1], convergence_epochs(svs, np.linalg.svd(features.T @ items, compute_uv=False))[:4])
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

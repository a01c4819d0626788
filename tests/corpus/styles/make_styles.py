"""Write the style corpus: honest, correct notebooks in styles the defs-only extractor drops (issue 13).

Run from the repository root (the output is deterministic: fixed cell ids):

    .venv/bin/python tests/corpus/styles/make_styles.py

Each *pair* is two notebooks with the same functions and the same maths:

* ``<name>.ipynb``, the **styled** notebook: written the way students write,
  with top-level statements that graded code needs (helpers built with method
  calls, lambdas, ``np.vectorize`` / ``functools.partial``-built graded
  functions, in-place updates, a ``@dataclass`` config instance, seeds,
  helper "modules" split over cells, re-definitions, top-level ``for`` loops
  filling a table, ``if`` blocks choosing a constant) mixed with module-level
  noise that must *not* run (long training loops and sweeps, plots, prints);
* ``<name>_twin.ipynb``, the **whitelist-style twin**: only imports, defs,
  classes and literal constants, so today's defs-only extractor keeps all of
  it (constants inlined or computed inside functions).

``tests/test_corpus_styles.py`` grades both with ``grader.pipeline.grade_file``
on the items the pair covers and checks that (a) the twin scores full marks and
(b) the styled notebook scores exactly what its twin scores and names no
mistake. The solutions are written from /work/shared/EXERCISES.md and the
skeletons' docstrings, independently of ``reference/``.

What the defs-only extractor of main (at 8ae947d, before dependency slicing)
scores, per styled notebook, against its twin on the pair's items (every twin
gets full marks; no styled notebook has a mistake named). Reprint it with
``make_styles.py --today``:

    pair                              assignment            items            twin    styled (today)
    sp_hermegauss_rebind              signal-propagation    D1,D3            6/6     0/6       [D1 0/4, D3 0/2]
    sp_inplace_vectorize_if           signal-propagation    D1,D3            6/6     0/6       [D1 0/4, D3 0/2]
    sp_dataclass_partial              signal-propagation    D1,D5            8/8     1.33333/8  [D1 0/4, D5 1.33333/4]
    sp_modules_table                  signal-propagation    D3,D4            5/5     0/5       [D3 0/2, D4 0/3]
    sp_random_nets_redef              signal-propagation    D2,D6,D7         8/8     0.4/8     [D2 0.4/2, D6 0/2, D7 0/4]
    lt_lambdas                        learning-time         E1,E2            6/6     0/6       [E1 0/4, E2 0/2]
    lt_partial_vectorize              learning-time         E3,E5            6/6     0/6       [E3 0/4, E5 0/2]
    lt_dataclass_dict                 learning-time         E6,E7            6/6     0/6       [E6 0/3, E7 0/3]
    lt_modules_redef                  learning-time         E3,E4            8/8     3.11111/8  [E3 0.666667/4, E4 2.44444/4]
    lt_loop_table_noise               learning-time         E5,E6            5/5     3/5       [E5 0/2, E6 3/3]
    dl_lambdas                        dln-dynamics          A1,A2            4/4     0/4       [A1 0/3, A2 0/1]
    dl_methods_svd                    dln-dynamics          A3,A4            5/5     1/5       [A3 0/2, A4 1/3]
    dl_torch_partial_seed             dln-dynamics          A7               3/3     0/3       [A7 0/3]
    dl_dataclass_train                dln-dynamics          A7,A8            7/7     3/7       [A7 3/3, A8 0/4]
    dl_redef_loop                     dln-dynamics          A9               2/2     0/2       [A9 0/2]
    bp_lambdas                        backprop              B1,B3,B5         6/6     1/6       [B1 0/2, B3 0/2, B5 1/2]
    bp_partial_dict                   backprop              B4,B6            12/12   0/12      [B4 0/6, B6 0/6]
    bp_dataclass_defaults             backprop              B8,B9,B10        8/8     3.5/8     [B8 1.5/3, B9 2/2, B10 0/3]
    bp_loop_table                     backprop              B7,B11           4/4     0/4       [B7 0/1, B11 0/3]
    bp_seed_default_rng               backprop              B2,B3            4/4     2/4       [B2 0/2, B3 2/2]
    ldl_lambdas                       linear-deep-learning  C1,C2            4/4     0/4       [C1 0/2, C2 0/2]
    ldl_torch_module_net              linear-deep-learning  C4,C5            7/7     1/7       [C4 1/3, C5 0/4]
    ldl_partial_inplace               linear-deep-learning  C6,C10           9/9     5.14286/9  [C6 2.28571/4, C10 2.85714/5]
    ldl_dataclass_regimes             linear-deep-learning  C8,C9            6/6     3.93333/6  [C8 2.6/4, C9 1.33333/2]
    ldl_loop_redef                    linear-deep-learning  C3,C7            7/7     4/7       [C3 0/3, C7 4/4]

Every point lost is the extractor's: the styled notebooks lose their lambdas,
partials, vectorized functions, tables, config instances and in-place fixes
(NameError, KeyError, a stale first attempt), so correct answers lose points.
Executing *every* top-level statement instead is no cure: the noise is made
expensive on purpose (a 10^5-point phase diagram, minutes of training, a
10^9-step Euler check), so such a grader runs out of the 60 s the worker
allows for loading the definitions.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
# the styled notebooks are the course's alternative-method references: `dlgrade validate` grades them too
ALTERNATIVES = HERE.parents[2] / "rubrics" / "alternatives"


@dataclass(frozen=True)
class Pair:
    name: str
    assignment: str
    items: tuple[str, ...]
    styles: tuple[str, ...]
    styled: tuple[str, ...]
    twin: tuple[str, ...]

    @property
    def files(self) -> tuple[str, str]:
        return f"{self.name}.ipynb", f"{self.name}_twin.ipynb"


PAIRS: list[Pair] = []


def pair(name, assignment, items, styles, styled, twin):
    PAIRS.append(Pair(name, assignment, tuple(items.split(",")), tuple(styles), tuple(styled), tuple(twin)))


def md(text: str) -> str:
    return "#md\n" + text


def build(name: str, cells: tuple[str, ...], alternative: Pair | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.7"},
    }
    if alternative is not None:  # what `dlgrade validate` reads: the items it must score in full
        nb.metadata["dlgrade"] = {"assignment": alternative.assignment,
                                  "alternative": {"items": list(alternative.items),
                                                  "styles": list(alternative.styles)}}
    for i, text in enumerate(cells):
        if text.startswith("#md\n"):
            cell = nbformat.v4.new_markdown_cell(text[4:].strip("\n"))
        else:
            cell = nbformat.v4.new_code_cell(text.strip("\n"))
        cell.id = f"{name[:40]}-{i:03d}"
        nb.cells.append(cell)
    return nb


def styled_path(p: Pair, root: Path | None = None) -> Path:
    """Where the styled notebook of ``p`` lives: ``rubrics/alternatives/<assignment>/`` (or ``root``)."""
    return (root / p.files[0]) if root else ALTERNATIVES / p.assignment / p.files[0]


def write_all(out: Path = None) -> list[Path]:
    """Every pair: the styled notebook to the alternatives (or ``out``), the twin here (or ``out``)."""
    written = []
    for p in PAIRS:
        for which, cells in enumerate((p.styled, p.twin)):
            fname = p.files[which]
            nb = build(fname[:-6], cells, p if which == 0 else None)
            nbformat.validate(nb)
            path = styled_path(p, out) if which == 0 else (out or HERE) / fname
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(nbformat.writes(nb))
            written.append(path)
    return written


# ===========================================================================
# D. signal-propagation


SP_IMPORTS = """
import numpy as np
from scipy.optimize import brentq
import matplotlib.pyplot as plt
%matplotlib inline
"""

SP_IMPORTS_TWIN = """
import numpy as np
from scipy.optimize import brentq
"""

# --- sp_hermegauss_rebind ---------------------------------------------------

SP1_QMAP = '''
def q_map(q, sigma_w, sigma_b):
    """Length map q -> sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2."""
    return sigma_w ** 2 * gauss_avg(lambda z: phi(np.sqrt(q) * z) ** 2) + sigma_b ** 2


def q_star(sigma_w, sigma_b, n_iter=20000, tol=1e-15):
    """Iterate the length map from q = 1 until it stops moving."""
    q = 1.0
    for _ in range(n_iter):
        q_new = q_map(q, sigma_w, sigma_b)
        if abs(q_new - q) < tol:
            return q_new
        q = q_new
    return q
'''

SP1_CHI = '''
def chi1(sigma_w, sigma_b):
    """chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]."""
    qs = q_star(sigma_w, sigma_b)
    return sigma_w ** 2 * gauss_avg(lambda z: dphi(np.sqrt(qs) * z) ** 2)
'''

pair(
    "sp_hermegauss_rebind", "signal-propagation", "D1,D3",
    ["top-level quadrature nodes rebound with a method call (`_w = _w / _w.sum()`, the issue's example)",
     "lambdas for phi, phi' and the Gaussian average", "prints and a plot at the top level"],
    styled=(
        md("# Problem sheet 2: signal propagation\nGauss-Hermite quadrature for all Gaussian averages."),
        SP_IMPORTS,
        """
# probabilists' Gauss-Hermite rule: E_z[f(z)] = sum_i w_i f(z_i)
_z, _w = np.polynomial.hermite_e.hermegauss(201)
_w = _w / _w.sum()          # turn the weights into probabilities
print(_w.sum(), _z.min(), _z.max())
""",
        """
phi = lambda u: np.tanh(u)
dphi = lambda u: 1.0 - np.tanh(u) ** 2
gauss_avg = lambda f: np.dot(_w, f(_z))
""",
        md("## D1: the length map"),
        SP1_QMAP,
        """
qs = np.linspace(0, 5, 200)
plt.plot(qs, [q_map(q, 2.0, 0.3) for q in qs], label="q map")
plt.plot(qs, qs, "k--", label="identity")
plt.legend(); plt.show()
print("q* =", q_star(2.0, 0.3))
""",
        md("## D3: chi_1"),
        SP1_CHI,
        'print("chi1 =", chi1(2.0, 0.3))',
    ),
    twin=(
        SP_IMPORTS_TWIN,
        '''
def _gauss_rule():
    z, w = np.polynomial.hermite_e.hermegauss(201)
    return z, w / w.sum()


def gauss_avg(f):
    z, w = _gauss_rule()
    return np.dot(w, f(z))


def phi(u):
    return np.tanh(u)


def dphi(u):
    return 1.0 - np.tanh(u) ** 2
''',
        SP1_QMAP,
        SP1_CHI,
    ),
)

# --- sp_inplace_vectorize_if ------------------------------------------------

SP2_E = '''
def _E(f, q):
    """E_z[f(sqrt(q) z)] with the Gauss-Hermite rule."""
    return np.sum(GH_W * f(np.sqrt(q) * GH_Z))
'''

SP2_FUNCS = '''
def q_map(q, sigma_w, sigma_b):
    return sigma_w ** 2 * _E(lambda u: np.tanh(u) ** 2, q) + sigma_b ** 2


def _q_star_scalar(sigma_w, sigma_b):
    if sigma_b == 0 and sigma_w <= 1:
        return 0.0                      # q = 0 is the stable fixed point
    hi = sigma_w ** 2 + sigma_b ** 2 + 1.0   # q_map(q) < sigma_w^2 + sigma_b^2
    lo = 1e-12 if sigma_b == 0 else 0.0      # skip the unstable root q = 0
    return brentq(lambda q: q_map(q, sigma_w, sigma_b) - q, lo, hi, xtol=1e-15, maxiter=500)


def _chi1_scalar(sigma_w, sigma_b):
    return sigma_w ** 2 * _E(lambda u: (1.0 - np.tanh(u) ** 2) ** 2, q_star(sigma_w, sigma_b))
'''

pair(
    "sp_inplace_vectorize_if", "signal-propagation", "D1,D3",
    ["an `if` block choosing the number of nodes", "in-place update of the weights (`GH_W /= SQRT_2PI`)",
     "graded functions built with `np.vectorize` (`q_star = np.vectorize(...)`)",
     "an expensive phase-diagram sweep (10^5 root finds) and a plot at the top level"],
    styled=(
        """
import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import brentq
import matplotlib.pyplot as plt
""",
        """
SQRT_2PI = np.sqrt(2 * np.pi)
HIGH_PRECISION = True
if HIGH_PRECISION:
    N_NODES = 301
else:
    N_NODES = 61
GH_Z, GH_W = hermegauss(N_NODES)
GH_W /= SQRT_2PI        # hermegauss weights sum to sqrt(2 pi)
""",
        SP2_E,
        SP2_FUNCS,
        """
q_star = np.vectorize(_q_star_scalar, otypes=[float])
chi1 = np.vectorize(_chi1_scalar, otypes=[float])
""",
        md("Phase diagram (takes a while)"),
        """
SW, SB = np.meshgrid(np.linspace(0.5, 4.0, 400), np.linspace(0.0, 1.0, 400))
CHI = chi1(SW, SB)
plt.contourf(SW ** 2, SB ** 2, np.log(CHI), levels=30)
plt.contour(SW ** 2, SB ** 2, CHI, levels=[1.0], colors="k")
plt.xlabel("sigma_w^2"); plt.ylabel("sigma_b^2"); plt.show()
""",
    ),
    twin=(
        SP_IMPORTS_TWIN,
        '''
N_NODES = 301


def _nodes():
    z, w = np.polynomial.hermite_e.hermegauss(N_NODES)
    return z, w / np.sqrt(2 * np.pi)


def _E(f, q):
    """E_z[f(sqrt(q) z)] with the Gauss-Hermite rule."""
    gh_z, gh_w = _nodes()
    return np.sum(gh_w * f(np.sqrt(q) * gh_z))
''',
        SP2_FUNCS,
        '''
def q_star(sigma_w, sigma_b):
    return np.vectorize(_q_star_scalar, otypes=[float])(sigma_w, sigma_b)


def chi1(sigma_w, sigma_b):
    return np.vectorize(_chi1_scalar, otypes=[float])(sigma_w, sigma_b)
''',
    ),
)

# --- sp_dataclass_partial ---------------------------------------------------

SP3_Q = '''
def q_map(q, sigma_w, sigma_b):
    return sigma_w ** 2 * np.sum(W1D * np.tanh(np.sqrt(q) * Z1D) ** 2) + sigma_b ** 2


def q_star(sigma_w, sigma_b):
    q = 1.0
    for _ in range(100000):
        q_new = q_map(q, sigma_w, sigma_b)
        if abs(q_new - q) < Q_TOL:
            return q_new
        q = q_new
    return q
'''

SP3_C = '''
def _c_map(c, sigma_w, sigma_b, phi):
    """Correlation map at the fixed length q* (a 2-D Gauss-Hermite average)."""
    q = q_star(sigma_w, sigma_b)
    u1 = np.sqrt(q) * Z1
    u2 = np.sqrt(q) * (c * Z1 + np.sqrt(max(1.0 - c * c, 0.0)) * Z2)
    return (sigma_w ** 2 * np.sum(W2D * phi(u1) * phi(u2)) + sigma_b ** 2) / q
'''

SP3_CSTAR = '''
def c_star(sigma_w, sigma_b):
    q = q_star(sigma_w, sigma_b)
    chi = sigma_w ** 2 * np.sum(W1D * (1.0 - np.tanh(np.sqrt(q) * Z1D) ** 2) ** 2)
    if chi <= 1.0:
        return 1.0              # ordered phase: c = 1 is stable
    f = lambda c: c_map(c, sigma_w, sigma_b) - c    # chaotic: the root below 1 (f(0) = sigma_b^2 / q* >= 0)
    hi = 0.99
    while f(hi) >= 0:           # move the upper end towards 1 until f < 0 there
        hi = 1 - (1 - hi) / 10
    return brentq(f, 0.0, hi, xtol=C_TOL)


def correlation_trajectory(x1, x2, sigma_w, sigma_b, width, depth, rng):
    X = np.stack([np.asarray(x1, float), np.asarray(x2, float)], axis=1)   # (n_in, 2)
    out = np.empty(depth)
    for l in range(depth):
        n_in = X.shape[0]
        W = rng.normal(0.0, sigma_w / np.sqrt(n_in), size=(width, n_in))
        b = rng.normal(0.0, sigma_b, size=(width, 1))
        H = W @ X + b
        out[l] = H[:, 0] @ H[:, 1] / np.sqrt((H[:, 0] @ H[:, 0]) * (H[:, 1] @ H[:, 1]))
        X = np.tanh(H)
    return out
'''

pair(
    "sp_dataclass_partial", "signal-propagation", "D1,D5",
    ["a `@dataclass` config instance read by the functions, tweaked in place (`cfg.n_nodes = 121`)",
     "quadrature grids built at the top level from the config (`np.meshgrid`, `w / np.sqrt(...)`)",
     "a graded function built with `functools.partial` (`c_map = partial(_c_map, phi=np.tanh)`)",
     "a printed table and a plot at the top level"],
    styled=(
        SP_IMPORTS,
        """
from dataclasses import dataclass
from functools import partial


@dataclass
class MeanFieldConfig:
    n_nodes: int = 61
    q_tol: float = 1e-14
    c_tol: float = 1e-14


cfg = MeanFieldConfig()
cfg.n_nodes = 121      # 61 nodes were not enough for c_map to 1e-8
""",
        """
Z1D, W1D = np.polynomial.hermite_e.hermegauss(cfg.n_nodes)
W1D = W1D / np.sqrt(2 * np.pi)
Z1, Z2 = np.meshgrid(Z1D, Z1D, indexing="ij")
W2D = np.outer(W1D, W1D)
Q_TOL, C_TOL = cfg.q_tol, cfg.c_tol
""",
        SP3_Q,
        SP3_C,
        "c_map = partial(_c_map, phi=np.tanh)",
        SP3_CSTAR,
        """
for sw, sb in [(1.5, 0.05), (2.0, 0.3), (0.9, 0.1)]:
    print(sw, sb, q_star(sw, sb), c_star(sw, sb))
cs = np.linspace(-1, 1, 101)
plt.plot(cs, [c_map(c, 1.5, 0.05) for c in cs]); plt.plot(cs, cs, "k--"); plt.show()
""",
    ),
    twin=(
        SP_IMPORTS_TWIN,
        """
from dataclasses import dataclass

N_NODES = 121
Q_TOL = 1e-14
C_TOL = 1e-14
""",
        '''
def _rule():
    z, w = np.polynomial.hermite_e.hermegauss(N_NODES)
    return z, w / np.sqrt(2 * np.pi)


def q_map(q, sigma_w, sigma_b):
    Z1D, W1D = _rule()
    return sigma_w ** 2 * np.sum(W1D * np.tanh(np.sqrt(q) * Z1D) ** 2) + sigma_b ** 2


def q_star(sigma_w, sigma_b):
    q = 1.0
    for _ in range(100000):
        q_new = q_map(q, sigma_w, sigma_b)
        if abs(q_new - q) < Q_TOL:
            return q_new
        q = q_new
    return q


def _c_map(c, sigma_w, sigma_b, phi):
    """Correlation map at the fixed length q* (a 2-D Gauss-Hermite average)."""
    Z1D, W1D = _rule()
    Z1, Z2 = np.meshgrid(Z1D, Z1D, indexing="ij")
    W2D = np.outer(W1D, W1D)
    q = q_star(sigma_w, sigma_b)
    u1 = np.sqrt(q) * Z1
    u2 = np.sqrt(q) * (c * Z1 + np.sqrt(max(1.0 - c * c, 0.0)) * Z2)
    return (sigma_w ** 2 * np.sum(W2D * phi(u1) * phi(u2)) + sigma_b ** 2) / q


def c_map(c, sigma_w, sigma_b):
    return _c_map(c, sigma_w, sigma_b, phi=np.tanh)
''',
        SP3_CSTAR.replace("    q = q_star(sigma_w, sigma_b)\n    chi =",
                          "    Z1D, W1D = _rule()\n    q = q_star(sigma_w, sigma_b)\n    chi ="),
    ),
)

# --- sp_modules_table -------------------------------------------------------

SP4_ZFUNCS = '''
def q_map(q, sigma_w, sigma_b):
    return sigma_w ** 2 * np.sum(PZ * np.tanh(np.sqrt(q) * ZG) ** 2) + sigma_b ** 2


def q_star(sigma_w, sigma_b):
    if sigma_b == 0 and sigma_w <= 1:
        return 0.0
    lo = 1e-12 if sigma_b == 0 else 0.0
    return brentq(lambda q: q_map(q, sigma_w, sigma_b) - q, lo, sigma_w ** 2 + sigma_b ** 2 + 1, xtol=1e-15)


def chi1(sigma_w, sigma_b):
    q = q_star(sigma_w, sigma_b)
    return sigma_w ** 2 * np.sum(PZ * (1.0 - np.tanh(np.sqrt(q) * ZG) ** 2) ** 2)
'''

SP4_EDGE = '''
def gauss_u(g, q):
    """E[g(u)] for u ~ N(0, q), g sampled on the grid U (trapezoid rule; the tails are negligible)."""
    dens = np.exp(-U ** 2 / (2 * q)) / np.sqrt(2 * np.pi * q)
    return np.sum(g * dens) * DU


def edge_of_chaos(q_stars):
    q_stars = np.asarray(q_stars, dtype=float)
    sw = np.empty_like(q_stars)
    sb = np.empty_like(q_stars)
    for i, q in np.ndenumerate(q_stars):
        sw2 = 1.0 / gauss_u(SECH[4], q)                 # chi_1 = 1
        sb2 = q - sw2 * (1.0 - gauss_u(SECH[2], q))    # q* = q_map(q*), E[tanh^2] = 1 - E[sech^2]
        sw[i], sb[i] = np.sqrt(sw2), np.sqrt(sb2)
    return sw, sb
'''

pair(
    "sp_modules_table", "signal-propagation", "D3,D4",
    ["a helper 'module' split over several cells (grids, then tables, then the averaging helper)",
     "a top-level `for` loop filling a table the functions read (`SECH[k] = ...`)",
     "in-place normalisation with a method call (`PZ /= PZ.sum()`)", "a plot of the critical line"],
    styled=(
        SP_IMPORTS,
        md("### helpers 1/3: grids\nz-grid for small q, u-grid (u = sqrt(q) z) for the edge of chaos, "
           "where phi'(u)^2 is a spike of width 1/sqrt(q) in z."),
        """
ZG = np.linspace(-12.0, 12.0, 2401)
PZ = np.exp(-ZG ** 2 / 2)
PZ /= PZ.sum()
U = np.linspace(-40.0, 40.0, 16001)
DU = U[1] - U[0]
""",
        md("### helpers 2/3: tabulated sech powers"),
        """
SECH = {}
for k in (2, 4):
    SECH[k] = np.cosh(U) ** (-k)
""",
        md("### helpers 3/3 and the exercises"),
        SP4_ZFUNCS,
        SP4_EDGE,
        """
qq = np.logspace(0, 3, 60)
sw, sb = edge_of_chaos(qq)
plt.plot(sw ** 2, sb ** 2); plt.xlabel("sigma_w^2"); plt.ylabel("sigma_b^2"); plt.show()
""",
    ),
    twin=(
        SP_IMPORTS_TWIN,
        '''
def _z_grid():
    ZG = np.linspace(-12.0, 12.0, 2401)
    PZ = np.exp(-ZG ** 2 / 2)
    return ZG, PZ / PZ.sum()


def _u_grid():
    U = np.linspace(-40.0, 40.0, 16001)
    return U, U[1] - U[0]


def _sech_table():
    U, _ = _u_grid()
    return {k: np.cosh(U) ** (-k) for k in (2, 4)}
''',
        SP4_ZFUNCS.replace("    return sigma_w ** 2 * np.sum(PZ * np.tanh",
                           "    ZG, PZ = _z_grid()\n    return sigma_w ** 2 * np.sum(PZ * np.tanh")
                  .replace("    q = q_star(sigma_w, sigma_b)\n    return",
                           "    ZG, PZ = _z_grid()\n    q = q_star(sigma_w, sigma_b)\n    return"),
        SP4_EDGE.replace("    dens = np.exp", "    U, DU = _u_grid()\n    dens = np.exp")
                .replace("    sb = np.empty_like(q_stars)\n", "    sb = np.empty_like(q_stars)\n    SECH = _sech_table()\n"),
    ),
)

# --- sp_random_nets_redef ---------------------------------------------------

SP5_QSTAR = '''
def q_star(sigma_w, sigma_b):
    if sigma_b == 0 and sigma_w <= 1:
        return 0.0
    f = lambda q: sigma_w ** 2 * np.sum(GW * np.tanh(np.sqrt(q) * GZ) ** 2) + sigma_b ** 2 - q
    return brentq(f, 1e-12 if sigma_b == 0 else 0.0, sigma_w ** 2 + sigma_b ** 2 + 1, xtol=1e-15)
'''

SP5_PROPAGATE = '''
def _propagate_q(sigma_w, sigma_b, width, depth, n_inputs, rng, phi):
    x = rng.standard_normal((width, n_inputs))
    qs = []
    for _ in range(depth):
        W = rng.normal(0.0, sigma_w / np.sqrt(width), (width, width))
        b = rng.normal(0.0, sigma_b, (width, 1))
        h = W @ x + b
        qs.append(np.mean(h ** 2))
        x = phi(h)
    return np.array(qs)
'''

SP5_REST = '''
def chi1_empirical(sigma_w, sigma_b, width, rng):
    q = q_star(sigma_w, sigma_b)
    h_prev = rng.normal(0.0, np.sqrt(q), width)
    W = rng.normal(0.0, sigma_w / np.sqrt(width), (width, width))
    b = rng.normal(0.0, sigma_b, width)
    h = W @ tanh(h_prev) + b
    J = dtanh(h)[:, None] * W
    return np.trace(J.T @ J) / width


def _layer_grads(sigma_w, sigma_b, width, depth, rng):
    q = q_star(sigma_w, sigma_b)
    x = tanh(rng.normal(0.0, np.sqrt(q), width))
    xs, hs, Ws = [], [], []
    for _ in range(depth):
        W = rng.normal(0.0, sigma_w / np.sqrt(width), (width, width))
        b = rng.normal(0.0, sigma_b, width)
        h = W @ x + b
        xs.append(x)
        hs.append(h)
        Ws.append(W)
        x = tanh(h)
    v = rng.standard_normal(width)
    delta = v                       # dL/dh^depth for L = v . h^depth
    grads = [None] * depth
    for l in reversed(range(depth)):
        grads[l] = np.outer(delta, xs[l])
        if l > 0:
            delta = (Ws[l].T @ delta) * dtanh(hs[l - 1])
    return grads


def layer_gradient_norms(sigma_w, sigma_b, width, depth, rng):
    return np.array([np.linalg.norm(g) for g in _layer_grads(sigma_w, sigma_b, width, depth, rng)])


def layer_gradient_histograms(sigma_w, sigma_b, width, depth, rng, n_bins=41):
    grads = _layer_grads(sigma_w, sigma_b, width, depth, rng)
    edges = np.zeros((depth, n_bins + 1))
    density = np.zeros((depth, n_bins))
    for l, g in enumerate(grads):
        density[l], edges[l] = np.histogram(g.ravel(), bins=n_bins, density=True)
    return edges, density
'''

pair(
    "sp_random_nets_redef", "signal-propagation", "D2,D6,D7",
    ["seeds at the top level (`np.random.seed(0)`, `rng = np.random.default_rng(0)`)",
     "a wrong first attempt (`def empirical_q`) redefined later with `functools.partial`",
     "a global lambda rebound in a later cell (`dtanh`)", "quadrature weights normalised in place",
     "a long Monte-Carlo study and plots at the top level"],
    styled=(
        SP_IMPORTS,
        """
from functools import partial

np.random.seed(0)
rng = np.random.default_rng(0)
tanh = np.tanh
dtanh = lambda x: 1.0 - x ** 2      # derivative written in terms of the activation x = tanh(h)
""",
        """
GZ, GW = np.polynomial.hermite_e.hermegauss(101)
GW /= np.sqrt(2 * np.pi)
""",
        SP5_QSTAR,
        md("## D2: the length map in a real network"),
        '''
def empirical_q(sigma_w, sigma_b, width, depth, n_inputs, rng):
    """first attempt"""
    x = rng.standard_normal((width, n_inputs))
    qs = []
    for _ in range(depth):
        W = rng.normal(0.0, sigma_w, (width, width))
        h = W @ x + rng.normal(0.0, sigma_b, (width, 1))
        qs.append(np.mean(h ** 2))
        x = np.tanh(h)
    return np.array(qs)
''',
        'print(empirical_q(2.0, 0.3, 100, 5, 2, rng))   # huge: forgot the 1/N in the variance',
        SP5_PROPAGATE,
        "empirical_q = partial(_propagate_q, phi=tanh)",
        """
qs = empirical_q(2.0, 0.3, 1000, 50, 20, rng)
plt.plot(qs); plt.axhline(q_star(2.0, 0.3), ls="--"); plt.show()
""",
        md("## D6, D7: Jacobians and gradients\nThe Jacobian needs phi'(h) of the *pre*-activation:"),
        "dtanh = lambda h: 1.0 - np.tanh(h) ** 2",
        SP5_REST,
        """
all_norms = []
for trial in range(200):
    all_norms.append(layer_gradient_norms(3.0, 0.5, 500, 50, rng))
plt.semilogy(np.mean(all_norms, axis=0)); plt.show()
""",
    ),
    twin=(
        SP_IMPORTS_TWIN,
        '''
tanh = np.tanh


def dtanh(h):
    return 1.0 - np.tanh(h) ** 2


def _gh():
    z, w = np.polynomial.hermite_e.hermegauss(101)
    return z, w / np.sqrt(2 * np.pi)
''',
        SP5_QSTAR.replace("    f = lambda q:", "    GZ, GW = _gh()\n    f = lambda q:"),
        SP5_PROPAGATE,
        '''
def empirical_q(sigma_w, sigma_b, width, depth, n_inputs, rng):
    return _propagate_q(sigma_w, sigma_b, width, depth, n_inputs, rng, phi=tanh)
''',
        SP5_REST,
    ),
)


# ===========================================================================
# E. learning-time

LT_IMPORTS = "import numpy as np"
LT_IMPORTS_STYLED = """
import numpy as np
from scipy.integrate import quad
import matplotlib.pyplot as plt
"""

pair(
    "lt_lambdas", "learning-time", "E1,E2",
    ["graded functions written as lambdas (`theta_rhs = lambda ...`)", "helper lambdas read by a def",
     "a numerical check with scipy.integrate.quad and prints at the top level"],
    styled=(
        LT_IMPORTS_STYLED,
        "theta_rhs = lambda theta, s, c0, tau: (s - c0 * np.sinh(theta)) / tau",
        """
_r = lambda s, c0: np.sqrt(c0 ** 2 + s ** 2)
_F = lambda theta, s, c0: np.log(np.abs((_r(s, c0) + c0 + s * np.tanh(theta / 2))
                                        / (_r(s, c0) - c0 - s * np.tanh(theta / 2))))
""",
        '''
def learning_time(theta0, theta_f, s, c0, tau):
    """eq (4), from u = tanh(theta/2) and partial fractions"""
    return tau / _r(s, c0) * (_F(theta_f, s, c0) - _F(theta0, s, c0))
''',
        """
num, _ = quad(lambda th: 1.0 / theta_rhs(th, 2.0, 1.0, 1.0), 0.0, 1.0)
print(num, learning_time(0.0, 1.0, 2.0, 1.0, 1.0))
""",
        """
theta_fixed_point = lambda s, c0: np.arcsinh(s / c0)
theta_final = lambda s, c0, eps: np.arcsinh((1 - eps) * s / c0)
""",
        """
ths = np.linspace(-2, 2, 100)
plt.plot(ths, theta_rhs(ths, 2.0, 1.0, 1.0)); plt.axvline(theta_fixed_point(2.0, 1.0)); plt.show()
""",
    ),
    twin=(
        LT_IMPORTS,
        '''
def theta_rhs(theta, s, c0, tau):
    return (s - c0 * np.sinh(theta)) / tau


def _r(s, c0):
    return np.sqrt(c0 ** 2 + s ** 2)


def _F(theta, s, c0):
    return np.log(np.abs((_r(s, c0) + c0 + s * np.tanh(theta / 2))
                         / (_r(s, c0) - c0 - s * np.tanh(theta / 2))))


def learning_time(theta0, theta_f, s, c0, tau):
    """eq (4), from u = tanh(theta/2) and partial fractions"""
    return tau / _r(s, c0) * (_F(theta_f, s, c0) - _F(theta0, s, c0))


def theta_fixed_point(s, c0):
    return np.arcsinh(s / c0)


def theta_final(s, c0, eps):
    return np.arcsinh((1 - eps) * s / c0)
''',
    ),
)

LT2_GRAD = '''
def chain_grad(a, s, tau):
    a = np.asarray(a, dtype=float)
    return -(s - np.prod(a)) * _others(a) / tau


def chain_hessian(a, s, tau):
    a = np.asarray(a, dtype=float)
    n = a.size
    P = np.prod(a)
    Pi = _others(a)
    H = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            if i == j:
                H[i, j] = Pi[i] ** 2
            else:
                H[i, j] = Pi[i] * Pi[j] - (s - P) * np.prod(np.delete(a, [i, j]))
    return H / tau


def _optimal_lr_scalar(s, n_layers, tau):
    return tau / ((n_layers - 1) * s ** (2 - 2 / (n_layers - 1)))
'''

pair(
    "lt_partial_vectorize", "learning-time", "E3,E5",
    ["a graded function built with `functools.partial` (`chain_loss = partial(_chain_error, power=2)`)",
     "a graded function built with `np.vectorize` (`optimal_lr`)", "a helper lambda with a comprehension",
     "a scaling study printed at the top level"],
    styled=(
        LT_IMPORTS_STYLED,
        "from functools import partial",
        '''
def _chain_error(a, s, tau, power):
    return (s - np.prod(a)) ** power / (2 * tau)


chain_loss = partial(_chain_error, power=2)   # eq (5) with the square the source forgot
_others = lambda a: np.array([np.prod(np.delete(a, i)) for i in range(len(a))])
''',
        LT2_GRAD,
        "optimal_lr = np.vectorize(_optimal_lr_scalar, otypes=[float])",
        """
for n in [3, 10, 30, 100, 300, 1000]:
    print(n, optimal_lr(2.0, n, 1.0) * n * 2.0 ** 2)
""",
    ),
    twin=(
        LT_IMPORTS,
        '''
def _chain_error(a, s, tau, power):
    return (s - np.prod(a)) ** power / (2 * tau)


def chain_loss(a, s, tau):
    return _chain_error(a, s, tau, power=2)


def _others(a):
    return np.array([np.prod(np.delete(a, i)) for i in range(len(a))])
''',
        LT2_GRAD,
        '''
def optimal_lr(s, n_layers, tau):
    return np.vectorize(_optimal_lr_scalar, otypes=[float])(s, n_layers, tau)
''',
    ),
)

LT3_T = '''
def t3(u0, uf, s, c):
    return c * _log_ratio(u0, uf, s)


def t_inf(u0, uf, s, c):
    return c * (_log_ratio(u0, uf, s) + s / u0 - s / uf)
'''

LT3_BLT = '''
def balanced_learning_time(s, n_layers, u0, eps, lr_scale=DEFAULT_LR_SCALE, tau=DEFAULT_TAU):
    n_w = n_layers - 1
    a = np.full(n_w, u0 ** (1.0 / n_w))
    lam = (n_layers - 1) * s ** (2 - 2 / (n_layers - 1)) / tau      # eq (19)
    lr = lr_scale / lam
    target = (1 - eps) * s
    for k in range(MAX_ITER + 1):
        P = np.prod(a)
        if P >= target:
            return k
        left = np.concatenate(([1.0], np.cumprod(a[:-1])))
        right = np.concatenate((np.cumprod(a[::-1][:-1])[::-1], [1.0]))
        grad = -(s - P) * left * right / tau
        a = a - lr * grad
    raise RuntimeError(f"no convergence after {MAX_ITER} updates")
'''

pair(
    "lt_dataclass_dict", "learning-time", "E6,E7",
    ["a `@dataclass` settings instance changed in place (`settings.max_iter = 10_000_000`)",
     "a dict of parameters filled by item assignment (`params[\"lr_scale\"] = 1.0`)",
     "default arguments read from those globals at definition time", "a helper lambda"],
    styled=(
        LT_IMPORTS_STYLED,
        """
from dataclasses import dataclass


@dataclass
class GDSettings:
    max_iter: int = 1000


settings = GDSettings()
settings.max_iter = 10_000_000       # 1000 was too few for small lr_scale
params = {}
params["lr_scale"] = 1.0
params["tau"] = 1.0
""",
        "_log_ratio = lambda u0, uf, s: np.log(uf * (s - u0) / (u0 * (s - uf)))",
        LT3_T,
        LT3_BLT.replace("lr_scale=DEFAULT_LR_SCALE, tau=DEFAULT_TAU", 'lr_scale=params["lr_scale"], tau=params["tau"]')
               .replace("MAX_ITER", "settings.max_iter"),
        """
depths = list(range(2, 200))
times = [balanced_learning_time(2.0, n, 0.0002, 0.001, 0.05) for n in depths]
plt.plot(depths, times); plt.show()
""",
    ),
    twin=(
        LT_IMPORTS,
        """
DEFAULT_LR_SCALE = 1.0
DEFAULT_TAU = 1.0
MAX_ITER = 10_000_000
""",
        '''
def _log_ratio(u0, uf, s):
    return np.log(uf * (s - u0) / (u0 * (s - uf)))
''',
        LT3_T,
        LT3_BLT,
    ),
)

LT4_E3 = '''
def chain_loss(a, s, tau):
    return (s - prod(a)) ** 2 / (2 * tau)


def chain_grad(a, s, tau):
    a = np.asarray(a, dtype=float)
    return -(s - prod(a)) * others(a) / tau


def chain_hessian(a, s, tau):
    a = np.asarray(a, dtype=float)
    n, P, Pi = a.size, prod(a), others(a)
    H = np.outer(Pi, Pi)
    for i in range(n):
        for j in range(n):
            if i != j:
                H[i, j] -= (s - P) * pair_others(a, i, j)
    return H / tau
'''

LT4_E4 = '''
def newton_step(a, s, n_layers, tau):
    grad = -(s - a ** (n_layers - 1)) * a ** (n_layers - 2) / tau      # eq (13)
    return a - grad / lambda1(a, s, n_layers, tau)                      # eq (18): the new weight


def lambda1_opt(s, n_layers, tau):
    return (n_layers - 1) * s ** (2 - 2 / (n_layers - 1)) / tau
'''

LT4_LAMBDA1 = ("((2 * n_layers - 3) * a ** (2 * n_layers - 4)"
               " - (n_layers - 2) * s * a ** (n_layers - 3)) / tau")

pair(
    "lt_modules_redef", "learning-time", "E3,E4",
    ["a helper 'module' split over two cells (`prod = np.prod`, then lambdas built on it)",
     "a wrong first attempt (`def lambda1` without tau) redefined correctly later as a lambda",
     "prints at the top level"],
    styled=(
        LT_IMPORTS_STYLED,
        md("### chain helpers, part 1"),
        """
prod = np.prod
others = lambda a: np.array([prod(a[:i]) * prod(a[i + 1:]) for i in range(len(a))])
""",
        md("### chain helpers, part 2"),
        "pair_others = lambda a, i, j: prod(np.delete(a, [i, j]))",
        LT4_E3,
        '''
def lambda1(a, s, n_layers, tau):
    return (2 * n_layers - 3) * a ** (2 * n_layers - 4) - (n_layers - 2) * s * a ** (n_layers - 3)
''',
        LT4_E4,
        'print(lambda1(1.0, 1.0, 3, 2.0), "should be 1: forgot tau")',
        "lambda1 = lambda a, s, n_layers, tau: " + LT4_LAMBDA1,
        "print(lambda1(1.0, 1.0, 3, 2.0), np.linalg.eigvalsh(chain_hessian(np.ones(2), 1.0, 2.0)))",
    ),
    twin=(
        LT_IMPORTS,
        '''
prod = np.prod


def others(a):
    return np.array([prod(a[:i]) * prod(a[i + 1:]) for i in range(len(a))])


def pair_others(a, i, j):
    return prod(np.delete(a, [i, j]))
''',
        LT4_E3,
        f'''
def lambda1(a, s, n_layers, tau):
    return {LT4_LAMBDA1}
''',
        LT4_E4,
    ),
)

LT5_FUNCS = '''
def optimal_lr(s, n_layers, tau):
    return tau / ((n_layers - 1) * s ** EXPONENT[n_layers])


def t3(u0, uf, s, c):
    return c * np.log(uf * (s - u0) / (u0 * (s - uf)))


def t_inf(u0, uf, s, c):
    return t3(u0, uf, s, c) + c * (s / u0 - s / uf)
'''

pair(
    "lt_loop_table_noise", "learning-time", "E5,E6",
    ["a top-level `for` loop filling a table the graded function reads (`EXPONENT[n] = ...`)",
     "a very long Euler integration at the top level (10^9 steps) that must not run",
     "top-level variables named like the functions' parameters (`u`, `k`)", "a plot"],
    styled=(
        LT_IMPORTS_STYLED,
        """
EXPONENT = {}
for n in range(2, 501):
    EXPONENT[n] = 2 - 2 / (n - 1)
""",
        LT5_FUNCS,
        md("Check eq (21) by integrating eq (20) for N_l = 3, c = 10 with tiny steps (slow!)"),
        """
u, k, dk = 0.01, 0.0, 1e-7
while u < 0.99:
    u += dk * u * (1.0 - u) / 10.0
    k += dk
print(k, t3(0.01, 0.99, 1.0, 10.0))
""",
        """
lrs = []
for n in range(2, 101):
    lrs.append(optimal_lr(2.0, n, 1.0) * n * 2.0 ** 2)
plt.plot(lrs); plt.show()
""",
    ),
    twin=(
        LT_IMPORTS,
        LT5_FUNCS.replace("s ** EXPONENT[n_layers]", "s ** (2 - 2 / (n_layers - 1))"),
    ),
)


# ===========================================================================
# A. dln-dynamics

DL_IMPORTS = """
import numpy as np
import torch
from torch import nn
"""
DL_IMPORTS_STYLED = DL_IMPORTS + "import matplotlib.pyplot as plt\n"

DL1_DEEP = '''
def update_deep_network_weights(w1, w2, dt, tau, sigma_x, sigma_yx):
    E = residual(w2 @ w1, sigma_x, sigma_yx)
    return w1 + dt / tau * w2.T @ E, w2 + dt / tau * E @ w1.T
'''

pair(
    "dl_lambdas", "dln-dynamics", "A1,A2",
    ["a helper lambda read by a def (`residual = lambda ...`)",
     "a graded function written as a lambda (`update_shallow_network_weights`)",
     "a seeded simulation and prints at the top level"],
    styled=(
        DL_IMPORTS_STYLED,
        "residual = lambda w_tot, sigma_x, sigma_yx: sigma_yx - w_tot @ sigma_x",
        DL1_DEEP,
        "update_shallow_network_weights = lambda w, dt, tau, sigma_x, sigma_yx: w + dt / tau * residual(w, sigma_x, sigma_yx)",
        """
np.random.seed(0)
w1 = np.random.normal(0, 0.1, (HIDDEN_DIM, 4))
w2 = np.random.normal(0, 0.1, (7, HIDDEN_DIM))
for step in range(N_STEPS):
    w1, w2 = update_deep_network_weights(w1, w2, DT, TAU, SIGMA_X, SIGMA_YX)
print(np.round(np.linalg.svd(w2 @ w1, compute_uv=False), 3))
""",
    ),
    twin=(
        DL_IMPORTS,
        '''
def residual(w_tot, sigma_x, sigma_yx):
    return sigma_yx - w_tot @ sigma_x
''',
        DL1_DEEP,
        '''
def update_shallow_network_weights(w, dt, tau, sigma_x, sigma_yx):
    return w + dt / tau * residual(w, sigma_x, sigma_yx)
''',
    ),
)

DL2_FUNCS = '''
def update_deep_network_weights(w1, w2, dt, tau, sigma_x, sigma_yx):
    err = sigma_yx - w2 @ w1 @ sigma_x
    return w1 + (dt / tau) * (w2.T @ err), w2 + (dt / tau) * (err @ w1.T)


def update_shallow_network_weights(w, dt, tau, sigma_x, sigma_yx):
    return w + (dt / tau) * (sigma_yx - w @ sigma_x)


def simulate_modes(w1, w2, w, dt, tau, sigma_x, sigma_yx, n_steps):
    k = min(sigma_yx.shape)
    deep, shallow = [svals(w2 @ w1, k)], [svals(w, k)]
    for _ in range(n_steps):
        w1, w2 = update_deep_network_weights(w1, w2, dt, tau, sigma_x, sigma_yx)
        w = update_shallow_network_weights(w, dt, tau, sigma_x, sigma_yx)
        deep.append(svals(w2 @ w1, k))
        shallow.append(svals(w, k))
    return {"deep": np.array(deep), "shallow": np.array(shallow)}
'''

DL2_ANALYTIC = '''
def analytic_deep(t, s, a0, tau):
    return s / (1 + (s / a0 - 1) * growth(t, s, tau))


def analytic_shallow(t, s, b0, tau):
    decay = np.exp(-t / tau)
    return s * (1 - decay) + b0 * decay
'''

pair(
    "dl_methods_svd", "dln-dynamics", "A3,A4",
    ["helper lambdas built on method calls (`svals = lambda m, k: np.linalg.svd(m, ...)[:k]`)",
     "top-level variables named like the functions' parameters (`w1`, `w2`, `w`)",
     "a seeded simulation and plots at the top level"],
    styled=(
        DL_IMPORTS_STYLED,
        """
svals = lambda m, k: np.linalg.svd(m, compute_uv=False)[:k]
growth = lambda t, s, tau: np.exp(-2 * s * t / tau)
S_TRUE = svals(SIGMA_YX, 4)
""",
        DL2_FUNCS,
        DL2_ANALYTIC,
        """
np.random.seed(0)
w1 = np.random.normal(0, 0.1, (HIDDEN_DIM, 4))
w2 = np.random.normal(0, 0.1, (7, HIDDEN_DIM))
w = np.random.normal(0, 0.1, (7, 4))
modes = simulate_modes(w1, w2, w, DT, TAU, SIGMA_X, SIGMA_YX, N_STEPS)
t = np.arange(N_STEPS + 1) * DT
plt.plot(t, modes["deep"]); plt.plot(t, analytic_deep(t[:, None], S_TRUE[None, :], A0, TAU), "k--"); plt.show()
""",
    ),
    twin=(
        DL_IMPORTS,
        '''
def svals(m, k):
    return np.linalg.svd(m, compute_uv=False)[:k]


def growth(t, s, tau):
    return np.exp(-2 * s * t / tau)
''',
        DL2_FUNCS,
        DL2_ANALYTIC,
    ),
)

DL3_NETS = '''
class DeepLinearNetwork(nn.Module):
    def __init__(self, input_dim, output_dim, hidden_units):
        super().__init__()
        sizes = [input_dim] + list(hidden_units) + [output_dim]
        self.layers = nn.Sequential(*[Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])

    def forward(self, x):
        return self.layers(x)


class DeepNonLinearNetwork(nn.Module):
    def __init__(self, input_dim, output_dim, hidden_units):
        super().__init__()
        sizes = [input_dim] + list(hidden_units) + [output_dim]
        mods = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            mods.append(Linear(a, b))
            if i < len(sizes) - 2:
                mods.append(nn.ReLU())
        self.layers = nn.Sequential(*mods)

    def forward(self, x):
        return self.layers(x)
'''

pair(
    "dl_torch_partial_seed", "dln-dynamics", "A7",
    ["a layer factory built with `functools.partial` (`Linear = partial(nn.Linear, bias=False)`)",
     "`torch.manual_seed(0)` before a module-level network", "prints at the top level"],
    styled=(
        DL_IMPORTS_STYLED,
        """
from functools import partial
Linear = partial(nn.Linear, bias=False)
""",
        DL3_NETS,
        """
torch.manual_seed(0)
demo = DeepLinearNetwork(8, 10, [16, 32, 32, 16])
print(demo)
print(demo(torch.eye(8)).shape)
""",
    ),
    twin=(
        DL_IMPORTS,
        '''
def Linear(n_in, n_out):
    return nn.Linear(n_in, n_out, bias=False)
''',
        DL3_NETS,
    ),
)

DL4_NETS = '''
class DeepLinearNetwork(nn.Module):
    def __init__(self, input_dim, output_dim, hidden_units):
        super().__init__()
        dims = [input_dim, *hidden_units, output_dim]
        self.layers = nn.ModuleList([nn.Linear(dims[i], dims[i + 1], bias=False) for i in range(len(dims) - 1)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class DeepNonLinearNetwork(DeepLinearNetwork):
    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x
'''

DL4_TRAIN = '''
def train_network(network, loss_func, optimizer, num_epochs, inputs, targets):
    X = torch.as_tensor(inputs, dtype=DTYPE)
    Y = torch.as_tensor(targets, dtype=DTYPE)
    n = X.shape[0]
    eye = torch.eye(X.shape[1], dtype=DTYPE)
    k = min(X.shape[1], Y.shape[1])
    loss_log = np.zeros(num_epochs)
    svs = np.zeros((num_epochs, k))
    for epoch in range(num_epochs):
        order = torch.randperm(n) if SHUFFLE else torch.arange(n)
        total = 0.0
        for i in order:
            optimizer.zero_grad()
            loss = loss_func(network(X[i]), Y[i])
            loss.backward()
            optimizer.step()
            total += loss.item()
        loss_log[epoch] = total / n
        with torch.no_grad():
            M = network(eye).double().numpy()
        svs[epoch] = np.linalg.svd(M, compute_uv=False)[:k] if np.isfinite(M).all() else np.nan
    return loss_log, svs
'''

pair(
    "dl_dataclass_train", "dln-dynamics", "A7,A8",
    ["a `@dataclass` config instance read by the training loop, changed in place (`cfg.dtype = torch.float32`)",
     "the sheet's long training run (64 items, [64, 128, 128], 1000 epochs) and a plot at the top level",
     "`torch.manual_seed(0)` before a module-level network"],
    styled=(
        DL_IMPORTS_STYLED,
        """
from dataclasses import dataclass


@dataclass
class TrainConfig:
    dtype: torch.dtype = torch.float64
    shuffle: bool = True


cfg = TrainConfig()
cfg.dtype = torch.float32    # the networks are float32
""",
        DL4_NETS,
        DL4_TRAIN.replace("DTYPE", "cfg.dtype").replace("SHUFFLE", "cfg.shuffle"),
        md("The sheet's run (about a minute)"),
        """
sampler = DiffuseTreeSampler(100, 3, 4, 0.05, rng=np.random.default_rng(0))
features, items = sampler.sample_data()
torch.manual_seed(0)
net = DeepLinearNetwork(64, 100, [64, 128, 128])
opt = torch.optim.SGD(net.parameters(), lr=0.5)
losses, modes = train_network(net, nn.MSELoss(), opt, 1000, items, features)
plt.plot(modes[:, :8]); plt.show()
""",
    ),
    twin=(
        DL_IMPORTS,
        """
DTYPE = torch.float32
SHUFFLE = True
""",
        DL4_NETS,
        DL4_TRAIN,
    ),
)

DL5_PLAIN = DL4_NETS + "\n\n" + DL4_TRAIN.replace("DTYPE", "torch.float32").replace(
    " if SHUFFLE else torch.arange(n)", "")

DL5_CONV = '''
def convergence_epochs(singular_values, s, frac=0.9):
    sv = np.asarray(singular_values)
    target = frac * np.asarray(s)
    return np.array([first_true(sv[:, j] >= target[j]) for j in range(sv.shape[1])], dtype=int)
'''

pair(
    "dl_redef_loop", "dln-dynamics", "A9",
    ["a wrong first attempt (`>` for `>=`, no -1) redefined in a later cell",
     "the correct version reads a helper lambda (`first_true`)",
     "training runs of a linear and a ReLU network and a plot at the top level"],
    styled=(
        DL_IMPORTS_STYLED,
        DL5_PLAIN,
        '''
def convergence_epochs(singular_values, s, frac=0.9):
    """first try"""
    return np.argmax(singular_values > frac * s, axis=0)
''',
        """
curves = np.array([[0.5, 0.1], [1.2, 0.3], [2.0, 0.45], [2.1, 0.6]])
print(convergence_epochs(curves, np.array([2.0, 0.5])))    # [2 3]: wrong, the 2nd mode never gets there
""",
        "first_true = lambda mask: int(np.argmax(mask)) if mask.any() else -1",
        DL5_CONV,
        """
sampler = DiffuseTreeSampler(30, 3, 2, 0.05, rng=np.random.default_rng(0))
features, items = sampler.sample_data()
s_true = np.linalg.svd(features.T @ items, compute_uv=False)
for Net in (DeepLinearNetwork, DeepNonLinearNetwork):
    torch.manual_seed(0)
    net = Net(8, 30, [32, 32])
    _, sv = train_network(net, nn.MSELoss(), torch.optim.SGD(net.parameters(), lr=0.1), 400, items, features)
    print(Net.__name__, convergence_epochs(sv, s_true[:8]))
    plt.plot(sv)
plt.show()
""",
    ),
    twin=(
        DL_IMPORTS,
        DL5_PLAIN,
        '''
def first_true(mask):
    return int(np.argmax(mask)) if mask.any() else -1
''',
        DL5_CONV,
    ),
)


# ===========================================================================
# B. backprop

BP_IMPORTS = "import numpy as np"
BP_IMPORTS_STYLED = "import numpy as np\nimport matplotlib.pyplot as plt"

BP1_FWD = '''
def forward(W1, W2, W3, X):
    h1 = relu(W1 @ X)
    h2 = relu(W2 @ h1)
    return h1, h2, W3 @ h2


def accuracy(yhat, Y):
    return float(np.mean(np.sign(yhat) == Y))
'''

pair(
    "bp_lambdas", "backprop", "B1,B3,B5",
    ["graded functions written as lambdas (`relu`, `relu_prime`, `loss`)", "a def that calls a lambda",
     "prints at the top level"],
    styled=(
        BP_IMPORTS_STYLED,
        """
relu = lambda u: np.maximum(u, 0.0)
relu_prime = lambda u: (u > 0).astype(float)
print(relu(np.array([-1.0, 0.0, 2.0])), relu_prime(np.array([-1.0, 0.0, 2.0])))
""",
        BP1_FWD,
        "loss = lambda W1, W2, W3, X, Y: 0.5 * np.sum((Y - forward(W1, W2, W3, X)[2]) ** 2)",
    ),
    twin=(
        BP_IMPORTS,
        '''
def relu(u):
    return np.maximum(u, 0.0)


def relu_prime(u):
    return (u > 0).astype(float)
''',
        BP1_FWD,
        '''
def loss(W1, W2, W3, X, Y):
    return 0.5 * np.sum((Y - forward(W1, W2, W3, X)[2]) ** 2)
''',
    ),
)

BP2_FUNCS = '''
def forward(W1, W2, W3, X):
    h1 = relu(W1 @ X)
    h2 = relu(W2 @ h1)
    return h1, h2, W3 @ h2


def gradients(W1, W2, W3, X, Y):
    u1 = W1 @ X
    h1 = relu(u1)
    u2 = W2 @ h1
    h2 = relu(u2)
    e = W3 @ h2 - Y                     # dL/dyhat for L = 1/2 sum (y - yhat)^2
    dW3 = e @ h2.T
    d2 = (W3.T @ e) * step(u2)
    dW2 = d2 @ h1.T
    d1 = (W2.T @ d2) * step(u1)
    dW1 = d1 @ X.T
    return dW1, dW2, dW3


def init_weights(n_h1, n_h2, weight_scale, rng):
    return (weight_scale * rng.standard_normal((n_h1, N_INPUT)),
            weight_scale * rng.standard_normal((n_h2, n_h1)),
            weight_scale * rng.standard_normal((1, n_h2)))


def train(X_train, Y_train, X_test, Y_test, weights, lr, n_iter):
    W1, W2, W3 = (np.array(w, dtype=float) for w in weights)
    hist = {k: np.zeros(n_iter + 1) for k in ("train_loss", "test_loss", "train_acc", "test_acc")}
    for it in range(n_iter + 1):
        for part, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
            yhat = forward(W1, W2, W3, X)[2]
            hist[part + "_loss"][it] = 0.5 * np.sum((Y - yhat) ** 2)
            hist[part + "_acc"][it] = np.mean(np.sign(yhat) == Y)
        if it < n_iter:
            dW1, dW2, dW3 = gradients(W1, W2, W3, X_train, Y_train)
            W1 = W1 - lr * dW1
            W2 = W2 - lr * dW2
            W3 = W3 - lr * dW3
    return hist
'''

BP2_SCALE = '''
def train_with_scale(X_train, Y_train, X_test, Y_test, weight_scale, rng, n_iter=5000, n_h1=50, n_h2=50):
    weights = init_weights(n_h1, n_h2, weight_scale, rng)
    return train(X_train, Y_train, X_test, Y_test, weights, LR / X_train.shape[1], n_iter)
'''

pair(
    "bp_partial_dict", "backprop", "B4,B6",
    ["`relu` built with `functools.partial` (`partial(np.maximum, 0.0)`), `step` a lambda",
     "a dict of hyper-parameters updated by item assignment (`hyper[\"lr_scale\"] = LR_SCALE`)",
     "a long training run on fake data and a plot at the top level"],
    styled=(
        BP_IMPORTS_STYLED,
        """
from functools import partial
relu = partial(np.maximum, 0.0)
step = lambda u: np.heaviside(u, 0.0)
hyper = {"lr_scale": 0.01, "n_h1": N_H1}
""",
        BP2_FUNCS,
        "hyper[\"lr_scale\"] = LR_SCALE     # the sheet's 0.1 / P",
        BP2_SCALE.replace("LR /", 'hyper["lr_scale"] /'),
        """
rng = np.random.default_rng(0)
X_fake = rng.standard_normal((N_INPUT, 400))
Y_fake = np.sign(rng.standard_normal((1, 400)))
hist = train_with_scale(X_fake, Y_fake, X_fake, Y_fake, 0.1, rng, n_iter=50000)
plt.plot(hist["train_loss"]); plt.show()
""",
    ),
    twin=(
        BP_IMPORTS,
        '''
LR = 0.1


def relu(u):
    return np.maximum(0.0, u)


def step(u):
    return np.heaviside(u, 0.0)
''',
        BP2_FUNCS,
        BP2_SCALE,
    ),
)

BP3_FUNCS = '''
def chain_error(w, sigma_y, sigma_yx, sigma_x):
    p = w_total(w)
    return sigma_y - 2 * sigma_yx * p + sigma_x * p ** 2


def chain_gradient(w, sigma_y, sigma_yx, sigma_x):
    w = np.asarray(w, dtype=float)
    p = np.prod(w)
    others = np.array([np.prod(np.delete(w, i)) for i in range(w.size)])
    return (2 * sigma_x * p - 2 * sigma_yx) * others


def chain_fixed_point_errors(sigma_y, sigma_yx, sigma_x):
    # global minima: w_tot = sigma_yx / sigma_x; saddle: all weights zero
    return {"minimum": sigma_y - sigma_yx ** 2 / sigma_x, "saddle": sigma_y}


def is_fixed_point(w, sigma_y, sigma_yx, sigma_x, tol=1e-8):
    return bool(np.linalg.norm(chain_gradient(w, sigma_y, sigma_yx, sigma_x)) < tol)
'''

BP3_EULER = '''
def euler_trajectory(w0, sigma_y, sigma_yx, sigma_x, tau=TAU0, dt=DT0, n_steps=N_STEPS0):
    traj = np.zeros((n_steps + 1, len(w0)))
    traj[0] = w0
    for k in range(n_steps):
        traj[k + 1] = traj[k] - dt / tau * chain_gradient(traj[k], sigma_y, sigma_yx, sigma_x)
    return traj
'''

pair(
    "bp_dataclass_defaults", "backprop", "B8,B9,B10",
    ["a `@dataclass` settings instance changed in place (`euler.dt = 0.01`)",
     "default arguments read from it at definition time (`dt=euler.dt`)", "a helper lambda",
     "a phase-portrait plot at the top level"],
    styled=(
        BP_IMPORTS_STYLED,
        """
from dataclasses import dataclass


@dataclass
class EulerSettings:
    tau: float = 1.0
    dt: float = 0.1
    n_steps: int = 100


euler = EulerSettings()
euler.dt = 0.01         # 0.1 overshoots near the saddle
euler.n_steps = 1000
w_total = lambda w: np.prod(w)
""",
        BP3_FUNCS,
        BP3_EULER.replace("tau=TAU0, dt=DT0, n_steps=N_STEPS0", "tau=euler.tau, dt=euler.dt, n_steps=euler.n_steps"),
        """
g1, g2 = np.meshgrid(np.linspace(-3, 3, 200), np.linspace(-3, 3, 200))
plt.contourf(g1, g2, SIGMA_Y - 2 * SIGMA_YX * g1 * g2 + SIGMA_X * (g1 * g2) ** 2, levels=40)
for w0 in EULER_STARTS:
    tr = euler_trajectory(np.array(w0), SIGMA_Y, SIGMA_YX, SIGMA_X)
    plt.plot(tr[:, 0], tr[:, 1], "w")
plt.show()
""",
    ),
    twin=(
        BP_IMPORTS,
        '''
TAU0 = 1.0
DT0 = 0.01
N_STEPS0 = 1000


def w_total(w):
    return np.prod(w)
''',
        BP3_FUNCS,
        BP3_EULER,
    ),
)

BP4_FUNCS = '''
def balanced_error(w, D, sigma_y, sigma_yx, sigma_x):
    n = N_WEIGHTS[D]
    return sigma_y - 2 * sigma_yx * w ** n + sigma_x * w ** (2 * n)


def balanced_gradient(w, D, sigma_y, sigma_yx, sigma_x):
    """dE/dw_i at w_1 = ... = w_{D-1} = w (one weight moves, the others stay)."""
    n = N_WEIGHTS[D]
    return (2 * sigma_x * w ** n - 2 * sigma_yx) * w ** (n - 1)


def initial_gradients(w0s, depths, sigma_y, sigma_yx, sigma_x):
    table = np.zeros((len(w0s), len(depths)))
    for i, w0 in enumerate(w0s):
        for j, D in enumerate(depths):
            table[i, j] = balanced_gradient(w0, D, sigma_y, sigma_yx, sigma_x)
    return table
'''

pair(
    "bp_loop_table", "backprop", "B7,B11",
    ["a top-level `for` loop filling a table the graded functions read (`N_WEIGHTS[D] = D - 1`)",
     "a list filled with `.append` at the top level", "a graded function written as a lambda",
     "plots at the top level"],
    styled=(
        BP_IMPORTS_STYLED,
        """
N_WEIGHTS = {}
for D in range(2, 101):
    N_WEIGHTS[D] = D - 1
DEPTHS = []
for D in BALANCED_DEPTHS:
    DEPTHS.append(D)
""",
        BP4_FUNCS,
        "best_stopping_iteration = lambda test_loss: int(np.argmin(test_loss))",
        """
ws = np.linspace(-1.5, 1.5, 300)
for D in DEPTHS[:5]:
    plt.plot(ws, balanced_error(ws, D, SIGMA_Y, SIGMA_YX, SIGMA_X), label=f"D={D}")
plt.legend(); plt.show()
print(initial_gradients(BALANCED_W0S, DEPTHS, SIGMA_Y, SIGMA_YX, SIGMA_X))
""",
    ),
    twin=(
        BP_IMPORTS,
        BP4_FUNCS.replace("    n = N_WEIGHTS[D]\n", "    n = D - 1\n"),
        '''
def best_stopping_iteration(test_loss):
    return int(np.argmin(test_loss))
''',
    ),
)

BP5_FWD = '''
def relu(u):
    return np.maximum(u, 0)


def forward(W1, W2, W3, X):
    h1 = relu(np.dot(W1, X))
    h2 = relu(np.dot(W2, h1))
    yhat = np.dot(W3, h2)
    return h1, h2, yhat
'''

BP5_INIT = '''
def init_weights(n_h1, n_h2, weight_scale, rng=RNG):
    W1 = weight_scale * rng.standard_normal((n_h1, N_INPUT))
    W2 = weight_scale * rng.standard_normal((n_h2, n_h1))
    W3 = weight_scale * rng.standard_normal((1, n_h2))
    return W1, W2, W3
'''

pair(
    "bp_seed_default_rng", "backprop", "B2,B3",
    ["`np.random.seed(0)` and a module-level generator `RNG = np.random.default_rng(0)` read as a "
     "default argument at definition time",
     "a long hand-written training loop at the top level on globals named like the parameters (`W1`, `X`)"],
    styled=(
        BP_IMPORTS_STYLED,
        """
np.random.seed(0)
RNG = np.random.default_rng(0)
""",
        BP5_INIT,
        BP5_FWD,
        md("Sanity run on random data (slow)"),
        """
X = np.random.randn(N_INPUT, 500)
Y = np.sign(np.random.randn(1, 500))
W1, W2, W3 = init_weights(N_H1, N_H2, 0.01)
for it in range(30000):
    h1, h2, yhat = forward(W1, W2, W3, X)
    e = yhat - Y
    d2 = (W3.T @ e) * (h2 > 0)
    d1 = (W2.T @ d2) * (h1 > 0)
    W3 -= 1e-4 * e @ h2.T
    W2 -= 1e-4 * d2 @ h1.T
    W1 -= 1e-4 * d1 @ X.T
print(np.mean(np.sign(forward(W1, W2, W3, X)[2]) == Y))
""",
    ),
    twin=(
        BP_IMPORTS,
        BP5_INIT.replace("rng=RNG):\n", "rng=None):\n    if rng is None:\n        rng = np.random.default_rng(0)\n"),
        BP5_FWD,
    ),
)


# ===========================================================================
# C. linear-deep-learning

LDL_IMPORTS = """
import numpy as np
import torch
from torch import nn
import math
"""
LDL_IMPORTS_STYLED = LDL_IMPORTS + "import matplotlib.pyplot as plt\n%matplotlib inline\n"

LDL1_FUNCS = '''
def fun_dz(x, y):
    c = np.cos(r2(x, y))
    return (2 * x * c, 2 * y * c)


def loss_grad(w, b, x, y):
    u = w * x + b
    g = -2.0 * (y - np.tanh(u)) * sech2(u)
    return g * x, g
'''

pair(
    "ldl_lambdas", "linear-deep-learning", "C1,C2",
    ["graded function written as a lambda (`fun_z`)", "helper lambdas read by defs (`r2`, `sech2`)",
     "a contour plot at the top level"],
    styled=(
        LDL_IMPORTS_STYLED,
        """
fun_z = lambda x, y: np.sin(x ** 2 + y ** 2)
r2 = lambda x, y: x ** 2 + y ** 2
sech2 = lambda u: 1.0 / np.cosh(u) ** 2
""",
        LDL1_FUNCS,
        """
xx, yy = np.meshgrid(np.linspace(-3, 3, 301), np.linspace(-3, 3, 301))
plt.contourf(xx, yy, fun_z(xx, yy), levels=20)
gx, gy = np.meshgrid(np.linspace(-2.5, 2.5, 26), np.linspace(-2.5, 2.5, 26))
plt.quiver(gx, gy, *fun_dz(gx, gy), color="r"); plt.show()
""",
    ),
    twin=(
        LDL_IMPORTS,
        '''
def fun_z(x, y):
    return np.sin(x ** 2 + y ** 2)


def r2(x, y):
    return x ** 2 + y ** 2


def sech2(u):
    return 1.0 / np.cosh(u) ** 2
''',
        LDL1_FUNCS,
    ),
)

LDL2_FUNCS = '''
class SimpleGraph:
    def __init__(self, w, b):
        assert isinstance(w, float) and isinstance(b, float)
        self.w = torch.tensor([w], requires_grad=True)
        self.b = torch.tensor([b], requires_grad=True)

    def forward(self, x):
        return torch.tanh(x * self.w + self.b)


class WideNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = make_layers()

    def forward(self, x):
        return self.layers(x)


def train(features, labels, model, loss_fun, optimizer, n_epochs):
    loss_record = []
    for _ in range(n_epochs):
        optimizer.zero_grad()
        loss = loss_fun(model(features), labels)
        loss.backward()
        optimizer.step()
        loss_record.append(loss.item())
    return loss_record
'''

pair(
    "ldl_torch_module_net", "linear-deep-learning", "C4,C5",
    ["`torch.manual_seed(SEED)` before module-level data, a module-level network and optimizer",
     "a layer factory lambda read by the class (`make_layers`)", "a graded function written as a lambda (`sq_loss`)",
     "a 20000-epoch training run and a plot at the top level"],
    styled=(
        LDL_IMPORTS_STYLED,
        """
torch.manual_seed(SEED)
make_layers = lambda: nn.Sequential(nn.Linear(1, 512), nn.Tanh(), nn.Linear(512, 1))
sq_loss = lambda y_true, y_prediction: (y_true - y_prediction) ** 2
""",
        LDL2_FUNCS,
        md("Train the wide net on a noisy sine (long)"),
        """
torch.manual_seed(SEED)
x_train = torch.linspace(-2 * math.pi, 2 * math.pi, 1000).view(-1, 1)
y_train = torch.sin(x_train) + 0.1 * torch.randn_like(x_train)
wide_net = WideNet()
loss_function = nn.MSELoss()
optimizer = torch.optim.Adam(wide_net.parameters(), lr=1e-3)
losses = train(x_train, y_train, wide_net, loss_function, optimizer, n_epochs=20000)
plt.plot(losses); plt.show()
""",
    ),
    twin=(
        LDL_IMPORTS,
        '''
def make_layers():
    return nn.Sequential(nn.Linear(1, 512), nn.Tanh(), nn.Linear(512, 1))


def sq_loss(y_true, y_prediction):
    return (y_true - y_prediction) ** 2
''',
        LDL2_FUNCS,
    ),
)

LDL3_C6 = '''
class ShallowNarrowExercise:
    def __init__(self, init_weights):
        assert isinstance(init_weights, (list, np.ndarray, tuple))
        assert len(init_weights) == 2
        self.w1 = init_weights[0]
        self.w2 = init_weights[1]

    def forward(self, x):
        return self.w1 * self.w2 * x

    def dloss_dw(self, x, y_true):
        r = y_true - self.forward(x)
        return -np.mean(2 * self.w2 * x * r), -np.mean(2 * self.w1 * x * r)

    def train(self, x, y_true, lr, n_ep):
        loss_records = np.empty(n_ep)
        weight_records = np.empty((n_ep, 2))
        for i in range(n_ep):
            loss_records[i] = loss(self.forward(x), y_true)
            g1, g2 = self.dloss_dw(x, y_true)
            self.w1 -= lr * g1
            self.w2 -= lr * g2
            weight_records[i] = [self.w1, self.w2]
        return loss_records, weight_records


def loss_landscape(w1_grid, w2_grid, x, y):
    P = (np.asarray(w1_grid) * np.asarray(w2_grid))[..., None]
    return np.mean((y - P * x) ** 2, axis=-1)
'''

LDL3_C10 = '''
class LNNet(nn.Module):
    def __init__(self, in_dim, hid_dim, out_dim):
        super().__init__()
        self.in_hid = nn.Linear(in_dim, hid_dim, bias=False)
        self.hid_out = nn.Linear(hid_dim, out_dim, bias=False)

    def forward(self, x):
        hid = self.in_hid(x)
        out = self.hid_out(hid)
        return out, hid


def ex_initializer_(model, gamma=1e-12):
    for p in model.parameters():
        n_out, n_in = p.shape
        normal_(p, std=gamma / math.sqrt(n_in + n_out))


def ex_net_svd(model, in_dim):
    W = torch.eye(in_dim)
    for p in model.parameters():
        W = p.detach() @ W
    U, S, V = torch.svd(W)
    return U, S, V


def linear_regression(X, Y):
    XXt = X @ X.T
    return np.linalg.solve(XXt, X @ Y.T).T     # Y X^T (X X^T)^-1, X X^T symmetric
'''

pair(
    "ldl_partial_inplace", "linear-deep-learning", "C6,C10",
    ["graded functions written as lambdas (`loss`, `ex_net_rsm`)",
     "an initializer built with `functools.partial` (`normal_ = partial(nn.init.normal_, mean=0.0)`)",
     "in-place weight updates inside the class", "`torch.manual_seed` and a long training of LNNet on the tree "
     "data, `imshow` plots at the top level"],
    styled=(
        LDL_IMPORTS_STYLED,
        """
from functools import partial
loss = lambda y_prediction, y_true: np.mean((y_true - y_prediction) ** 2)
ex_net_rsm = lambda h: h @ h.T
normal_ = partial(nn.init.normal_, mean=0.0)
""",
        LDL3_C6,
        LDL3_C10,
        md("Representation learning run (long)"),
        """
torch.manual_seed(SEED)
tree_labels, tree_features = generate_hsd()
inputs, targets = torch.tensor(tree_labels).float(), torch.tensor(tree_features).float()
net = LNNet(8, 30, 10000)
ex_initializer_(net, gamma=1e-12)
opt = torch.optim.SGD(net.parameters(), lr=0.1)
for epoch in range(5000):
    opt.zero_grad()
    out, hid = net(inputs)
    l = nn.MSELoss()(out, targets)
    l.backward()
    opt.step()
plt.imshow(ex_net_rsm(hid.detach())); plt.show()
""",
    ),
    twin=(
        LDL_IMPORTS,
        '''
def loss(y_prediction, y_true):
    return np.mean((y_true - y_prediction) ** 2)


def ex_net_rsm(h):
    return h @ h.T


def normal_(tensor, std):
    return nn.init.normal_(tensor, mean=0.0, std=std)
''',
        LDL3_C6,
        LDL3_C10,
    ),
)

LDL4_FUNCS = '''
def lr_regime(losses):
    L = np.asarray(losses, dtype=float).ravel()
    T = L.size
    if not np.all(np.isfinite(L)) or L[-1] > L[0]:
        return "diverged"
    rises = np.count_nonzero(L[1:] > L[:-1] * (1 + RISE_REL))
    if rises > CHAOTIC_SHARE * (T - 1):
        return "chaotic"
    if L[-1] > TOO_SMALL_RATIO * L[0]:
        return "too_small"
    k = max(1, math.ceil(TAIL_SHARE * (T - 1)))
    if L[T - 1 - k] - L[-1] <= TAIL_DROP * (L[0] - L[-1]):
        return "right"
    return "slow"


def max_stable_lr(depth, x, y):
    mxx = np.mean(x * x)
    p_star = np.mean(x * y) / mxx
    lam = 2 * mxx * (depth + 1) * abs(p_star) ** (2 * depth / (depth + 1))
    return 2 / lam
'''

LDL_CHAIN = '''
class DeepNarrowLNN:
    def __init__(self, init_weights):
        init_weights = np.asarray(init_weights, dtype=float)
        assert init_weights.size >= 1
        self.w = init_weights.reshape(-1).copy()

    def forward(self, x):
        return np.prod(self.w) * x

    def loss(self, y_p, y_t):
        assert y_p.shape == y_t.shape
        return ((y_t - y_p) ** 2).mean()

    def dloss_dw(self, x, y_t):
        left = np.concatenate(([1.0], np.cumprod(self.w[:-1])))
        right = np.concatenate((np.cumprod(self.w[::-1][:-1])[::-1], [1.0]))
        return -2 * np.mean((y_t - self.forward(x)) * x) * left * right

    def train(self, x, y_t, eta, n_ep):
        loss_records = np.zeros(n_ep)
        weight_records = np.zeros((n_ep, self.w.size))
        for i in range(n_ep):
            loss_records[i] = self.loss(self.forward(x), y_t)
            self.w = self.w - eta * self.dloss_dw(x, y_t)
            weight_records[i] = self.w
        return loss_records, weight_records


def learning_time(losses, threshold):
    hit = np.nonzero(np.asarray(losses, dtype=float) <= threshold)[0]
    return int(hit[0]) if hit.size else -1


def _threshold(x, y, frac):
    l0 = np.mean(y ** 2)
    l_star = l0 - np.mean(x * y) ** 2 / np.mean(x ** 2)
    return l_star + frac * (l0 - l_star)
'''

LDL4_C9 = '''
def init_learning_times(init_values, x, y, depth=15, lr=0.02, n_ep=100, frac=0.01):
    thr = _threshold(x, y, frac)
    times = []
    for v in init_values:
        net = DeepNarrowLNN(np.full(depth + 1, float(v)))
        with np.errstate(over="ignore", invalid="ignore"):
            losses, _ = net.train(x, y, lr, n_ep)
        times.append(learning_time(losses, thr))
    return np.array(times, dtype=int)
'''

pair(
    "ldl_dataclass_regimes", "linear-deep-learning", "C8,C9",
    ["a `@dataclass` rules instance read by `lr_regime`, changed in place (`rules.tail_drop = 0.01`)",
     "a graded function written as a lambda (`init_power`)", "a sweep of learning rates printed at the top level"],
    styled=(
        LDL_IMPORTS_STYLED,
        """
from dataclasses import dataclass


@dataclass
class RegimeRules:
    rise_rel: float = 1e-6
    chaotic_share: float = 0.1
    too_small_ratio: float = 0.9
    tail_share: float = 0.1
    tail_drop: float = 0.05


rules = RegimeRules()
rules.tail_drop = 0.01      # the sheet: at most 1% of the total decrease
""",
        LDL4_FUNCS.replace("RISE_REL", "rules.rise_rel").replace("CHAOTIC_SHARE", "rules.chaotic_share")
                  .replace("TOO_SMALL_RATIO", "rules.too_small_ratio").replace("TAIL_SHARE", "rules.tail_share")
                  .replace("TAIL_DROP", "rules.tail_drop"),
        "init_power = lambda w, depth: w ** depth",
        LDL_CHAIN,
        LDL4_C9,
        """
x, y = gen_samples(100, 2.0, 0.0)
for lr in np.linspace(0.001, 0.2, 40):
    net = DeepNarrowLNN(np.full(11, 0.9))
    losses, _ = net.train(x, y, lr, 300)
    print(f"{lr:.3f}", lr_regime(losses), lr < max_stable_lr(10, x, y))
""",
    ),
    twin=(
        LDL_IMPORTS,
        """
RISE_REL = 1e-6
CHAOTIC_SHARE = 0.1
TOO_SMALL_RATIO = 0.9
TAIL_SHARE = 0.1
TAIL_DROP = 0.01
""",
        LDL4_FUNCS,
        '''
def init_power(w, depth):
    return w ** depth
''',
        LDL_CHAIN,
        LDL4_C9,
    ),
)

LDL5_GRAPH = '''
def graph_forward(x, y, z):
    a = 2 * x
    b = np.sin(y)
    c = a / b
    d = z * c
    e = np.log(1 + d)
    f = np.tanh(e)
    return dict(zip(NODES, (a, b, c, d, e, f)))
'''

LDL5_BACKWARD = '''
def graph_backward(x, y, z):
    n = graph_forward(x, y, z)
    df_dd = dtanh(n["e"]) / (1 + n["d"])
    df_dc = df_dd * z
    df_dx = df_dc * 2 / n["b"]
    df_dy = df_dc * (-n["a"] / n["b"] ** 2) * np.cos(y)
    df_dz = df_dd * n["c"]
    return df_dx, df_dy, df_dz
'''

LDL5_C7 = '''
def depth_learning_times(depths, x, y, lr=0.01, init_weight=0.9, n_ep=1000,
                         frac=0.01, init_std=0.0, rng=None):
    if rng is None:
        rng = np.random.default_rng(2021)
    thr = _threshold(x, y, frac)
    times = []
    for D in depths:
        w = np.full(D + 1, float(init_weight))
        if init_std > 0:
            w = w + init_std * rng.standard_normal(D + 1)
        losses, _ = DeepNarrowLNN(w).train(x, y, lr, n_ep)
        times.append(learning_time(losses, thr))
    return np.array(times, dtype=int)
'''

pair(
    "ldl_loop_redef", "linear-deep-learning", "C3,C7",
    ["a top-level `for` loop filling a list with `.append` that a graded function reads (`NODES`)",
     "a wrong first attempt (`graph_backward` without cos y) redefined later, the fix reading a lambda (`dtanh`)",
     "a depth sweep and a plot at the top level"],
    styled=(
        LDL_IMPORTS_STYLED,
        """
NODES = []
for name in "abcdef":
    NODES.append(name)
""",
        LDL5_GRAPH,
        '''
def graph_backward(x, y, z):
    """first attempt"""
    n = graph_forward(x, y, z)
    df_dd = (1 - np.tanh(n["e"]) ** 2) / (1 + n["d"])
    return df_dd * z * 2 / n["b"], df_dd * z * (-n["a"] / n["b"] ** 2), df_dd * n["c"]
''',
        'print(graph_backward(1.0, 1.0, 0.5))   # df/dy looks off: forgot db/dy = cos(y)',
        "dtanh = lambda u: 1 - np.tanh(u) ** 2",
        LDL5_BACKWARD,
        LDL_CHAIN,
        LDL5_C7,
        """
x, y = gen_samples(100, 2.0, 0.0)
depths = list(range(1, 60))
plt.plot(depths, depth_learning_times(depths, x, y, n_ep=5000)); plt.show()
""",
    ),
    twin=(
        LDL_IMPORTS,
        '''
NODES = ("a", "b", "c", "d", "e", "f")


def dtanh(u):
    return 1 - np.tanh(u) ** 2
''',
        LDL5_GRAPH,
        LDL5_BACKWARD,
        LDL_CHAIN,
        LDL5_C7,
    ),
)


# ===========================================================================


def today_table() -> str:
    """Grade every pair with the checkout's grader (``--today``): the table in this module's docstring."""
    from grader.model import Options
    from grader.pipeline import grade_file

    rows = [f"    {'pair':<34}{'assignment':<22}{'items':<17}{'twin':<8}styled (today)"]
    for p in PAIRS:
        res = {}
        for fname, path in zip(p.files, (styled_path(p), HERE / p.files[1])):
            res[fname] = grade_file(path, p.assignment, opts=Options(items=p.items))
        styled, twin = (res[f] for f in p.files)
        def pts(r):
            return f"{r.score:g}/{r.max_score:g}"
        detail = ", ".join(f"{i.item_id} {i.points:g}/{i.max_points:g}" for i in styled.items)
        rows.append(f"    {p.name:<34}{p.assignment:<22}{','.join(p.items):<17}{pts(twin):<8}{pts(styled):<8}"
                    f"  [{detail}]")
    return "\n".join(rows)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--today" in argv:
        print(today_table())
        return
    for path in write_all():
        print(path.relative_to(HERE.parents[2]))


if __name__ == "__main__":
    main()

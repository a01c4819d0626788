"""Assignment A: learning dynamics in deep linear networks.

Source: Sprekeler & Lange, "Learning Dynamics in Deep Linear Networks". A
two-layer linear network ``y = W2 W1 x`` and a shallow one ``y = W x`` learn
the input-output correlations ``SIGMA_YX`` of whitened inputs
(``SIGMA_X = I``) by gradient flow on the squared error,

    tau dW1/dt = W2^T (SIGMA_YX - W2 W1 SIGMA_X)            (1)
    tau dW2/dt = (SIGMA_YX - W2 W1 SIGMA_X) W1^T            (2)
    tau dW/dt  = SIGMA_YX - W SIGMA_X                       (3)

In the basis of the singular vectors of ``SIGMA_YX`` (singular values
``s``), a balanced deep network and the shallow network learn each mode
independently; the mode strengths follow eqs (4) and (5) (see
:func:`analytic_deep`, :func:`analytic_shallow` for the derivations).

The second half trains torch networks on data from a diffusion process on a
tree (:class:`DiffuseTreeSampler`, given to students) and tracks the
singular values of the network's input-output map (items A7-A9).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

# --- the sheet's data and parameters -------------------------------------
SIGMA_X = np.eye(4)
"""Input correlation matrix (whitened inputs), shape (4, 4)."""

SIGMA_YX = np.array(
    [
        [1.0, 1.0, 1.0, 1.0],
        [1.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 1.0],
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ]
)
"""Input-output correlation matrix, shape (7, 4); singular values
sqrt(7), sqrt(3), 1, 1."""

ETA = 0.4
"""Learning rate of the sheet; the time constant is ``TAU = 1 / ETA``."""
TAU = 1.0 / ETA
"""Time constant of the gradient flow, 2.5."""
DT = 0.1
"""Euler time step."""
T_MAX = 15.0
"""Simulated time; ``N_STEPS = T_MAX / DT = 150`` updates."""
N_STEPS = 150
"""Number of Euler updates."""
HIDDEN_DIM = 16
"""Hidden units of the deep network (``W1`` is (16, 4), ``W2`` is (7, 16))."""
INIT_VARIANCE = 0.01
"""Variance of the Gaussian initial weights (standard deviation 0.1)."""
A0 = 0.001
"""Initial mode strength of the deep network in eq. (4)."""
B0 = 0.001
"""Initial mode strength of the shallow network in eq. (5)."""


# --- A1-A3: forward Euler on the gradient flow ----------------------------
def update_deep_network_weights(w1, w2, dt, tau, sigma_x, sigma_yx):
    """One forward-Euler step of the deep network's gradient flow, eqs (1)-(2).

    Parameters
    ----------
    w1 : ndarray, shape (n_hidden, n_in)
        First-layer weights before the step.
    w2 : ndarray, shape (n_out, n_hidden)
        Second-layer weights before the step.
    dt : float
        Time step.
    tau : float
        Time constant of the gradient flow (``1 / eta``).
    sigma_x : ndarray, shape (n_in, n_in)
        Input correlation matrix.
    sigma_yx : ndarray, shape (n_out, n_in)
        Input-output correlation matrix.

    Returns
    -------
    w1_new : ndarray, shape (n_hidden, n_in)
    w2_new : ndarray, shape (n_out, n_hidden)
        Both computed from the *old* weights (a simultaneous update).

    Notes
    -----
    With the error ``E = SIGMA_YX - W2 W1 SIGMA_X``,

        W1 <- W1 + (dt / tau) W2^T E        (1)
        W2 <- W2 + (dt / tau) E W1^T        (2)

    A fixed point ``W2 W1 SIGMA_X = SIGMA_YX`` does not move.

    Examples
    --------
    >>> w1, w2 = np.zeros((16, 4)), np.zeros((7, 16))
    >>> n1, n2 = update_deep_network_weights(w1, w2, 0.1, 2.5, SIGMA_X, SIGMA_YX)
    >>> float(abs(n1).max()), float(abs(n2).max())   # the origin is a saddle
    (0.0, 0.0)
    """
    ### BEGIN SOLUTION
    error = sigma_yx - w2 @ w1 @ sigma_x
    w1_new = w1 + (dt / tau) * (w2.T @ error)  # sheet A, eq. (1)
    w2_new = w2 + (dt / tau) * (error @ w1.T)  # sheet A, eq. (2)
    return w1_new, w2_new
    ### END SOLUTION


def update_shallow_network_weights(w, dt, tau, sigma_x, sigma_yx):
    """One forward-Euler step of the shallow network's gradient flow, eq. (3).

    Parameters
    ----------
    w : ndarray, shape (n_out, n_in)
        Weights before the step.
    dt : float
        Time step.
    tau : float
        Time constant (``1 / eta``).
    sigma_x : ndarray, shape (n_in, n_in)
        Input correlation matrix.
    sigma_yx : ndarray, shape (n_out, n_in)
        Input-output correlation matrix.

    Returns
    -------
    w_new : ndarray, shape (n_out, n_in)

    Notes
    -----
    ``W <- W + (dt / tau) (SIGMA_YX - W SIGMA_X)``   (3)

    Examples
    --------
    >>> w = update_shallow_network_weights(np.zeros((7, 4)), 0.1, 2.5, SIGMA_X, SIGMA_YX)
    >>> float(w[0, 0])
    0.04
    """
    ### BEGIN SOLUTION
    return w + (dt / tau) * (sigma_yx - w @ sigma_x)  # sheet A, eq. (3)
    ### END SOLUTION


def simulate_modes(w1, w2, w, dt, tau, sigma_x, sigma_yx, n_steps):
    """Mode strengths (singular values) along the Euler trajectories, eqs (1)-(3).

    Parameters
    ----------
    w1 : ndarray, shape (n_hidden, n_in)
        Initial first-layer weights of the deep network.
    w2 : ndarray, shape (n_out, n_hidden)
        Initial second-layer weights of the deep network.
    w : ndarray, shape (n_out, n_in)
        Initial weights of the shallow network.
    dt, tau : float
        Time step and time constant.
    sigma_x : ndarray, shape (n_in, n_in)
    sigma_yx : ndarray, shape (n_out, n_in)
    n_steps : int
        Number of Euler updates.

    Returns
    -------
    dict
        ``deep``: ndarray (n_steps + 1, 4), the singular values of ``W2 W1``
        in descending order after 0, 1, ..., n_steps updates (row 0 is the
        initial condition); ``shallow``: the same for ``W``. The number of
        columns is ``min(sigma_yx.shape)``, 4 for the sheet's data.

    Notes
    -----
    Both networks are updated simultaneously (each from its own old
    weights) with :func:`update_deep_network_weights` and
    :func:`update_shallow_network_weights`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> w1 = rng.normal(0, 0.1, (16, 4)); w2 = rng.normal(0, 0.1, (7, 16))
    >>> w = rng.normal(0, 0.1, (7, 4))
    >>> modes = simulate_modes(w1, w2, w, DT, TAU, SIGMA_X, SIGMA_YX, N_STEPS)
    >>> modes["deep"].shape
    (151, 4)
    >>> np.round(modes["shallow"][-1], 2)   # -> sqrt(7), sqrt(3), 1, 1
    array([2.64, 1.73, 1.  , 1.  ])
    """
    ### BEGIN SOLUTION
    n_modes = min(sigma_yx.shape)
    deep = np.empty((n_steps + 1, n_modes))
    shallow = np.empty((n_steps + 1, n_modes))
    deep[0] = np.linalg.svd(w2 @ w1, compute_uv=False)[:n_modes]
    shallow[0] = np.linalg.svd(w, compute_uv=False)[:n_modes]
    for k in range(1, n_steps + 1):
        w1, w2 = update_deep_network_weights(w1, w2, dt, tau, sigma_x, sigma_yx)
        w = update_shallow_network_weights(w, dt, tau, sigma_x, sigma_yx)
        deep[k] = np.linalg.svd(w2 @ w1, compute_uv=False)[:n_modes]
        shallow[k] = np.linalg.svd(w, compute_uv=False)[:n_modes]
    return {"deep": deep, "shallow": shallow}
    ### END SOLUTION


# --- A4: the analytic mode strengths --------------------------------------
def analytic_deep(t, s, a0, tau):
    """Mode strength of the deep network from a small balanced start, eq. (4).

    Parameters
    ----------
    t : float or ndarray
        Time (same units as ``tau``).
    s : float or ndarray
        Singular value of ``SIGMA_YX`` for the mode (``s > 0``). ``t`` and
        ``s`` broadcast by numpy rules: pass ``t[:, None], s[None, :]`` for
        a time x mode table.
    a0 : float or ndarray
        Mode strength at ``t = 0`` (``0 < a0``).
    tau : float
        Time constant.

    Returns
    -------
    a : float or ndarray
        ``a(t)``, broadcast shape of ``t``, ``s`` and ``a0``.

    Notes
    -----
    In the singular-vector basis of ``SIGMA_YX`` (``SIGMA_X = I``) one mode of
    the deep network has strength ``a = c d`` with ``tau dc/dt = d (s - c d)``
    and ``tau dd/dt = c (s - c d)`` (eqs (1)-(2) projected on the mode). So
    ``tau da/dt = (c^2 + d^2)(s - a)``, and for a balanced start (``c = d``,
    kept by the flow because ``c^2 - d^2`` is conserved) ``c^2 + d^2 = 2a``:

        tau da/dt = 2 a (s - a),

    a logistic equation. Separating, ``da / (a (s - a)) = (2/tau) dt`` and
    ``ln(a / (s - a))`` grows by ``2 s t / tau``, which gives

        a(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/a0)       (4)

    computed here as ``s / (1 + (s/a0 - 1) e^{-2st/tau})`` (the same
    function, without overflow for large ``t``).

    Examples
    --------
    >>> float(analytic_deep(0.0, 2.0, 0.001, 2.5))
    0.001
    >>> round(float(analytic_deep(50.0, 2.0, 0.001, 2.5)), 6)
    2.0
    """
    ### BEGIN SOLUTION
    t = np.asarray(t, dtype=float)
    s = np.asarray(s, dtype=float)
    # sheet A, eq. (4): s e^{2st/tau} / (e^{2st/tau} - 1 + s/a0), divided through by e^{2st/tau}
    return s / (1.0 + (s / a0 - 1.0) * np.exp(-2.0 * s * t / tau))
    ### END SOLUTION


def analytic_shallow(t, s, b0, tau):
    """Mode strength of the shallow network, eq. (5).

    Parameters
    ----------
    t : float or ndarray
        Time.
    s : float or ndarray
        Singular value of ``SIGMA_YX`` for the mode; broadcasts with ``t``.
    b0 : float or ndarray
        Mode strength at ``t = 0``.
    tau : float
        Time constant.

    Returns
    -------
    b : float or ndarray
        ``b(t)``, broadcast shape of the arguments.

    Notes
    -----
    Eq. (3) projected on a mode is linear, ``tau db/dt = s - b``, so ``b``
    relaxes exponentially to ``s``:

        b(t) = s (1 - e^{-t/tau}) + b0 e^{-t/tau}              (5)

    Examples
    --------
    >>> float(analytic_shallow(0.0, 2.0, 0.001, 2.5))
    0.001
    >>> round(float(analytic_shallow(2.5, 1.0, 0.0, 2.5)), 4)   # 1 - 1/e
    0.6321
    """
    ### BEGIN SOLUTION
    t = np.asarray(t, dtype=float)
    s = np.asarray(s, dtype=float)
    decay = np.exp(-t / tau)
    return s * (1.0 - decay) + b0 * decay  # sheet A, eq. (5)
    ### END SOLUTION


# --- A6 (given): data from a diffusion process on a tree -----------------
class DiffuseTreeSampler:
    """Hierarchically structured data: features diffusing down a tree (given).

    Each feature is an independent sign, +-1 with probability 1/2 at the
    root, copied down the tree level by level; every child flips the sign it
    inherits independently with probability ``sample_epsilon``. The leaves
    are the items. Two leaves whose closest common ancestor is ``k`` levels
    up are correlated by ``(1 - 2 sample_epsilon)**(2 k)``.

    Parameters
    ----------
    feature_dim : int
        Number of features (independent diffusions).
    tree_depth : int
        Levels below the root; ``n_items = branching_factor**tree_depth``.
    branching_factor : int
        Children per node.
    sample_epsilon : float
        Flip probability per edge, in [0, 1].
    rng : numpy.random.Generator, optional
        Random source; a fresh unseeded generator when omitted.

    Examples
    --------
    >>> sampler = DiffuseTreeSampler(100, 3, 4, 0.05, rng=np.random.default_rng(0))
    >>> features, items = sampler.sample_data()
    >>> features.shape, items.shape
    ((64, 100), (64, 64))
    >>> sigma_yx = features.T @ items   # as in the course notebook: a sum over items
    """

    def __init__(self, feature_dim, tree_depth, branching_factor, sample_epsilon, rng=None):
        self.feature_dim = int(feature_dim)
        self.tree_depth = int(tree_depth)
        self.branching_factor = int(branching_factor)
        self.sample_epsilon = float(sample_epsilon)
        self.n_items = self.branching_factor ** self.tree_depth
        self.rng = np.random.default_rng() if rng is None else rng

    def sample_data(self):
        """Draw the features of all items.

        Returns
        -------
        features : ndarray, shape (n_items, feature_dim)
            Entries +-1; row ``i`` is item ``i`` (leaves in depth-first order,
            so siblings are adjacent).
        items : ndarray, shape (n_items, n_items)
            The one-hot item codes, the identity matrix.
        """
        signs = self.rng.choice(np.array([-1.0, 1.0]), size=(1, self.feature_dim))
        for _ in range(self.tree_depth):
            signs = np.repeat(signs, self.branching_factor, axis=0)
            flips = self.rng.random(signs.shape) < self.sample_epsilon
            signs = np.where(flips, -signs, signs)
        return signs, np.eye(self.n_items)


# --- A7: torch networks ----------------------------------------------------
class DeepLinearNetwork(nn.Module):
    """Bias-free deep linear network ``y = W_L ... W_2 W_1 x``.

    Parameters
    ----------
    input_dim : int
        Size of the input.
    output_dim : int
        Size of the output.
    hidden_units : list of int
        Widths of the hidden layers; ``len(hidden_units) + 1`` linear layers
        in all, none with a bias.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = DeepLinearNetwork(8, 10, [16, 32, 32, 16])
    >>> [tuple(p.shape) for p in net.parameters()]
    [(16, 8), (32, 16), (32, 32), (16, 32), (10, 16)]
    """

    def __init__(self, input_dim, output_dim, hidden_units):
        super().__init__()
        ### BEGIN SOLUTION
        sizes = [input_dim, *hidden_units, output_dim]
        self.layers = nn.Sequential(
            *[nn.Linear(n_in, n_out, bias=False) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        )
        ### END SOLUTION

    def forward(self, x):
        """Network output for input ``x`` of shape (..., input_dim)."""
        ### BEGIN SOLUTION
        return self.layers(x)
        ### END SOLUTION


class DeepNonLinearNetwork(nn.Module):
    """Bias-free deep ReLU network: a ReLU after every *hidden* linear layer.

    The output layer stays linear (as in the course notebook): a ReLU there
    could not produce the -1 targets of the tree data.

    Parameters
    ----------
    input_dim : int
    output_dim : int
    hidden_units : list of int
        Widths of the hidden layers.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = DeepNonLinearNetwork(8, 10, [16, 32, 32, 16])
    >>> sum(isinstance(m, nn.ReLU) for m in net.modules())
    4
    """

    def __init__(self, input_dim, output_dim, hidden_units):
        super().__init__()
        ### BEGIN SOLUTION
        sizes = [input_dim, *hidden_units, output_dim]
        layers = []
        for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
            layers += [nn.Linear(n_in, n_out, bias=False), nn.ReLU()]
        layers.append(nn.Linear(sizes[-2], sizes[-1], bias=False))
        self.layers = nn.Sequential(*layers)
        ### END SOLUTION

    def forward(self, x):
        """Network output for input ``x`` of shape (..., input_dim)."""
        ### BEGIN SOLUTION
        return self.layers(x)
        ### END SOLUTION


# --- A8: the training loop -------------------------------------------------
def train_network(network, loss_func, optimizer, num_epochs, inputs, targets):
    """Per-sample SGD with a fresh shuffle every epoch; tracks the modes.

    Parameters
    ----------
    network : torch.nn.Module
        Maps (input_dim,) to (output_dim,); trained in place.
    loss_func : callable
        ``loss_func(prediction, target)``, e.g. ``torch.nn.MSELoss()``.
    optimizer : torch.optim.Optimizer
        Optimizer over ``network.parameters()``, e.g. SGD.
    num_epochs : int
        Passes through the data.
    inputs : ndarray, shape (n_samples, input_dim)
        One row per item (the one-hot items for the tree data).
    targets : ndarray, shape (n_samples, output_dim)
        One row per item (the item's features).

    Returns
    -------
    loss_log : ndarray, shape (num_epochs,)
        Mean per-sample loss over each epoch (the losses of the training
        steps, each taken before its update).
    singular_values : ndarray, shape (num_epochs, min(input_dim, output_dim))
        Singular values, descending, of the network's input-output map after
        each epoch: the matrix of outputs for the unit inputs
        ``network(I)`` (for a linear network, ``W_L ... W_1`` transposed);
        NaN once the run has diverged.

    Notes
    -----
    Each epoch visits the samples in the order of ``torch.randperm`` (so
    ``torch.manual_seed`` makes a run reproducible) and, for each sample,
    ``zero_grad``, forward, loss, ``backward``, ``step``. Inputs and targets
    are converted to float32 tensors.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = DeepLinearNetwork(4, 7, [16])
    >>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
    >>> loss, sv = train_network(net, nn.MSELoss(), opt, 200, np.eye(4), SIGMA_YX.T)
    >>> bool(loss[-1] < 1e-6 * loss[0]), np.round(sv[-1], 3)   # sqrt(7), sqrt(3), 1, 1
    (True, array([2.646, 1.732, 1.   , 1.   ]))
    """
    ### BEGIN SOLUTION
    x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(targets), dtype=torch.float32)
    n_samples, input_dim = x.shape
    n_modes = min(input_dim, y.shape[1])
    loss_log = np.zeros(num_epochs)
    singular_values = np.zeros((num_epochs, n_modes))
    unit_inputs = torch.eye(input_dim)
    for epoch in range(num_epochs):
        total = 0.0
        for i in torch.randperm(n_samples).tolist():
            optimizer.zero_grad()
            loss = loss_func(network(x[i]), y[i])
            loss.backward()
            optimizer.step()
            total += loss.item()
        loss_log[epoch] = total / n_samples
        with torch.no_grad():
            io_map = network(unit_inputs).double().numpy()
        if np.all(np.isfinite(io_map)):
            singular_values[epoch] = np.linalg.svd(io_map, compute_uv=False)[:n_modes]
        else:  # a diverged run: report NaN rather than crash in the SVD
            singular_values[epoch] = np.nan
    return loss_log, singular_values
    ### END SOLUTION


# --- A9: which modes converge first ----------------------------------------
def convergence_epochs(singular_values, s, frac=0.9):
    """First epoch at which each mode reaches a fraction of its target.

    Parameters
    ----------
    singular_values : ndarray, shape (num_epochs, n_modes)
        Learning curves of the modes (e.g. from :func:`train_network`).
    s : ndarray, shape (n_modes,)
        Target singular values (those of ``SIGMA_YX``), in the same order.
    frac : float
        Fraction of ``s`` that counts as converged.

    Returns
    -------
    epochs : ndarray of int, shape (n_modes,)
        For each mode the first epoch index (0-based) with
        ``singular_values[e, i] >= frac * s[i]``, or -1 if it never does.

    Examples
    --------
    >>> curves = np.array([[0.1, 0.0], [0.95, 0.2], [1.0, 0.5]])
    >>> convergence_epochs(curves, np.array([1.0, 1.0]))
    array([ 1, -1])
    """
    ### BEGIN SOLUTION
    curves = np.asarray(singular_values, dtype=float)
    reached = curves >= frac * np.asarray(s, dtype=float)
    first = np.argmax(reached, axis=0)
    return np.where(reached.any(axis=0), first, -1).astype(int)
    ### END SOLUTION


# --- helpers for tests, figures and rubric inputs (not part of the exercise) --
# Rubric cases call these through ``{ref: name, args: [...]}``; seeds are ints.
def _aligned_balanced_init(sigma_yx, n_hidden, a0, seed=0):
    """Deep weights with ``W2 W1 = a0 U V^T``, balanced and aligned to ``sigma_yx``.

    Every mode then starts at ``a0`` and follows eq. (4) up to the Euler
    error. Returns ``[w1 (n_hidden, n_in), w2 (n_out, n_hidden)]``.
    """
    u, _, vt = np.linalg.svd(np.asarray(sigma_yx, dtype=float), full_matrices=False)
    k = vt.shape[0]
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(n_hidden, n_hidden)))
    w1 = np.sqrt(a0) * q[:, :k] @ vt
    w2 = np.sqrt(a0) * u @ q[:, :k].T
    return [w1, w2]


def _aligned_shallow_init(sigma_yx, b0):
    """Shallow weights ``b0 U V^T``: every mode of ``sigma_yx`` starts at ``b0``."""
    u, _, vt = np.linalg.svd(np.asarray(sigma_yx, dtype=float), full_matrices=False)
    return b0 * u @ vt


def _fixed_point_weights(sigma_yx, n_hidden, seed=0):
    """Deep weights with ``W2 W1 = sigma_yx`` (a global minimum for ``SIGMA_X = I``).

    Returns ``[w1 (n_hidden, n_in), w2 (n_out, n_hidden)]``.
    """
    u, s, vt = np.linalg.svd(np.asarray(sigma_yx, dtype=float), full_matrices=False)
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(n_hidden, n_hidden)))
    k = vt.shape[0]
    w1 = q[:, :k] @ (np.sqrt(s)[:, None] * vt)
    w2 = (u * np.sqrt(s)) @ q[:, :k].T
    return [w1, w2]


def _random_sigma_x(n_in, seed=0):
    """A random symmetric positive-definite input correlation matrix (not I)."""
    a = np.random.default_rng(seed).normal(size=(n_in, 2 * n_in))
    return a @ a.T / (2 * n_in) + 0.5 * np.eye(n_in)


def _times(dt, n_steps):
    """The Euler times ``k dt``, k = 0..n_steps, as a column (n_steps + 1, 1)."""
    return (np.arange(n_steps + 1) * dt)[:, None]


def _tree_targets(feature_dim, tree_depth, branching_factor, sample_epsilon, seed):
    """Features of :class:`DiffuseTreeSampler` drawn with ``default_rng(seed)``,
    shape (n_items, feature_dim): the training targets of A8/A9."""
    sampler = DiffuseTreeSampler(feature_dim, tree_depth, branching_factor, sample_epsilon,
                                 rng=np.random.default_rng(seed))
    return sampler.sample_data()[0]


def _tree_inputs(n_items):
    """The one-hot item codes, ``I_{n_items}``: the training inputs of A8/A9."""
    return np.eye(int(n_items))


def _tree_singular_values(feature_dim, tree_depth, branching_factor, sample_epsilon, seed):
    """Singular values (descending) of ``SIGMA_YX = features.T @ items`` for
    the data of :func:`_tree_targets`."""
    features = _tree_targets(feature_dim, tree_depth, branching_factor, sample_epsilon, seed)
    return np.linalg.svd(features.T, compute_uv=False)


# --- the figure of A3-A5: the modes over time ------------------------------
# As the figure item A5-figure finds them in a notebook's figures. Private, so not in the skeleton: a
# student draws their own, in any style. The plotting helper is pure (numbers in, a ``Figure`` out, no
# pyplot state); ``_notebook_figure_a5`` computes with the functions above and calls it.
def _plot_modes(t, deep, shallow, deep_theory, shallow_theory):
    """The deep and the shallow network's mode strengths against time, one axes each: the simulation
    (columns of ``deep``, ``shallow``, solid) over eqs (4) and (5) (columns of ``deep_theory``,
    ``shallow_theory``, dashed), one colour per mode."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 3.6))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, sim, theory, name in ((axes[0], deep, deep_theory, "deep, W2 W1"), (axes[1], shallow, shallow_theory,
                                                                                "shallow, W")):
        for k in range(sim.shape[1]):
            ax.plot(t, sim[:, k], "-", color=f"C{k}", label=f"mode {k + 1}")
            ax.plot(t, theory[:, k], "--", color=f"C{k}", lw=1)
        ax.set_xlabel("t")
        ax.set_title(f"{name} (solid: simulation, dashed: eq. {'4' if 'deep' in name else '5'})", fontsize=9)
    axes[0].set_ylabel("singular value")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _notebook_figure_a5():
    """A3-A5's figure: the sheet's run (Gaussian initial weights of variance 0.01, seed 0, dt = 0.1, 150
    updates) over eqs (4) and (5) with a0 = b0 = 0.001."""
    rng = np.random.default_rng(0)
    std = np.sqrt(INIT_VARIANCE)
    w1 = rng.normal(0.0, std, (HIDDEN_DIM, SIGMA_X.shape[0]))
    w2 = rng.normal(0.0, std, (SIGMA_YX.shape[0], HIDDEN_DIM))
    w = rng.normal(0.0, std, SIGMA_YX.shape)
    modes = simulate_modes(w1, w2, w, DT, TAU, SIGMA_X, SIGMA_YX, N_STEPS)
    t = np.arange(N_STEPS + 1) * DT
    s = np.linalg.svd(SIGMA_YX, compute_uv=False)
    return _plot_modes(t, modes["deep"], modes["shallow"], analytic_deep(t[:, None], s[None, :], A0, TAU),
                       analytic_shallow(t[:, None], s[None, :], B0, TAU))

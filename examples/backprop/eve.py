# Eve's backprop.py: the whole assignment as a plain module, graded like a notebook.
from __future__ import annotations
# ---- reference.backprop
"""Backpropagation by hand: a two-hidden-layer ReLU network on MNIST 7 vs 9 (B1-B7).

Sheet B (Saxe, MSc Neuroscience practical 4, "Deep networks"). The sheet's
conventions, kept here:

- ``X`` is ``(784, P)`` (one column per example), ``Y`` is ``(1, P)`` with
  -1 for a seven and +1 for a nine.
- The network is **bias-free** with a **linear output**:
  ``h1 = relu(W1 X)``, ``h2 = relu(W2 h1)``, ``yhat = W3 h2``, with
  ``W1 (n_h1, 784)``, ``W2 (n_h2, n_h1)``, ``W3 (1, n_h2)``. The sheet's
  equations have no bias terms and its starter code draws exactly these three
  matrices; a ReLU on the output could not produce the -1 targets.
- Loss ``L = 1/2 sum_mu ||y^mu - yhat^mu||^2`` (a sum over examples, not a
  mean), trained by full-batch gradient descent ``W <- W - lr dL/dW`` with
  ``lr = 0.1 / P``.
- Initialisation: unit Gaussian entries times ``weight_scale`` (a standard
  deviation, not a variance).

The sheet leaves the hidden sizes open; the course (and the rubric) fixes
``n_h1 = n_h2 = 50`` (``N_H1``, ``N_H2``).
"""

import numpy as np

N_INPUT = 784
N_H1 = 50
N_H2 = 50
LR_SCALE = 0.1
N_ITER = 5000
WEIGHT_SCALES = (0.01, 0.1)


def relu(u):
    """Rectified linear unit, ``relu(u) = max(u, 0)`` (sheet B, hidden layers).

    Parameters
    ----------
    u : ndarray
        Pre-activations, any shape.

    Returns
    -------
    ndarray
        ``max(u, 0)`` elementwise, same shape as ``u``, float64.

    Examples
    --------
    >>> relu(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 2.])
    """
    return np.maximum(np.asarray(u, dtype=np.float64), 0.0)


def relu_prime(u):
    """Derivative of the ReLU: 1 where ``u > 0``, else 0 (0 at ``u = 0``).

    Parameters
    ----------
    u : ndarray
        Pre-activations, any shape.

    Returns
    -------
    ndarray
        float64 array of 0s and 1s, same shape as ``u``.

    Notes
    -----
    The sheet also calls this ``step(h)``, "1 unless its input is negative";
    taken literally on ``h = relu(u) >= 0`` that marks every unit active. The
    convention here is the strict one: a unit at exactly zero passes no
    gradient. (Because ``relu(u) > 0`` exactly where ``u > 0``,
    ``relu_prime(relu(u)) == relu_prime(u)``.)

    Examples
    --------
    >>> relu_prime(np.array([-1.0, 0.0, 2.0]))
    array([0., 0., 1.])
    """
    return (np.asarray(u) > 0).astype(np.float64)


def init_weights(n_h1, n_h2, weight_scale, rng):
    """Random initial weights: unit Gaussians times ``weight_scale`` (sheet B, part b).

    Parameters
    ----------
    n_h1, n_h2 : int
        Widths of the first and second hidden layers.
    weight_scale : float
        Standard deviation of every weight (not a variance).
    rng : numpy.random.Generator
        Source of randomness; drawn in the order W1, W2, W3.

    Returns
    -------
    W1 : ndarray, shape (n_h1, 784)
    W2 : ndarray, shape (n_h2, n_h1)
    W3 : ndarray, shape (1, n_h2)

    Examples
    --------
    >>> W1, W2, W3 = init_weights(50, 50, 0.01, np.random.default_rng(0))
    >>> W1.shape, W2.shape, W3.shape
    ((50, 784), (50, 50), (1, 50))
    """
    W1 = weight_scale * rng.standard_normal((n_h1, N_INPUT))
    W2 = weight_scale * rng.standard_normal((n_h2, n_h1))
    W3 = weight_scale * rng.standard_normal((1, n_h2))
    return W1, W2, W3


def forward(W1, W2, W3, X):
    """Forward pass, ``h1 = relu(W1 X)``, ``h2 = relu(W2 h1)``, ``yhat = W3 h2`` (sheet B).

    Parameters
    ----------
    W1 : ndarray, shape (n_h1, 784)
    W2 : ndarray, shape (n_h2, n_h1)
    W3 : ndarray, shape (1, n_h2)
    X : ndarray, shape (784, P)
        One example per column.

    Returns
    -------
    h1 : ndarray, shape (n_h1, P)
        First hidden layer activity (after the ReLU).
    h2 : ndarray, shape (n_h2, P)
        Second hidden layer activity (after the ReLU).
    yhat : ndarray, shape (1, P)
        Linear output.

    Examples
    --------
    >>> W1, W2, W3 = np.ones((2, 784)), np.eye(2), np.array([[1.0, -1.0]])
    >>> X = np.zeros((784, 1)); X[0, 0] = 3.0
    >>> forward(W1, W2, W3, X)[2]
    array([[0.]])
    """
    h1 = W1 @ X                      # u1 = W1 x
    np.maximum(h1, 0.0, out=h1)      # h1 = relu(u1)
    h2 = W2 @ h1
    np.maximum(h2, 0.0, out=h2)      # h2 = relu(W2 h1)
    yhat = W3 @ h2                   # linear output
    return h1, h2, yhat


def _backward(W2, W3, X, Y, h1, h2, yhat):
    """dL/dW from a stored forward pass (shared by ``gradients`` and ``train``)."""
    e = yhat - Y                     # dL/dyhat for L = 1/2 sum (y - yhat)^2
    dW3 = e @ h2.T
    d2 = W3.T @ e                    # dL/dh2
    d2 *= h2 > 0                     # dL/du2 = dL/dh2 * relu'(u2); h2 > 0 iff u2 > 0
    dW2 = d2 @ h1.T
    d1 = W2.T @ d2                   # dL/dh1
    d1 *= h1 > 0                     # dL/du1
    dW1 = d1 @ X.T
    return dW1, dW2, dW3


def gradients(W1, W2, W3, X, Y):
    """Backpropagation: the gradient dL/dW of ``L = 1/2 sum ||y - yhat||^2`` (sheet B, part a).

    Parameters
    ----------
    W1, W2, W3 : ndarray
        Weights as in :func:`forward`.
    X : ndarray, shape (784, P)
    Y : ndarray, shape (1, P)
        Targets, -1 or +1.

    Returns
    -------
    dW1 : ndarray, shape (n_h1, 784)
    dW2 : ndarray, shape (n_h2, n_h1)
    dW3 : ndarray, shape (1, n_h2)
        The gradient (a sum over the P examples), not the update direction:
        gradient descent subtracts ``lr * dW``.

    Notes
    -----
    With ``e = yhat - y``, ``delta2 = (W3^T e) * relu'(u2)`` and
    ``delta1 = (W2^T delta2) * relu'(u1)``:
    ``dL/dW3 = e h2^T``, ``dL/dW2 = delta2 h1^T``, ``dL/dW1 = delta1 x^T``.

    Examples
    --------
    >>> W1, W2, W3 = np.ones((1, 784)), np.ones((1, 1)), np.ones((1, 1))
    >>> X = np.zeros((784, 1)); X[0, 0] = 1.0
    >>> [float(g.sum()) for g in gradients(W1, W2, W3, X, np.array([[-1.0]]))]
    [2.0, 2.0, 2.0]
    """
    h1, h2, yhat = forward(W1, W2, W3, X)
    return _backward(W2, W3, X, Y, h1, h2, yhat)


def loss(W1, W2, W3, X, Y):
    """Squared error ``L = 1/2 sum_mu ||y^mu - yhat^mu||^2`` (sheet B).

    Parameters
    ----------
    W1, W2, W3 : ndarray
        Weights as in :func:`forward`.
    X : ndarray, shape (784, P)
    Y : ndarray, shape (1, P)

    Returns
    -------
    float
        The summed (not averaged) loss.

    Examples
    --------
    >>> W1, W2, W3 = np.zeros((1, 784)), np.zeros((1, 1)), np.zeros((1, 1))
    >>> loss(W1, W2, W3, np.zeros((784, 4)), np.array([[1.0, -1.0, 1.0, 1.0]]))
    2.0
    """
    yhat = forward(W1, W2, W3, X)[2]
    return 0.5 * float(np.sum((Y - yhat) ** 2))


def accuracy(yhat, Y):
    """Fraction of examples with ``sign(yhat) == y`` (sheet B).

    Parameters
    ----------
    yhat : ndarray, shape (1, P)
        Network outputs.
    Y : ndarray, shape (1, P)
        Targets, -1 or +1.

    Returns
    -------
    float
        In [0, 1]. An output of exactly 0 counts as wrong (``sign(0) = 0``).

    Examples
    --------
    >>> accuracy(np.array([[0.3, -2.0, 0.1, 0.0]]), np.array([[1, -1, -1, 1]]))
    0.5
    """
    return float(np.mean(np.sign(yhat) == Y))


def train(X_train, Y_train, X_test, Y_test, weights, lr, n_iter):
    """Full-batch gradient descent from given weights, with learning curves (sheet B, part b).

    Parameters
    ----------
    X_train : ndarray, shape (784, P)
    Y_train : ndarray, shape (1, P)
    X_test : ndarray, shape (784, P_test)
    Y_test : ndarray, shape (1, P_test)
    weights : sequence of 3 ndarrays
        Initial ``(W1, W2, W3)``; not modified.
    lr : float
        Learning rate; the sheet uses ``lr = 0.1 / P``.
    n_iter : int
        Number of gradient steps ``W <- W - lr dL/dW``.

    Returns
    -------
    dict
        ``train_loss``, ``test_loss`` (summed loss, see :func:`loss`),
        ``train_acc``, ``test_acc`` (see :func:`accuracy`), each an array of
        shape ``(n_iter + 1,)``: entry ``k`` is measured after ``k`` updates
        (entry 0 at the initial weights).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.random((784, 8)), np.array([[1.0, -1] * 4])
    >>> w = init_weights(5, 5, 0.1, rng)
    >>> out = train(X, Y, X, Y, w, lr=0.01, n_iter=3)
    >>> out["train_loss"].shape, bool(out["train_loss"][3] < out["train_loss"][0])
    ((4,), True)
    """
    W1, W2, W3 = (np.array(W, dtype=np.float64, order="C", copy=True) for W in weights)
    P = X_train.shape[1]
    # One forward pass over train and test together: a single large matmul.
    X_all = np.ascontiguousarray(np.concatenate([X_train, X_test], axis=1), dtype=np.float64)
    X = X_all[:, :P]
    Y_train = np.asarray(Y_train, dtype=np.float64)
    Y_test = np.asarray(Y_test, dtype=np.float64)
    curves = {k: np.empty(n_iter + 1) for k in ("train_loss", "test_loss", "train_acc", "test_acc")}
    for k in range(n_iter + 1):
        h1, h2, yhat = forward(W1, W2, W3, X_all)
        e_test = yhat[:, P:] - Y_test
        curves["test_loss"][k] = 0.5 * float(np.vdot(e_test, e_test))
        curves["test_acc"][k] = accuracy(yhat[:, P:], Y_test)
        yhat_train = yhat[:, :P]
        e = yhat_train - Y_train
        curves["train_loss"][k] = 0.5 * float(np.vdot(e, e))
        curves["train_acc"][k] = accuracy(yhat_train, Y_train)
        if k == n_iter:
            break
        dW1, dW2, dW3 = _backward(W2, W3, X, Y_train, h1[:, :P], h2[:, :P], yhat_train)
        dW1 *= lr
        W1 -= dW1                    # W <- W - lr dL/dW
        dW2 *= lr
        W2 -= dW2
        dW3 *= lr
        W3 -= dW3
    return curves


def train_with_scale(X_train, Y_train, X_test, Y_test, weight_scale, rng,
                     n_iter=N_ITER, n_h1=N_H1, n_h2=N_H2):
    """The sheet's experiment: initialise at ``weight_scale`` and train with ``lr = 0.1 / P`` (sheet B, part b).

    Given to students (provided code, not an exercise): it calls your
    :func:`init_weights` and :func:`train`, which are what is graded.

    Parameters
    ----------
    X_train, Y_train, X_test, Y_test : ndarray
        As in :func:`train`.
    weight_scale : float
        Standard deviation of the initial weights (the sheet compares 0.01 and 0.1).
    rng : numpy.random.Generator
        Passed to :func:`init_weights`.
    n_iter : int, default 5000
    n_h1, n_h2 : int, default 50

    Returns
    -------
    dict
        As :func:`train`.

    Notes
    -----
    ``P`` is the number of training examples, ``X_train.shape[1]``; the sheet
    sets ``lr = 0.1 / P`` so that the step does not grow with the data set
    (the loss is a sum over examples).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.random((784, 8)), np.array([[1.0, -1] * 4])
    >>> train_with_scale(X, Y, X, Y, 0.1, rng, n_iter=2)["train_acc"].shape
    (3,)
    """
    P = X_train.shape[1]
    weights = init_weights(n_h1, n_h2, weight_scale, rng)
    return train(X_train, Y_train, X_test, Y_test, weights, LR_SCALE / P, n_iter)


def best_stopping_iteration(test_loss):
    """Early stopping: the first iteration at which the test loss is smallest (sheet B, part c).

    Parameters
    ----------
    test_loss : array_like, shape (n_iter + 1,)
        Test loss after 0, 1, ..., n_iter updates.

    Returns
    -------
    int
        Index of the minimum; the earliest one if the minimum is attained
        more than once.

    Examples
    --------
    >>> best_stopping_iteration([5.0, 3.0, 2.0, 2.0, 4.0])
    2
    """
    return int(np.argmin(np.asarray(test_loss)))


def _mnist_array(key, stride=1):
    """One array of the packaged MNIST 7/9 data, every ``stride``-th example.

    For the rubric (``{ref: _mnist_array, args: [X_train, 10]}``): the data
    are ordered by class, so a column stride keeps both classes balanced.
    """
    from reference.data import load_mnist_sevens_nines

    return np.ascontiguousarray(load_mnist_sevens_nines()[key][:, ::stride])


# ----------------------------------------------------------------------------
# The learning curves of part b (B12), as the figure item B12-curves finds them in a notebook's figures.
# Private, so not in the skeleton. The plotting helper is pure (numbers in, a ``Figure`` out); the
# ``_notebook_figure_*`` function trains with the functions above and calls it.


def _plot_learning_curves(runs):
    """Loss (log scale) and accuracy against the iteration, train and test, for each run: ``runs`` maps a
    name (the weight scale) to :func:`train`'s dict."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 3.6))
    ax_loss, ax_acc = fig.subplots(1, 2)
    for k, (name, curves) in enumerate(runs.items()):
        for part, style in (("train", "-"), ("test", "--")):
            ax_loss.plot(curves[f"{part}_loss"], style, color=f"C{k}", label=f"{part}, {name}")
            ax_acc.plot(curves[f"{part}_acc"], style, color=f"C{k}", label=f"{part}, {name}")
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("loss (1/2 sum of squares)")
    ax_acc.set_xlabel("iteration")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0.4, 1.01)
    ax_loss.legend(fontsize=7)
    ax_acc.legend(fontsize=7, loc="lower right")
    fig.suptitle("Full-batch gradient descent, lr = 0.1 / P")
    fig.tight_layout()
    return fig


def _sheet_data():
    """The sheet's data as float arrays ``(X_train, y_train, X_test, y_test)``: from
    ``mnist_sevens_nines.mat`` in the working directory, as a notebook loads it (``dlgrade validate`` runs
    the figure functions in the sandbox), else the packaged copy (the grader's trusted side)."""
    import os

    keys = ("X_train", "y_train", "X_test", "y_test")
    if os.path.exists("mnist_sevens_nines.mat"):
        import scipy.io

        mat = scipy.io.loadmat("mnist_sevens_nines.mat")
        return [np.asarray(mat[k], dtype=np.float64) for k in keys]
    return [_mnist_array(k).astype(np.float64) for k in keys]


_SHEET_RUNS: dict = {}  # _sheet_runs' memo: the last (data, n_iter, seed) it trained on -> the runs


def _sheet_runs(X_train, Y_train, X_test, Y_test, n_iter=N_ITER, seed=0):
    """The sheet's experiment of part b: :func:`train_with_scale` at each of ``WEIGHT_SCALES``, each run from
    ``numpy.random.default_rng(seed)`` (the catalogue's B6 note: seed 0, ``lr = 0.1 / P``, 50/50 hidden units,
    5000 iterations).

    Returns ``{"scale 0.01": curves, "scale 0.1": curves}``, ``curves`` as :func:`train` returns them (fresh
    copies). The two runs take about a minute, and the report's reference figure and B12's key figure both
    draw them, so they are remembered for the last inputs, keyed on the data's bytes, ``n_iter`` and
    ``seed``: the function stays pure (same arrays in, same arrays out)."""
    import hashlib

    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (X_train, Y_train, X_test, Y_test)]
    digest = hashlib.blake2b(digest_size=16)
    for a in arrays:
        digest.update(repr(a.shape).encode())
        digest.update(a.data)
    memo = (digest.hexdigest(), int(n_iter), int(seed))
    if memo not in _SHEET_RUNS:
        runs = {f"scale {s:g}": train_with_scale(*arrays, s, np.random.default_rng(seed), n_iter=n_iter)
                for s in WEIGHT_SCALES}
        _SHEET_RUNS.clear()
        _SHEET_RUNS[memo] = runs
    return {name: {k: v.copy() for k, v in curves.items()} for name, curves in _SHEET_RUNS[memo].items()}


def _notebook_figure_b12_curves():
    """B12's learning curves: the sheet's two runs (:func:`_sheet_runs`: weight scales 0.01 and 0.1, 5000
    iterations each, each from seed 0; about a minute)."""
    return _plot_learning_curves(_sheet_runs(*_sheet_data()))


# ---- reference.scalar_chain
"""A deep scalar linear chain: error surface, fixed points, gradient flow, depth (B8-B11).

Sheet B, second part. A chain of ``D`` scalar units with ``D-1`` weights maps
``x`` to ``yhat = w_tot x`` with ``w_tot = w_1 w_2 ... w_{D-1}``. With the
input-output statistics ``sigma_y = <y^2>``, ``sigma_yx = <y x>`` and
``sigma_x = <x^2>`` the error ``E = <(y - w_tot x)^2>`` is

    E(w) = sigma_y - 2 sigma_yx w_tot + sigma_x w_tot^2.        (sheet B, eq. E)

Every function takes the three statistics explicitly, in this order, after
its own arguments.

The sheet's data
----------------
The sheet's statistics are ``sigma_y = 4.5``, ``sigma_yx = 2``,
``sigma_x = 1`` (``SIGMA_Y``, ``SIGMA_YX``, ``SIGMA_X`` below). They give the
errors it quotes at the fixed points, ``E_min = sigma_y - sigma_yx^2 /
sigma_x = 0.5`` at the global minima (the hyperbola ``w_1 w_2 = 2`` for
``D = 3``) and ``E_saddle = sigma_y = 4.5`` at the saddle (the origin).

Part f's three starting points are the sheet's, ``EULER_STARTS``:

- ``(0.001, 0.001)``, next to the saddle on ``w_1 = w_2``: a long plateau,
  then it escapes along the diagonal to ``(sqrt 2, sqrt 2)``;
- ``(2.1, -2)``: ``w_1^2 - w_2^2 = 0.41`` is conserved, so ``w_1`` never
  crosses zero and the flow ends on the positive branch of the hyperbola
  (a sequential update sends it to the negative one);
- ``(2, -2)`` lies on ``w_1 = -w_2``, a line the flow never leaves, and
  runs into the saddle at the origin.
"""

import numpy as np

SIGMA_Y = 4.5
SIGMA_YX = 2.0
SIGMA_X = 1.0
EULER_STARTS = ((0.001, 0.001), (2.1, -2.0), (2.0, -2.0))
BALANCED_W0S = (0.5, 1.0, 1.1)
BALANCED_DEPTHS = tuple(range(2, 21))


def _prod_except(w):
    """``prod_{j != i} w_j`` for every i, without dividing (safe at zeros)."""
    w = np.asarray(w, dtype=np.float64)
    before = np.concatenate(([1.0], np.cumprod(w[:-1])))
    after = np.concatenate((np.cumprod(w[::-1][:-1])[::-1], [1.0]))
    return before * after


def chain_error(w, sigma_y, sigma_yx, sigma_x):
    """Error of the chain, ``E = sigma_y - 2 sigma_yx w_tot + sigma_x w_tot^2`` (sheet B, part a).

    Parameters
    ----------
    w : ndarray, shape (D-1,)
        The weights ``w_1 ... w_{D-1}``.
    sigma_y, sigma_yx, sigma_x : float
        ``<y^2>``, ``<y x>``, ``<x^2>``.

    Returns
    -------
    float

    Examples
    --------
    >>> chain_error(np.array([1.0, 2.0]), 4.5, 2.0, 1.0)
    0.5
    """
    w_tot = float(np.prod(w))
    return float(sigma_y - 2.0 * sigma_yx * w_tot + sigma_x * w_tot**2)  # sheet B, eq. E


def chain_gradient(w, sigma_y, sigma_yx, sigma_x):
    """Gradient ``dE/dw_i = 2 (sigma_x w_tot - sigma_yx) prod_{j != i} w_j`` (sheet B, part b).

    Parameters
    ----------
    w : ndarray, shape (D-1,)
    sigma_y, sigma_yx, sigma_x : float

    Returns
    -------
    ndarray, shape (D-1,)

    Examples
    --------
    >>> chain_gradient(np.array([2.0, -2.0]), 4.5, 2.0, 1.0)
    array([ 24., -24.])
    """
    w = np.asarray(w, dtype=np.float64)
    w_tot = np.prod(w)
    return 2.0 * (sigma_x * w_tot - sigma_yx) * _prod_except(w)


def chain_fixed_point_errors(sigma_y, sigma_yx, sigma_x):
    """Error at the global minima and at the saddle of the chain (sheet B, part d).

    Parameters
    ----------
    sigma_y, sigma_yx, sigma_x : float

    Returns
    -------
    dict
        ``minimum``: ``sigma_y - sigma_yx^2 / sigma_x`` (any ``w`` with
        ``w_tot = sigma_yx / sigma_x``); ``saddle``: ``sigma_y`` (``w_tot = 0``,
        e.g. the origin, a fixed point whenever ``D - 1 >= 2``).

    Examples
    --------
    >>> chain_fixed_point_errors(4.5, 2.0, 1.0)
    {'minimum': 0.5, 'saddle': 4.5}
    """
    return {"minimum": float(sigma_y - sigma_yx**2 / sigma_x), "saddle": float(sigma_y)}


def is_fixed_point(w, sigma_y, sigma_yx, sigma_x, tol=1e-8):
    """Whether ``w`` is a fixed point of gradient descent: ``||dE/dw|| < tol`` (sheet B, part d).

    Parameters
    ----------
    w : ndarray, shape (D-1,)
    sigma_y, sigma_yx, sigma_x : float
    tol : float, default 1e-8
        Bound on the Euclidean norm of the gradient.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_fixed_point(np.array([1.0, 2.0]), 4.5, 2.0, 1.0), is_fixed_point(np.array([1.0, 1.0]), 4.5, 2.0, 1.0)
    (True, False)
    """
    return bool(np.linalg.norm(chain_gradient(w, sigma_y, sigma_yx, sigma_x)) < tol)


def euler_trajectory(w0, sigma_y, sigma_yx, sigma_x, tau=1.0, dt=0.01, n_steps=1000):
    """Forward-Euler gradient flow ``tau dw/dt = -dE/dw`` (sheet B, part f).

    Parameters
    ----------
    w0 : ndarray, shape (D-1,)
        Initial weights.
    sigma_y, sigma_yx, sigma_x : float
    tau : float, default 1
        Time constant.
    dt : float, default 0.01
        Euler step.
    n_steps : int, default 1000

    Returns
    -------
    ndarray, shape (n_steps + 1, D-1)
        Row ``k`` holds the weights after ``k`` steps (row 0 is ``w0``). Every
        step updates all weights at once from the old values:
        ``w <- w - (dt / tau) dE/dw(w)``.

    Examples
    --------
    >>> euler_trajectory(np.array([2.0, -2.0]), 4.5, 2.0, 1.0, n_steps=1)
    array([[ 2.  , -2.  ],
           [ 1.76, -1.76]])
    """
    traj = np.empty((n_steps + 1, np.size(w0)))
    traj[0] = w0
    for k in range(n_steps):
        traj[k + 1] = traj[k] - (dt / tau) * chain_gradient(traj[k], sigma_y, sigma_yx, sigma_x)
    return traj


def balanced_error(w, D, sigma_y, sigma_yx, sigma_x):
    """Error with all ``D-1`` weights equal to ``w``: ``E = sigma_y - 2 sigma_yx w^(D-1) + sigma_x w^(2(D-1))`` (sheet B, part g).

    Parameters
    ----------
    w : float or ndarray
        Common value of the weights (broadcasts).
    D : int
        Number of units in the chain (``D-1`` weights), ``D >= 2``.
    sigma_y, sigma_yx, sigma_x : float

    Returns
    -------
    float or ndarray, shaped like ``w``

    Examples
    --------
    >>> balanced_error(1.0, 3, 4.5, 2.0, 1.0)
    1.5
    """
    w_tot = np.power(np.asarray(w, dtype=np.float64), D - 1)
    E = sigma_y - 2.0 * sigma_yx * w_tot + sigma_x * w_tot**2
    return float(E) if np.ndim(E) == 0 else E


def balanced_gradient(w, D, sigma_y, sigma_yx, sigma_x):
    """Per-weight gradient in the balanced regime, ``dE/dw_i`` at ``w_1 = ... = w_{D-1} = w`` (sheet B, part g).

    Parameters
    ----------
    w : float or ndarray
        Common value of the weights (broadcasts).
    D : int
        Number of units (``D-1`` weights).
    sigma_y, sigma_yx, sigma_x : float

    Returns
    -------
    float or ndarray
        ``2 (sigma_x w^(D-1) - sigma_yx) w^(D-2)``: the gradient that drives
        each single weight. It is ``1/(D-1)`` of ``d/dw`` of
        :func:`balanced_error` (the derivative with respect to the shared
        value moves all ``D-1`` weights at once).

    Examples
    --------
    >>> balanced_gradient(0.5, 3, 4.5, 2.0, 1.0)
    -1.75
    """
    w = np.asarray(w, dtype=np.float64)
    g = 2.0 * (sigma_x * np.power(w, D - 1) - sigma_yx) * np.power(w, D - 2)
    return float(g) if np.ndim(g) == 0 else g


def initial_gradients(w0s, depths, sigma_y, sigma_yx, sigma_x):
    """Per-weight gradient at balanced starts, for each start and depth (sheet B, part g).

    Parameters
    ----------
    w0s : sequence of float
        Balanced initial values (the sheet: 0.5, 1, 1.1).
    depths : sequence of int
        Chain sizes ``D`` (the sheet: 2..20).
    sigma_y, sigma_yx, sigma_x : float

    Returns
    -------
    ndarray, shape (len(w0s), len(depths))
        Entry ``[i, j]`` is ``balanced_gradient(w0s[i], depths[j], ...)``
        (signed; plot its magnitude on a log scale).

    Examples
    --------
    >>> initial_gradients([1.0], [2, 5], 4.5, 2.0, 1.0)
    array([[-2., -2.]])
    """
    w = np.asarray(w0s, dtype=np.float64)[:, None]
    D = np.asarray(depths)[None, :]
    return 2.0 * (sigma_x * w ** (D - 1) - sigma_yx) * w ** (D - 2)


# ----------------------------------------------------------------------------
# The figures of part f and g (B12), as the figure items B12-phase and B12-balanced compare a notebook's
# figures with them. Private, so not in the skeleton: a student draws their own, in any style. The plotting
# helpers are pure (numbers in, a ``Figure`` out, no pyplot state, nothing computed inside); the
# ``_notebook_figure_*`` functions compute with the functions above and call them. The grader calls those
# (``{notebook_figures: _notebook_figure_b12_phase}``) for the reference's side and the report.


def _plot_phase_portrait(w1, w2, E, trajectories, branches, saddle):
    """The error surface ``E`` on the grid ``w1 x w2`` (filled contours), the trajectories (one curve each,
    in order: the first curves of the figure, a dot at each start), the global minima (``branches``: the
    two branches of the hyperbola, ``(n, 2)`` each) and the saddle (a point)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 4.6))
    ax = fig.subplots()
    cs = ax.contourf(w1, w2, E, levels=np.linspace(0.0, 20.0, 41), cmap="viridis", extend="max")
    fig.colorbar(cs, ax=ax, label="E")
    for k, traj in enumerate(trajectories):
        ax.plot(traj[:, 0], traj[:, 1], "-", color=f"C{k + 1}", lw=1.8, label=f"from ({traj[0, 0]:g}, {traj[0, 1]:g})")
        ax.plot(traj[0, 0], traj[0, 1], "o", color=f"C{k + 1}", ms=4)
    for b in branches:
        ax.plot(b[:, 0], b[:, 1], "--", color="r", lw=1, label="_minima")
    ax.scatter([saddle[0]], [saddle[1]], marker="x", color="r", s=40, label="saddle", zorder=3)
    ax.set_xlim(w1.min(), w1.max())
    ax.set_ylim(w2.min(), w2.max())
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("Gradient flow on E (D = 3); dashed: the minima $w_1 w_2 = 2$", fontsize=9)
    fig.tight_layout()
    return fig


def _notebook_figure_b12_phase():
    """B12's phase portrait: E of the two-weight chain (D = 3), the minima and the saddle, and part f's three
    Euler trajectories (dt = 0.01, 1000 steps)."""
    g = np.linspace(-3.0, 3.0, 121)
    w1, w2 = np.meshgrid(g, g)
    E = SIGMA_Y - 2.0 * SIGMA_YX * w1 * w2 + SIGMA_X * (w1 * w2) ** 2
    trajectories = [euler_trajectory(np.array(w0), SIGMA_Y, SIGMA_YX, SIGMA_X) for w0 in EULER_STARTS]
    c = SIGMA_YX / SIGMA_X
    u = np.linspace(c / 3.0, 3.0, 200)
    branches = [np.column_stack([u, c / u]), np.column_stack([-u, -c / u])]
    return _plot_phase_portrait(w1, w2, E, trajectories, branches, (0.0, 0.0))


def _plot_balanced_errors(w, depths, errors):
    """``E(w)`` of the balanced chain, one curve per depth (rows of ``errors``), labelled ``D = ...``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0, 4.0))
    ax = fig.subplots()
    for D, E in zip(depths, errors):
        ax.plot(w, E, label=f"D = {D}")
    ax.set_ylim(0.0, 12.0)
    ax.set_xlabel("w (all D - 1 weights)")
    ax.set_ylabel("E(w)")
    ax.set_title("Balanced chain")
    ax.legend()
    fig.tight_layout()
    return fig


def _notebook_figure_b12_balanced():
    """B12's balanced-regime figure: ``E(w)`` for D = 2..6, w in [-1.5, 1.5]."""
    w = np.linspace(-1.5, 1.5, 601)
    depths = range(2, 7)
    return _plot_balanced_errors(w, depths, [balanced_error(w, D, SIGMA_Y, SIGMA_YX, SIGMA_X) for D in depths])

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
from __future__ import annotations

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
    ### BEGIN SOLUTION
    return np.maximum(np.asarray(u, dtype=np.float64), 0.0)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    return (np.asarray(u) > 0).astype(np.float64)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    W1 = weight_scale * rng.standard_normal((n_h1, N_INPUT))
    W2 = weight_scale * rng.standard_normal((n_h2, n_h1))
    W3 = weight_scale * rng.standard_normal((1, n_h2))
    return W1, W2, W3
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    h1 = W1 @ X                      # u1 = W1 x
    np.maximum(h1, 0.0, out=h1)      # h1 = relu(u1)
    h2 = W2 @ h1
    np.maximum(h2, 0.0, out=h2)      # h2 = relu(W2 h1)
    yhat = W3 @ h2                   # linear output
    return h1, h2, yhat
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    h1, h2, yhat = forward(W1, W2, W3, X)
    return _backward(W2, W3, X, Y, h1, h2, yhat)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    yhat = forward(W1, W2, W3, X)[2]
    return 0.5 * float(np.sum((Y - yhat) ** 2))
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    return float(np.mean(np.sign(yhat) == Y))
    ### END SOLUTION


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
    ### BEGIN SOLUTION
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
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    return int(np.argmin(np.asarray(test_loss)))
    ### END SOLUTION


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

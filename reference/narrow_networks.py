"""Assignment C, items C6-C10: narrow deep linear networks, depth, learning
rate, initialisation, and representation learning on hierarchical data.

Reference solutions for Neuromatch Academy W1D2 "Linear Deep Learning",
Tutorial 2 ("Learning Hyperparameters": C6-C9) and Tutorial 3 ("Deep linear
neural networks": C10), with the names and signatures of the public
notebooks. Where the notebooks leave a quantity to a plot or a widget
(learning time, learning-rate regimes, the stable learning rate, which
initialisations learn), this module defines it precisely in the docstring.

Conventions
-----------
* numpy items work in ``float64``; torch items (C10) in ``float32`` as the
  notebook does.
* A *narrow chain* of depth ``D`` has ``D`` hidden layers of one unit, so
  ``D + 1`` scalar weights and output ``y = (w_0 w_1 ... w_D) x`` (the
  notebook's ``DeepNarrowLNN(np.full((1, depth + 1), w))``).
* Randomness comes in as ``rng`` (a ``numpy.random.Generator``). The
  notebook's helpers draw from the global ``np.random`` state after
  ``set_seed(2021)``; here ``rng=None`` means ``np.random.default_rng(2021)``,
  so a call without ``rng`` is reproducible (the draws differ from the
  notebook's, which used the legacy global generator).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

SEED = 2021
"""Seed the notebooks pass to ``set_seed``; the default of every ``rng``."""


def gen_samples(n, a, sigma, rng=None):
    """Data ``y = a x + noise`` for the narrow networks (given helper).

    Parameters
    ----------
    n : int
        Number of samples, ``n > 0``.
    a : float
        Slope of the noise-free map.
    sigma : float
        Standard deviation of the Gaussian noise, ``>= 0``.
    rng : numpy.random.Generator, optional
        Used only when ``sigma > 0``; default ``np.random.default_rng(2021)``.

    Returns
    -------
    x, y : np.ndarray, shape (n,)
        If ``sigma > 0``: ``x ~ U[0, 1)`` and ``y = a x + N(0, sigma^2)``.
        If ``sigma == 0``: ``x = linspace(0, 1, n)`` and ``y = a x``
        (deterministic, as in the notebook).

    Examples
    --------
    >>> x, y = gen_samples(3, 2.0, 0.0)
    >>> y.tolist()
    [0.0, 1.0, 2.0]
    """
    assert n > 0
    assert sigma >= 0
    if sigma > 0:
        rng = np.random.default_rng(SEED) if rng is None else rng
        x = rng.random(n)
        noise = rng.normal(scale=sigma, size=n)
        y = a * x + noise
    else:
        x = np.linspace(0.0, 1.0, n, endpoint=True)
        y = a * x
    return x, y


# ---------------------------------------------------------------------------
# C6. A shallow narrow network y = x w1 w2  (Tutorial 2, Coding Exercise 1)
# ---------------------------------------------------------------------------
def loss(y_prediction, y_true):
    """Mean squared error ``mean((y_true - y_prediction)^2)``.

    Parameters
    ----------
    y_prediction, y_true : np.ndarray
        Same shape.

    Returns
    -------
    float

    Examples
    --------
    >>> float(loss(np.array([1.0, 2.0]), np.array([1.0, 4.0])))
    2.0
    """
    assert y_prediction.shape == y_true.shape
    ### BEGIN SOLUTION
    mse = ((y_true - y_prediction) ** 2).mean()
    ### END SOLUTION
    return mse


class ShallowNarrowExercise:
    """Shallow narrow linear network ``y = x w1 w2`` trained by gradient descent.

    Parameters
    ----------
    init_weights : list, tuple or np.ndarray of length 2
        Initial ``(w1, w2)``.

    Attributes
    ----------
    w1, w2 : float
        Current weights (updated in place by :meth:`train`).

    Examples
    --------
    >>> net = ShallowNarrowExercise([1.0, 1.0])
    >>> x = np.array([1.0, 2.0]); y = 2 * x
    >>> [float(g) for g in net.dloss_dw(x, y)]
    [-5.0, -5.0]
    """

    def __init__(self, init_weights):
        assert isinstance(init_weights, (list, np.ndarray, tuple))
        assert len(init_weights) == 2
        self.w1 = init_weights[0]
        self.w2 = init_weights[1]

    def forward(self, x):
        """Prediction ``y = w1 w2 x`` (elementwise, any shape of ``x``)."""
        ### BEGIN SOLUTION
        y = self.w1 * self.w2 * x
        ### END SOLUTION
        return y

    def dloss_dw(self, x, y_true):
        """Gradient of the MSE ``L = mean((y_true - w1 w2 x)^2)``.

        Parameters
        ----------
        x, y_true : np.ndarray, same shape
            Inputs and targets (one entry per sample).

        Returns
        -------
        (dloss_dw1, dloss_dw2) : tuple of float

        Notes
        -----
        ``dL/dw1 = -mean(2 w2 x (y - w1 w2 x))``,
        ``dL/dw2 = -mean(2 w1 x (y - w1 w2 x))`` (a mean, not a sum, over
        samples).
        """
        assert x.shape == y_true.shape
        ### BEGIN SOLUTION
        err = y_true - self.w1 * self.w2 * x
        dloss_dw1 = -(2 * self.w2 * x * err).mean()
        dloss_dw2 = -(2 * self.w1 * x * err).mean()
        ### END SOLUTION
        return dloss_dw1, dloss_dw2

    def train(self, x, y_true, lr, n_ep):
        """Full-batch gradient descent for ``n_ep`` epochs.

        Parameters
        ----------
        x, y_true : np.ndarray, same shape
        lr : float
            Learning rate ``eta``.
        n_ep : int
            Number of epochs (= gradient steps).

        Returns
        -------
        loss_records : np.ndarray, shape (n_ep,)
            ``loss_records[i]``: the loss *before* the update of epoch ``i``.
        weight_records : np.ndarray, shape (n_ep, 2)
            ``weight_records[i]``: ``(w1, w2)`` *after* the update of epoch ``i``.

        Notes
        -----
        Both weights are updated from the gradient at the old weights:
        ``w_k <- w_k - lr dL/dw_k``.
        """
        assert x.shape == y_true.shape
        ### BEGIN SOLUTION
        loss_records = np.empty(n_ep)
        weight_records = np.empty((n_ep, 2))
        for i in range(n_ep):
            y_prediction = self.forward(x)
            loss_records[i] = loss(y_prediction, y_true)
            dloss_dw1, dloss_dw2 = self.dloss_dw(x, y_true)
            self.w1 -= lr * dloss_dw1
            self.w2 -= lr * dloss_dw2
            weight_records[i] = [self.w1, self.w2]
        ### END SOLUTION
        return loss_records, weight_records


def loss_landscape(w1_grid, w2_grid, x, y):
    """The MSE of ``y = x w1 w2`` at every point of a ``(w1, w2)`` grid.

    Parameters
    ----------
    w1_grid, w2_grid : np.ndarray
        Weight values, broadcastable against each other (e.g. the two
        outputs of ``np.meshgrid``).
    x, y : np.ndarray, shape (n_samples,)
        Data.

    Returns
    -------
    np.ndarray
        Shape ``np.broadcast(w1_grid, w2_grid).shape``; entry ``[i, j]`` is
        ``mean_k (y_k - w1[i, j] w2[i, j] x_k)^2``.

    Examples
    --------
    >>> x = np.array([1.0, 2.0]); y = 2 * x
    >>> loss_landscape(np.array([1.0, 2.0]), np.array([2.0, 2.0]), x, y).tolist()
    [0.0, 10.0]
    """
    ### BEGIN SOLUTION
    w1_grid = np.asarray(w1_grid, dtype=float)
    w2_grid = np.asarray(w2_grid, dtype=float)
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    w = (w1_grid * w2_grid)[..., None]
    landscape = ((y - w * x) ** 2).mean(axis=-1)
    ### END SOLUTION
    return landscape


# ---------------------------------------------------------------------------
# C7. Depth: a deep narrow chain  (Tutorial 2, Section 2.1)
# ---------------------------------------------------------------------------
class DeepNarrowLNN:
    """Deep narrow linear network (one unit per layer): ``y = (prod_i w_i) x``.

    Parameters
    ----------
    init_weights : np.ndarray
        The ``D + 1`` initial weights of a depth-``D`` chain, ``D >= 0`` (any
        shape, e.g. the notebook's ``(1, D + 1)``; stored flattened and
        copied, so the caller's array is not changed).

    Attributes
    ----------
    w : np.ndarray, shape (D + 1,)

    Examples
    --------
    >>> net = DeepNarrowLNN(np.array([1.0, 2.0, 3.0]))
    >>> net.forward(np.array([1.0])).tolist()
    [6.0]
    >>> net.dloss_dw(np.array([1.0]), np.array([7.0])).tolist()   # -2 (7-6) * (6, 3, 2)
    [-12.0, -6.0, -4.0]
    """

    def __init__(self, init_weights):
        init_weights = np.asarray(init_weights, dtype=float)
        assert init_weights.size >= 1
        self.w = init_weights.reshape(-1).copy()

    def forward(self, x):
        """Prediction ``(prod_i w_i) x`` (elementwise)."""
        ### BEGIN SOLUTION
        y = np.prod(self.w) * x
        ### END SOLUTION
        return y

    def loss(self, y_p, y_t):
        """Mean squared error ``mean((y_t - y_p)^2)`` (given)."""
        assert y_p.shape == y_t.shape
        return ((y_t - y_p) ** 2).mean()

    def dloss_dw(self, x, y_t):
        """Gradient of ``L = mean((y_t - (prod_j w_j) x)^2)`` w.r.t. every ``w_i``.

        Parameters
        ----------
        x, y_t : np.ndarray, same shape

        Returns
        -------
        np.ndarray, shape (D + 1,)
            ``dL/dw_i = -2 mean((y_t - P x) x) prod_{j != i} w_j`` with
            ``P = prod_j w_j``.

        Notes
        -----
        The product over ``j != i`` is computed from prefix and suffix
        products, so it is exact also when some ``w_j = 0`` (the notebook's
        ``P / w_i`` divides by zero there).
        """
        assert x.shape == y_t.shape
        ### BEGIN SOLUTION
        err = y_t - self.forward(x)
        w = self.w
        left = np.concatenate(([1.0], np.cumprod(w[:-1])))  # prod_{j < i} w_j
        right = np.concatenate((np.cumprod(w[::-1][:-1])[::-1], [1.0]))  # prod_{j > i}
        dloss_dw = -2 * (err * x).mean() * left * right
        ### END SOLUTION
        return dloss_dw

    def train(self, x, y_t, eta, n_ep):
        """Full-batch gradient descent for ``n_ep`` epochs.

        Parameters
        ----------
        x, y_t : np.ndarray, same shape
        eta : float
            Learning rate.
        n_ep : int

        Returns
        -------
        loss_records : np.ndarray, shape (n_ep,)
            Loss before the update of each epoch.
        weight_records : np.ndarray, shape (n_ep, D + 1)
            Weights after the update of each epoch.
        """
        ### BEGIN SOLUTION
        loss_records = np.empty(n_ep)
        weight_records = np.empty((n_ep, self.w.size))
        for i in range(n_ep):
            y_p = self.forward(x)
            loss_records[i] = self.loss(y_p, y_t)
            dloss_dw = self.dloss_dw(x, y_t)
            self.w = self.w - eta * dloss_dw  # all weights from the old ones
            weight_records[i] = self.w
        ### END SOLUTION
        return loss_records, weight_records


def learning_time(losses, threshold):
    """First epoch at which a loss curve reaches ``threshold``.

    Parameters
    ----------
    losses : array_like, shape (n_ep,)
    threshold : float

    Returns
    -------
    int
        The smallest 0-based index ``i`` with ``losses[i] <= threshold``, or
        ``-1`` if there is none (nan never counts).

    Examples
    --------
    >>> learning_time([4.0, 2.0, 1.0, 0.5], 1.0), learning_time([4.0], 1.0)
    (2, -1)
    """
    ### BEGIN SOLUTION
    below = np.asarray(losses, dtype=float) <= threshold
    return int(np.argmax(below)) if below.any() else -1
    ### END SOLUTION


def _learned_threshold(x, y, frac):
    """``L* + frac (L(0) - L*)``: the loss once a fraction ``1 - frac`` of
    what a scalar map ``y = P x`` can explain has been learned."""
    m_xx = np.mean(x * x)
    m_xy = np.mean(x * y)
    explainable = m_xy**2 / m_xx  # L(P=0) - L(P*) with P* = m_xy / m_xx
    floor = np.mean(y * y) - explainable
    return floor + frac * explainable


def depth_learning_times(depths, x, y, lr=0.01, init_weight=0.9, n_ep=1000,
                         frac=0.01, init_std=0.0, rng=None):
    """Learning time of a narrow chain against its depth.

    For each depth ``D`` a :class:`DeepNarrowLNN` with ``D + 1`` weights
    ``w_i = init_weight + init_std * z_i`` (``z_i ~ N(0, 1)`` from ``rng``,
    drawn depth after depth in the order given; no draw when
    ``init_std == 0``) is trained by gradient descent on ``(x, y)`` with
    learning rate ``lr`` for ``n_ep`` epochs, and its :func:`learning_time`
    is recorded with the threshold

    ``L_learned = L* + frac (L(0) - L*)``,

    where ``L(P) = mean((y - P x)^2)``, ``L* = min_P L(P)`` (at
    ``P* = mean(x y) / mean(x^2)``) and ``L(0) = mean(y^2)``: the network has
    learned once it has removed all but ``frac`` of the loss a scalar map
    can remove.

    Parameters
    ----------
    depths : sequence of int
    x, y : np.ndarray, shape (n_samples,)
    lr : float
    init_weight : float
    n_ep : int
    frac : float
    init_std : float
    rng : numpy.random.Generator, optional
        Default ``np.random.default_rng(2021)``; used only if ``init_std > 0``.

    Returns
    -------
    np.ndarray of int, shape (len(depths),)
        Learning times (``-1``: not learned within ``n_ep`` epochs).

    Examples
    --------
    >>> x, y = gen_samples(100, 2.0, 0.0)
    >>> depth_learning_times([1, 10, 50], x, y).tolist()
    [96, 30, 273]
    """
    ### BEGIN SOLUTION
    rng = np.random.default_rng(SEED) if rng is None else rng
    threshold = _learned_threshold(x, y, frac)
    times = []
    for depth in depths:
        w0 = np.full(depth + 1, float(init_weight))
        if init_std > 0:
            w0 = w0 + init_std * rng.standard_normal(depth + 1)
        with np.errstate(over="ignore", invalid="ignore"):
            losses, _ = DeepNarrowLNN(w0).train(x, y, lr, n_ep)
        times.append(learning_time(losses, threshold))
    return np.array(times, dtype=int)
    ### END SOLUTION


# ---------------------------------------------------------------------------
# C8. Learning-rate regimes and the largest stable learning rate
# ---------------------------------------------------------------------------
def lr_regime(losses):
    """Classify a gradient-descent loss curve by its learning-rate regime.

    Parameters
    ----------
    losses : array_like, shape (T,), T >= 2
        Loss per epoch, ``L_0 ... L_{T-1}``.

    Returns
    -------
    str
        The first of these rules that holds:

        1. ``"diverged"``: some ``L_t`` is not finite, or ``L_{T-1} > L_0``
           (training ended worse than it started).
        2. ``"chaotic"``: the loss went up, ``L_{t+1} > L_t (1 + 1e-6)``, in
           more than 10% of the ``T - 1`` steps.
        3. ``"too_small"``: less than 10% of the loss removed,
           ``L_{T-1} > 0.9 L_0``.
        4. ``"right"``: converged: over the last ``k = max(1, ceil(0.1 (T - 1)))``
           steps the loss fell by at most 1% of the total decrease,
           ``L_{T-1-k} - L_{T-1} <= 0.01 (L_0 - L_{T-1})``.
        5. ``"slow"``: otherwise (still falling at the end).

    Examples
    --------
    >>> t = np.arange(50)
    >>> lr_regime(0.999**t), lr_regime(0.98**t), lr_regime(0.5**t)
    ('too_small', 'slow', 'right')
    >>> lr_regime([1.0, 0.5, 0.8, 0.4, 0.7, 0.3]), lr_regime([1.0, 10.0, np.inf])
    ('chaotic', 'diverged')
    """
    ### BEGIN SOLUTION
    L = np.asarray(losses, dtype=float).ravel()
    T = L.size
    assert T >= 2
    if not np.all(np.isfinite(L)) or L[-1] > L[0]:
        return "diverged"
    n_up = int(np.sum(L[1:] > L[:-1] * (1 + 1e-6)))
    if n_up > 0.1 * (T - 1):
        return "chaotic"
    if L[-1] > 0.9 * L[0]:
        return "too_small"
    k = max(1, math.ceil(0.1 * (T - 1)))
    if L[T - 1 - k] - L[T - 1] <= 0.01 * (L[0] - L[T - 1]):
        return "right"
    return "slow"
    ### END SOLUTION


def max_stable_lr(depth, x, y):
    """Largest learning rate at which gradient descent can converge on a
    narrow chain of depth ``depth``: ``2 / lambda_max``.

    Parameters
    ----------
    depth : int
        Number of hidden layers ``D`` (``D + 1`` weights), ``D >= 0``.
    x, y : np.ndarray, shape (n_samples,)
        Data; ``mean(x^2) > 0``.

    Returns
    -------
    float
        ``eta_max = 2 / lambda_max`` with ``lambda_max`` the top eigenvalue
        of the Hessian of ``L(w) = mean((y - (prod_i w_i) x)^2)`` at the
        balanced minimum ``|w_i| = |P*|^(1 / (D + 1))``, where
        ``P* = mean(x y) / mean(x^2)``.

    Notes
    -----
    At a minimum the residual term of the Hessian vanishes, so
    ``H = 2 mean(x^2) g g^T`` with ``g_i = dP/dw_i = P* / w_i``: rank one,
    ``lambda_max = 2 mean(x^2) |g|^2 = 2 mean(x^2) (D + 1) |P*|^(2 D / (D + 1))``.
    Gradient descent is stable at the minimum iff ``|1 - eta lambda_max| < 1``,
    i.e. ``eta < 2 / lambda_max``. Among all minima (``prod w_i = P*``) the
    balanced one has the smallest ``|g|^2`` (AM-GM), so above ``eta_max`` no
    minimum is stable. With ``D = 0`` this is ``1 / mean(x^2)``, the bound of
    linear regression.

    Examples
    --------
    >>> x, y = gen_samples(100, 2.0, 0.0)
    >>> round(max_stable_lr(0, x, y), 6), round(max_stable_lr(10, x, y), 6)
    (2.984925, 0.076951)
    """
    ### BEGIN SOLUTION
    n = depth + 1
    m_xx = np.mean(np.asarray(x, dtype=float) ** 2)
    m_xy = np.mean(np.asarray(x, dtype=float) * np.asarray(y, dtype=float))
    p_star = abs(m_xy / m_xx)
    lam_max = 2 * m_xx * n * p_star ** (2 * (n - 1) / n)  # top Hessian eigenvalue
    return float(2 / lam_max)
    ### END SOLUTION


# ---------------------------------------------------------------------------
# C9. Initialisation  (Tutorial 2, Section 2.3)
# ---------------------------------------------------------------------------
def init_power(w, depth):
    """Gain ``w**depth`` of a chain of ``depth`` weights all equal to ``w``.

    Examples
    --------
    >>> f"{init_power(0.9, 100):.4g}", f"{init_power(1.1, 100):.6g}"
    ('2.656e-05', '13780.6')
    """
    ### BEGIN SOLUTION
    return w**depth
    ### END SOLUTION


def init_learning_times(init_values, x, y, depth=15, lr=0.02, n_ep=100, frac=0.01):
    """Learning time of a depth-15 narrow chain from different initialisations.

    For each ``v`` in ``init_values`` a :class:`DeepNarrowLNN` with
    ``depth + 1`` weights all equal to ``v`` is trained on ``(x, y)`` with
    learning rate ``lr`` for ``n_ep`` epochs; the result is its
    :func:`learning_time` with the threshold of
    :func:`depth_learning_times` (``L* + frac (L(0) - L*)``). The inits that
    *learn* are those with a time ``>= 0``.

    Parameters
    ----------
    init_values : sequence of float
    x, y : np.ndarray, shape (n_samples,)
    depth : int
    lr : float
    n_ep : int
    frac : float

    Returns
    -------
    np.ndarray of int, shape (len(init_values),)

    Examples
    --------
    On ``y = 2x`` only the inits close to 1 learn within 100 epochs; below,
    the signal vanishes (0.9**16 = 0.19), above, the first steps overshoot:

    >>> x, y = gen_samples(100, 2.0, 0.0)
    >>> init_learning_times([0.7, 0.9, 1.0, 1.1, 1.2], x, y).tolist()
    [-1, 16, 4, 9, -1]
    """
    ### BEGIN SOLUTION
    threshold = _learned_threshold(x, y, frac)
    times = []
    for v in init_values:
        with np.errstate(over="ignore", invalid="ignore"):
            losses, _ = DeepNarrowLNN(np.full(depth + 1, float(v))).train(x, y, lr, n_ep)
        times.append(learning_time(losses, threshold))
    return np.array(times, dtype=int)
    ### END SOLUTION


# ---------------------------------------------------------------------------
# C10. Representation learning on hierarchical data  (Tutorial 3)
# ---------------------------------------------------------------------------
class LNNet(nn.Module):
    """Bias-free two-layer linear network (given).

    Parameters
    ----------
    in_dim, hid_dim, out_dim : int

    ``forward(x)`` returns ``(out, hid)`` with ``hid = x W_in^T`` of shape
    ``(n, hid_dim)`` and ``out = hid W_out^T`` of shape ``(n, out_dim)``.
    """

    def __init__(self, in_dim, hid_dim, out_dim):
        super().__init__()
        self.in_hid = nn.Linear(in_dim, hid_dim, bias=False)
        self.hid_out = nn.Linear(hid_dim, out_dim, bias=False)

    def forward(self, x):
        hid = self.in_hid(x)
        out = self.hid_out(hid)
        return out, hid


def ex_initializer_(model, gamma=1e-12):
    """Re-initialise every weight of ``model`` in place, small and Gaussian.

    Parameters
    ----------
    model : torch.nn.Module
        Its parameters are 2-D weight matrices ``(n_out, n_in)``.
    gamma : float
        Scale of the initialisation.

    Returns
    -------
    None
        Each weight is overwritten with draws from
        ``N(0, sigma^2)``, ``sigma = gamma / sqrt(n_in + n_out)``
        (``torch.nn.init.normal_``, the global torch generator).
    """
    ### BEGIN SOLUTION
    for weight in model.parameters():
        n_out, n_in = weight.shape
        sigma = gamma / math.sqrt(n_in + n_out)
        nn.init.normal_(weight, mean=0.0, std=sigma)
    ### END SOLUTION


def ex_net_svd(model, in_dim):
    """SVD of the input-output map ``W_tot = W_L ... W_2 W_1`` of a linear net.

    Parameters
    ----------
    model : torch.nn.Module
        Bias-free linear layers; ``model.parameters()`` yields the weight
        matrices from input to output.
    in_dim : int
        Input dimension (the product starts from ``torch.eye(in_dim)``).

    Returns
    -------
    U, S, V : torch.Tensor
        Reduced SVD as ``torch.svd`` gives it (the notebook's call):
        ``W_tot = U diag(S) V^T``, ``U (out, k)``, ``S (k,)`` descending,
        ``V (in_dim, k)``, ``k = min(out, in_dim)``. Singular vectors are
        defined up to a joint sign per pair of columns.
    """
    ### BEGIN SOLUTION
    W_tot = torch.eye(in_dim)
    for weight in model.parameters():
        W_tot = weight @ W_tot
    U, S, Vh = torch.linalg.svd(W_tot, full_matrices=False)
    V = Vh.mT
    ### END SOLUTION
    return U, S, V


def ex_net_rsm(h):
    """Representational similarity matrix ``h h^T`` of hidden activities.

    Parameters
    ----------
    h : torch.Tensor, shape (n_items, n_units)

    Returns
    -------
    torch.Tensor, shape (n_items, n_items)
    """
    ### BEGIN SOLUTION
    rsm = h @ h.T
    ### END SOLUTION
    return rsm


def linear_regression(X, Y):
    """Least-squares linear map ``W = Y X^T (X X^T)^-1``.

    Parameters
    ----------
    X : np.ndarray, shape (M, P)
        Inputs, one *column* per sample (``X X^T`` invertible).
    Y : np.ndarray, shape (N, P)
        Targets, one column per sample.

    Returns
    -------
    W : np.ndarray, shape (N, M)
        Minimises ``||Y - W X||_F^2``.

    Examples
    --------
    >>> linear_regression(np.eye(2), np.array([[1.0, 2.0]])).tolist()
    [[1.0, 2.0]]
    """
    assert isinstance(X, np.ndarray)
    assert isinstance(Y, np.ndarray)
    M, Dx = X.shape
    N, Dy = Y.shape
    assert Dx == Dy
    ### BEGIN SOLUTION
    # W (X X^T) = Y X^T; X X^T is symmetric, so solve for W^T
    W = np.linalg.solve(X @ X.T, X @ Y.T).T
    ### END SOLUTION
    return W


def build_tree(n_levels, n_branches, probability, to_np_array=True):
    """A tree of feature-flip probabilities (given, as in Tutorial 3).

    Parameters
    ----------
    n_levels : int
        Levels below the root.
    n_branches : int
        Children per node.
    probability : float
        Flip probability of every node, in [0, 1].
    to_np_array : bool

    Returns
    -------
    dict
        ``"level"``: the level of each node (breadth-first, root first),
        ``"pflip"``: its flip probability, ``"parent"``: the index of its
        parent (``None`` for the root).
    """
    assert 0.0 <= probability <= 1.0
    tree = {}
    tree["level"] = [0]
    for i in range(1, n_levels + 1):
        tree["level"].extend([i] * (n_branches**i))
    tree["pflip"] = [probability] * len(tree["level"])
    tree["parent"] = [None]
    k = len(tree["level"]) - 1
    for j in range(k // n_branches):
        tree["parent"].extend([j] * n_branches)
    if to_np_array:
        tree["level"] = np.array(tree["level"])
        tree["pflip"] = np.array(tree["pflip"])
        tree["parent"] = np.array(tree["parent"], dtype=object)
    return tree


def sample_from_tree(tree, n, rng=None):
    """Sample ``n`` features over the leaves of ``tree`` (given).

    Every node draws ``s = -1`` with its ``pflip`` and ``+1`` otherwise; a
    leaf's value is the product of the draws on its path to the root.

    Parameters
    ----------
    tree : dict
        As returned by :func:`build_tree` (numpy arrays).
    n : int
        Number of features.
    rng : numpy.random.Generator, optional
        Default ``np.random.default_rng(2021)`` (the notebook uses the
        global ``np.random``).

    Returns
    -------
    np.ndarray, shape (n, n_leaves), entries +-1
    """
    rng = np.random.default_rng(SEED) if rng is None else rng
    level = np.asarray(tree["level"])
    items = [i for i, v in enumerate(level) if v == level.max()]
    n_items = len(items)
    x = np.zeros(shape=(n, n_items))
    rand_temp = rng.random((n, len(tree["pflip"])))
    flip_temp = np.repeat(np.asarray(tree["pflip"]).reshape(1, -1), n, 0)
    samp = (rand_temp > flip_temp) * 2 - 1
    for i in range(n_items):
        j = items[i]
        prop = samp[:, j].copy()
        while tree["parent"][j] is not None:
            j = tree["parent"][j]
            prop *= samp[:, j]
        x[:, i] = prop
    return x


def generate_hsd(rng=None):
    """Hierarchically structured data of Tutorial 3 (given).

    A binary tree with 3 levels (8 leaves = items), flip probability 0.15
    at every node and 0.5 at the root (so each feature has a random overall
    sign), 10000 features.

    Parameters
    ----------
    rng : numpy.random.Generator, optional
        Default ``np.random.default_rng(2021)``.

    Returns
    -------
    tree_labels : np.ndarray, shape (8, 8)
        One-hot item labels (the identity).
    tree_features : np.ndarray, shape (8, 10000)
        Feature values +-1 per item. Two items whose closest common
        ancestor is ``k`` levels up have feature correlation
        ``(1 - 2 * 0.15)**(2k)`` in expectation.
    """
    n_branches = 2
    probability = 0.15
    n_levels = 3
    tree = build_tree(n_levels, n_branches, probability, to_np_array=True)
    tree["pflip"][0] = 0.5
    n_samples = 10000
    tree_labels = np.eye(n_branches**n_levels)
    tree_features = sample_from_tree(tree, n_samples, rng=rng).T
    return tree_labels, tree_features

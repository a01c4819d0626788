"""Assignment C, items C1-C5: gradients by hand, computational graphs, autograd.

Reference solutions for the first tutorial of Neuromatch Academy W1D2
"Linear Deep Learning" (Tutorial 1, "Gradients and AutoGrad"), with the
names and signatures of the public notebook so that notebooks written for
that course can be graded as they are.

Conventions: the numpy items (C1-C3) work in ``float64`` and broadcast
elementwise; the torch items (C4, C5) work in ``float32``, torch's default
and the notebook's (``torch.tensor([w])`` of a Python float is ``float32``).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


# ---------------------------------------------------------------------------
# C1. Gradient of z = sin(x^2 + y^2)  (Tutorial 1, Coding Exercise 1)
# ---------------------------------------------------------------------------
def fun_z(x, y):
    """The surface ``z = sin(x^2 + y^2)`` of Tutorial 1, Section 1.

    Parameters
    ----------
    x, y : float or np.ndarray
        Coordinates; arrays broadcast by numpy rules.

    Returns
    -------
    z : float or np.ndarray
        ``sin(x**2 + y**2)``, the broadcast shape of ``x`` and ``y``.

    Examples
    --------
    >>> float(fun_z(0.0, np.sqrt(np.pi / 2)))
    1.0
    """
    ### BEGIN SOLUTION
    z = np.sin(x**2 + y**2)  # T1 eq. z = sin(x^2 + y^2)
    ### END SOLUTION
    return z


def fun_dz(x, y):
    """The gradient ``(dz/dx, dz/dy)`` of ``z = sin(x^2 + y^2)``.

    Parameters
    ----------
    x, y : float or np.ndarray
        Coordinates; arrays broadcast by numpy rules.

    Returns
    -------
    (dz_dx, dz_dy) : tuple of float or np.ndarray
        Both of the broadcast shape of ``x`` and ``y``.

    Notes
    -----
    By the chain rule, with ``u = x^2 + y^2``:
    ``dz/dx = cos(u) du/dx = 2 x cos(x^2 + y^2)`` and
    ``dz/dy = 2 y cos(x^2 + y^2)``.

    Examples
    --------
    >>> [float(g) for g in fun_dz(1.0, 0.0)]   # 2 cos(1), 0
    [1.0806046117362795, 0.0]
    """
    ### BEGIN SOLUTION
    dz_dx = 2 * x * np.cos(x**2 + y**2)  # chain rule: d/dx sin(u) = cos(u) * 2x
    dz_dy = 2 * y * np.cos(x**2 + y**2)
    ### END SOLUTION
    return (dz_dx, dz_dy)


# ---------------------------------------------------------------------------
# C2. Gradient by hand of L = (y - tanh(w x + b))^2  (Tutorial 1, Section 2)
# ---------------------------------------------------------------------------
def loss_grad(w, b, x, y):
    """Analytical gradient ``(dL/dw, dL/db)`` of ``L = (y - tanh(w x + b))^2``.

    Parameters
    ----------
    w, b : float or np.ndarray
        Weight and bias of the one-neuron network.
    x, y : float or np.ndarray
        Input and target; everything broadcasts elementwise (no sum or mean
        over samples: one gradient per element).

    Returns
    -------
    (dL_dw, dL_db) : tuple of float or np.ndarray

    Notes
    -----
    With ``p = tanh(w x + b)`` and ``dtanh(u)/du = 1 - tanh(u)^2``:
    ``dL/dw = -2 (y - p) (1 - p^2) x`` and ``dL/db = -2 (y - p) (1 - p^2)``.

    Examples
    --------
    >>> [round(float(g), 6) for g in loss_grad(-0.5, 0.5, 2.0, 7.0)]
    [-23.47426, -11.73713]
    """
    ### BEGIN SOLUTION
    p = np.tanh(w * x + b)
    dL_db = -2 * (y - p) * (1 - p**2)  # dL/dp * dp/du, u = w x + b
    dL_dw = dL_db * x  # du/dw = x
    ### END SOLUTION
    return (dL_dw, dL_db)


# ---------------------------------------------------------------------------
# C3. Computational graph of f(x, y, z) = tanh(ln(1 + z 2x / sin y))
# ---------------------------------------------------------------------------
def graph_forward(x, y, z):
    """Forward pass through the graph of ``f = tanh(ln(1 + z * 2x / sin(y)))``.

    Parameters
    ----------
    x, y, z : float or np.ndarray
        Inputs; arrays broadcast by numpy rules. ``1 + z 2x / sin(y)`` must be
        positive (else ``ln`` gives nan, as numpy does).

    Returns
    -------
    dict
        The intermediate nodes ``a = 2x``, ``b = sin(y)``, ``c = a / b``,
        ``d = z c``, ``e = ln(1 + d)`` and the output ``f = tanh(e)``,
        under the keys ``"a"`` ... ``"f"``.

    Examples
    --------
    >>> round(float(graph_forward(1.0, np.pi / 2, 1.0)["f"]), 6)   # tanh(ln 3)
    0.8
    """
    ### BEGIN SOLUTION
    a = 2 * x
    b = np.sin(y)
    c = a / b
    d = z * c
    e = np.log(1 + d)
    f = np.tanh(e)
    ### END SOLUTION
    return dict(a=a, b=b, c=c, d=d, e=e, f=f)


def graph_backward(x, y, z):
    """Backward pass: ``(df/dx, df/dy, df/dz)`` by the chain rule on the graph.

    Parameters
    ----------
    x, y, z : float or np.ndarray
        Inputs, as for :func:`graph_forward` (which this function calls to get
        the stored intermediates).

    Returns
    -------
    (df_dx, df_dy, df_dz) : tuple of float or np.ndarray

    Notes
    -----
    Local derivatives: ``df/de = 1 - f^2``, ``de/dd = 1 / (1 + d)``,
    ``dd/dc = z``, ``dd/dz = c``, ``dc/da = 1 / b``, ``dc/db = -a / b^2``,
    ``da/dx = 2``, ``db/dy = cos(y)``. Then
    ``df/dx = df/de de/dd dd/dc dc/da da/dx``,
    ``df/dy = df/de de/dd dd/dc dc/db db/dy``,
    ``df/dz = df/de de/dd dd/dz``.

    Examples
    --------
    >>> df_dx, df_dy, df_dz = graph_backward(1.0, np.pi / 2, 1.0)
    >>> round(float(df_dx), 6), round(float(df_dz), 6), abs(float(df_dy)) < 1e-12
    (0.24, 0.24, True)
    """
    ### BEGIN SOLUTION
    v = graph_forward(x, y, z)
    a, b, c, d, f = v["a"], v["b"], v["c"], v["d"], v["f"]
    df_de = 1 - f**2  # tanh'(e) = 1 - tanh(e)^2
    de_dd = 1 / (1 + d)  # ln'(1 + d)
    df_dd = df_de * de_dd
    df_dc = df_dd * z
    df_dz = df_dd * c
    df_da = df_dc / b
    df_db = df_dc * (-a / b**2)
    df_dx = df_da * 2
    df_dy = df_db * np.cos(y)
    ### END SOLUTION
    return (df_dx, df_dy, df_dz)


# ---------------------------------------------------------------------------
# C4. Autograd: SimpleGraph and the squared loss  (Tutorial 1, Exercise 2.1)
# ---------------------------------------------------------------------------
class SimpleGraph:
    """One neuron ``prediction = tanh(x w + b)`` with torch parameters.

    Parameters
    ----------
    w, b : float
        Initial weight and bias (Python floats, as the notebook asserts).

    Attributes
    ----------
    w, b : torch.Tensor
        Shape ``(1,)``, ``float32``, ``requires_grad=True``; after
        ``loss.backward()`` their ``.grad`` holds dL/dw and dL/db.

    Examples
    --------
    >>> g = SimpleGraph(-0.5, 0.5)
    >>> l = sq_loss(torch.tensor([7.0]), g.forward(torch.tensor([2.0])))
    >>> l.backward(); round(g.w.grad.item(), 4)
    -23.4743
    """

    def __init__(self, w, b):
        assert isinstance(w, float)
        assert isinstance(b, float)
        self.w = torch.tensor([w], requires_grad=True)
        self.b = torch.tensor([b], requires_grad=True)

    def forward(self, x):
        """Prediction ``tanh(x w + b)`` (not the loss).

        Parameters
        ----------
        x : torch.Tensor
            Inputs, any shape (broadcast against the ``(1,)`` parameters).

        Returns
        -------
        torch.Tensor
            ``tanh(x * w + b)``, attached to the autograd graph.
        """
        assert isinstance(x, torch.Tensor)
        ### BEGIN SOLUTION
        prediction = torch.tanh(x * self.w + self.b)
        ### END SOLUTION
        return prediction


def sq_loss(y_true, y_prediction):
    """Elementwise squared error ``(y_true - y_prediction)^2`` (no reduction).

    Parameters
    ----------
    y_true, y_prediction : torch.Tensor
        Broadcastable tensors.

    Returns
    -------
    torch.Tensor
        ``(y_true - y_prediction)**2``, elementwise.

    Examples
    --------
    >>> sq_loss(torch.tensor([1.0]), torch.tensor([3.0]))
    tensor([4.])
    """
    assert isinstance(y_true, torch.Tensor)
    assert isinstance(y_prediction, torch.Tensor)
    ### BEGIN SOLUTION
    loss = (y_true - y_prediction) ** 2
    ### END SOLUTION
    return loss


# ---------------------------------------------------------------------------
# C5. A wide network and the canonical training loop  (Tutorial 1, Section 2.2)
# ---------------------------------------------------------------------------
class WideNet(nn.Module):
    """A wide network with one hidden layer of 512 tanh units.

    Structure: ``nn.Sequential(nn.Linear(1, 512), nn.Tanh(), nn.Linear(512, 1))``
    stored as ``self.layers`` (the notebook's name), default torch
    initialisation, ``float32``. Input ``(n_samples, 1)``, output
    ``(n_samples, 1)``.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> WideNet()(torch.zeros(3, 1)).shape
    torch.Size([3, 1])
    """

    def __init__(self):
        n_cells = 512
        super().__init__()
        ### BEGIN SOLUTION
        self.layers = nn.Sequential(
            nn.Linear(1, n_cells),
            nn.Tanh(),
            nn.Linear(n_cells, 1),
        )
        ### END SOLUTION

    def forward(self, x):
        """Network output for inputs ``x`` of shape ``(n_samples, 1)``."""
        ### BEGIN SOLUTION
        return self.layers(x)
        ### END SOLUTION


def train(features, labels, model, loss_fun, optimizer, n_epochs):
    """Full-batch training loop: ``n_epochs`` gradient steps.

    Parameters
    ----------
    features : torch.Tensor, shape (n_samples, n_in)
    labels : torch.Tensor, shape (n_samples, n_out)
    model : torch.nn.Module
    loss_fun : callable
        Called as ``loss_fun(predictions, labels)`` (``nn.MSELoss`` order).
    optimizer : torch.optim.Optimizer
        Over ``model.parameters()``.
    n_epochs : int

    Returns
    -------
    loss_record : list of float, length ``n_epochs``
        The loss of each epoch, computed before that epoch's step.

    Notes
    -----
    Each epoch, in this order: ``optimizer.zero_grad()``, forward pass,
    loss, ``loss.backward()``, ``optimizer.step()``, record ``loss.item()``.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> net = WideNet(); x = torch.linspace(-1, 1, 8).reshape(8, 1)
    >>> rec = train(x, torch.sin(x), net, nn.MSELoss(),
    ...             torch.optim.SGD(net.parameters(), lr=0.005), 5)
    >>> len(rec), rec[-1] < rec[0]
    (5, True)
    """
    ### BEGIN SOLUTION
    loss_record = []
    for _ in range(n_epochs):
        optimizer.zero_grad()  # clear gradients of the previous epoch
        predictions = model(features)
        loss = loss_fun(predictions, labels)
        loss.backward()
        optimizer.step()
        loss_record.append(loss.item())
    ### END SOLUTION
    return loss_record


def _sine_data(n_samples=32, noise_std=0.25, seed=2021):
    """Rubric data for C5: ``x = linspace(-1, 1, n)``, ``y = sin(pi x) + N(0, noise_std^2)``.

    The notebook makes the same data at the top level with ``torch.randn``;
    here the noise comes from ``np.random.default_rng(seed)``. Returns
    ``float32`` arrays of shape ``(n_samples, 1)``.
    """
    rng = np.random.default_rng(seed)
    x = np.linspace(-1.0, 1.0, n_samples).reshape(n_samples, 1)
    y = np.sin(np.pi * x) + noise_std * rng.standard_normal((n_samples, 1))
    return x.astype(np.float32), y.astype(np.float32)


def _widenet_params(seed=0, n_cells=512):
    """Rubric data for C5: given WideNet parameters, one array per parameter (matched by shape, not by name).

    ``[W_hidden (n_cells, 1), b_hidden (n_cells,), W_out (1, n_cells), b_out (1,)]``, ``float32``, drawn
    from torch's default ``nn.Linear`` ranges (``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``) with
    ``np.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    bound_out = 1.0 / np.sqrt(n_cells)
    arrays = [rng.uniform(-1.0, 1.0, (n_cells, 1)), rng.uniform(-1.0, 1.0, n_cells),
              rng.uniform(-bound_out, bound_out, (1, n_cells)), rng.uniform(-bound_out, bound_out, 1)]
    return [a.astype(np.float32) for a in arrays]

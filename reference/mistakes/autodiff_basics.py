"""Known mistakes for assignment C, items C1-C5 (``reference/autodiff_basics.py``).

Each function is self-contained source: the grader cuts it out, renames it to
``replaces`` and appends it to the reference module (``Class.method`` targets
are patched onto the class), so it may use the reference module's imports
(``np``, ``torch``, ``nn``) and names. Method mutants take ``self`` and must
not use zero-argument ``super()`` (there is no class cell outside the class).
"""
from __future__ import annotations

import numpy as np
from torch import nn

from reference.mistakes import mistake


# --- C1 ---------------------------------------------------------------------
@mistake(item="C1", replaces="fun_dz",
         feedback="The derivative of x^2 is 2x: your dz/dx and dz/dy miss the factor 2 of the chain rule.")
def fun_dz__missing_factor_2(x, y):
    dz_dx = x * np.cos(x**2 + y**2)
    dz_dy = y * np.cos(x**2 + y**2)
    return (dz_dx, dz_dy)


@mistake(item="C1", replaces="fun_dz",
         feedback="You differentiated sin(u) but not its argument: multiply cos(x^2 + y^2) by du/dx = 2x "
                  "(and du/dy = 2y).")
def fun_dz__missing_inner_derivative(x, y):
    dz_dx = np.cos(x**2 + y**2) + 0 * x
    dz_dy = np.cos(x**2 + y**2) + 0 * y
    return (dz_dx, dz_dy)


# --- C2 ---------------------------------------------------------------------
@mistake(item="C2", replaces="loss_grad",
         feedback="The sign of your gradient is flipped: dL/dp = -2 (y - p), not +2 (y - p).")
def loss_grad__sign_flipped(w, b, x, y):
    p = np.tanh(w * x + b)
    dL_db = 2 * (y - p) * (1 - p**2)
    return (dL_db * x, dL_db)


@mistake(item="C2", replaces="loss_grad",
         feedback="The derivative of (y - p)^2 is -2 (y - p): your gradient misses the factor 2.")
def loss_grad__missing_factor_2(w, b, x, y):
    p = np.tanh(w * x + b)
    dL_db = -(y - p) * (1 - p**2)
    return (dL_db * x, dL_db)


@mistake(item="C2", replaces="loss_grad",
         feedback="Your gradient misses the derivative of tanh, 1 - tanh(w x + b)^2.")
def loss_grad__missing_tanh_derivative(w, b, x, y):
    p = np.tanh(w * x + b)
    dL_db = -2 * (y - p) + 0 * w
    return (dL_db * x, dL_db)


# --- C3 ---------------------------------------------------------------------
@mistake(item="C3", replaces="graph_backward",
         feedback="df/dy drops the local derivative of node b = sin(y): multiply by db/dy = cos(y).")
def graph_backward__missing_cos_y(x, y, z):
    v = graph_forward(x, y, z)  # noqa: F821 - resolved in the reference module
    a, b, c, d, f = v["a"], v["b"], v["c"], v["d"], v["f"]
    df_dd = (1 - f**2) / (1 + d)
    df_dx = df_dd * z / b * 2
    df_dy = df_dd * z * (-a / b**2)
    df_dz = df_dd * c
    return (df_dx, df_dy, df_dz)


@mistake(item="C3", replaces="graph_backward",
         feedback="The derivative of tanh(e) is 1 - tanh(e)^2 = 1 - f^2, not 1 - f.")
def graph_backward__tanh_derivative_not_squared(x, y, z):
    v = graph_forward(x, y, z)  # noqa: F821 - resolved in the reference module
    a, b, c, d, f = v["a"], v["b"], v["c"], v["d"], v["f"]
    df_dd = (1 - f) / (1 + d)
    df_dx = df_dd * z / b * 2
    df_dy = df_dd * z * (-a / b**2) * np.cos(y)
    df_dz = df_dd * c
    return (df_dx, df_dy, df_dz)


# --- C4 ---------------------------------------------------------------------
@mistake(item="C4", replaces="SimpleGraph.forward",
         feedback="forward must return tanh(x w + b), the prediction after the tanh, not the linear part.")
def SimpleGraph_forward__no_tanh(self, x):
    return x * self.w + self.b


@mistake(item="C4", replaces="sq_loss",
         feedback="sq_loss is the elementwise squared error (y_true - y_prediction)^2; do not average it.")
def sq_loss__mean_reduced(y_true, y_prediction):
    return ((y_true - y_prediction) ** 2).mean()


# --- C5 ---------------------------------------------------------------------
@mistake(item="C5", replaces="WideNet.__init__",
         feedback="WideNet uses a Tanh nonlinearity between its two Linear layers, not a ReLU.")
def WideNet_init__relu_instead_of_tanh(self):
    n_cells = 512
    nn.Module.__init__(self)
    self.layers = nn.Sequential(nn.Linear(1, n_cells), nn.ReLU(), nn.Linear(n_cells, 1))


@mistake(item="C5", replaces="train",
         feedback="Call optimizer.zero_grad() every epoch: without it the gradients of all previous epochs "
                  "accumulate in .grad.")
def train__no_zero_grad(features, labels, model, loss_fun, optimizer, n_epochs):
    loss_record = []
    for _ in range(n_epochs):
        predictions = model(features)
        loss = loss_fun(predictions, labels)
        loss.backward()
        optimizer.step()
        loss_record.append(loss.item())
    return loss_record


@mistake(item="C5", replaces="train",
         feedback="optimizer.zero_grad() must come before loss.backward() (or after optimizer.step()): "
                  "between backward and step it erases the gradients and the model never learns.")
def train__zero_grad_after_backward(features, labels, model, loss_fun, optimizer, n_epochs):
    loss_record = []
    for _ in range(n_epochs):
        predictions = model(features)
        loss = loss_fun(predictions, labels)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
        loss_record.append(loss.item())
    return loss_record

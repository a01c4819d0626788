"""Known mistakes of assignment A (``reference/dln_dynamics.py``).

Each function is spliced into the reference module in place of ``replaces``
(see :mod:`reference.mistakes`), so names such as ``np``, ``torch``, ``nn``
and the reference's own functions resolve there.

Not a function mutant: the sheet's initial weights have *variance* 0.01
(std 0.1); a student who draws them with std 0.01 gets modes about 100 times
smaller, and much longer plateaus, in their own run. No graded function
takes the initial scale, so the rubric lists it for the TA under A5.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from reference.dln_dynamics import (  # noqa: F401  (used by the A5-figure mutant bodies)
    A0,
    B0,
    DT,
    HIDDEN_DIM,
    INIT_VARIANCE,
    N_STEPS,
    SIGMA_X,
    SIGMA_YX,
    TAU,
    analytic_deep,
    analytic_shallow,
    simulate_modes,
)
from reference.mistakes import mistake

# --- A1 ----------------------------------------------------------------------


@mistake(item="A1", replaces="update_deep_network_weights",
         feedback="W2 is updated with the already-updated W1; both updates must use the old weights "
                  "(compute the error once, then update both).")
def update_deep_network_weights__sequential(w1, w2, dt, tau, sigma_x, sigma_yx):
    w1 = w1 + (dt / tau) * (w2.T @ (sigma_yx - w2 @ w1 @ sigma_x))
    w2 = w2 + (dt / tau) * ((sigma_yx - w2 @ w1 @ sigma_x) @ w1.T)
    return w1, w2


@mistake(item="A1", replaces="update_deep_network_weights",
         feedback="The time step dt is missing from the Euler update: W <- W + (dt / tau) * dW.")
def update_deep_network_weights__missing_dt(w1, w2, dt, tau, sigma_x, sigma_yx):
    error = sigma_yx - w2 @ w1 @ sigma_x
    return w1 + (w2.T @ error) / tau, w2 + (error @ w1.T) / tau


@mistake(item="A1", replaces="update_deep_network_weights",
         feedback="The factor 1/tau is missing from the Euler update: W <- W + (dt / tau) * dW.")
def update_deep_network_weights__missing_tau(w1, w2, dt, tau, sigma_x, sigma_yx):
    error = sigma_yx - w2 @ w1 @ sigma_x
    return w1 + dt * (w2.T @ error), w2 + dt * (error @ w1.T)


@mistake(item="A1", replaces="update_deep_network_weights",
         feedback="SIGMA_X is left out of the error (SIGMA_YX - W2 W1 SIGMA_X); it is the identity for the "
                  "sheet's data but not in general.")
def update_deep_network_weights__ignores_sigma_x(w1, w2, dt, tau, sigma_x, sigma_yx):
    error = sigma_yx - w2 @ w1
    return w1 + (dt / tau) * (w2.T @ error), w2 + (dt / tau) * (error @ w1.T)


# --- A2 ----------------------------------------------------------------------


@mistake(item="A2", replaces="update_shallow_network_weights",
         feedback="The factor 1/tau is missing from the shallow update: W <- W + (dt / tau)(SIGMA_YX - W SIGMA_X).")
def update_shallow_network_weights__missing_tau(w, dt, tau, sigma_x, sigma_yx):
    return w + dt * (sigma_yx - w @ sigma_x)


@mistake(item="A2", replaces="update_shallow_network_weights",
         feedback="The gradient has the wrong sign: the weights must move towards SIGMA_YX, "
                  "W <- W + (dt / tau)(SIGMA_YX - W SIGMA_X).")
def update_shallow_network_weights__sign(w, dt, tau, sigma_x, sigma_yx):
    return w - (dt / tau) * (sigma_yx - w @ sigma_x)


# --- A3 ----------------------------------------------------------------------


@mistake(item="A3", replaces="simulate_modes",
         feedback="The singular values are in ascending order; np.linalg.svd returns them descending, "
                  "keep that order (mode 1 = the largest).")
def simulate_modes__ascending(w1, w2, w, dt, tau, sigma_x, sigma_yx, n_steps):
    n_modes = min(sigma_yx.shape)
    deep, shallow = [], []
    for k in range(n_steps + 1):
        if k > 0:
            w1, w2 = update_deep_network_weights(w1, w2, dt, tau, sigma_x, sigma_yx)
            w = update_shallow_network_weights(w, dt, tau, sigma_x, sigma_yx)
        deep.append(np.sort(np.linalg.svd(w2 @ w1, compute_uv=False)[:n_modes]))
        shallow.append(np.sort(np.linalg.svd(w, compute_uv=False)[:n_modes]))
    return {"deep": np.array(deep), "shallow": np.array(shallow)}


@mistake(item="A3", replaces="simulate_modes",
         feedback="The deep network's modes are the singular values of the product W2 @ W1 "
                  "(its input-output map), not of W1 alone.")
def simulate_modes__first_layer_only(w1, w2, w, dt, tau, sigma_x, sigma_yx, n_steps):
    n_modes = min(sigma_yx.shape)
    deep, shallow = [], []
    for k in range(n_steps + 1):
        if k > 0:
            w1, w2 = update_deep_network_weights(w1, w2, dt, tau, sigma_x, sigma_yx)
            w = update_shallow_network_weights(w, dt, tau, sigma_x, sigma_yx)
        deep.append(np.linalg.svd(w1, compute_uv=False)[:n_modes])
        shallow.append(np.linalg.svd(w, compute_uv=False)[:n_modes])
    return {"deep": np.array(deep), "shallow": np.array(shallow)}


# --- A4 ----------------------------------------------------------------------


@mistake(item="A4", replaces="analytic_deep",
         feedback="The exponent is 2 s t / tau, not s t / tau: the mode strength a = c d grows at the rate "
                  "(c^2 + d^2)(s - a) = 2 a (s - a) for balanced weights.")
def analytic_deep__half_rate(t, s, a0, tau):
    t = np.asarray(t, dtype=float)
    s = np.asarray(s, dtype=float)
    e = np.exp(s * t / tau)
    return s * e / (e - 1.0 + s / a0)


@mistake(item="A4", replaces="analytic_deep",
         feedback="tau is missing from the exponent of eq. (4): it is e^{2 s t / tau}.")
def analytic_deep__missing_tau(t, s, a0, tau):
    t = np.asarray(t, dtype=float)
    s = np.asarray(s, dtype=float)
    e = np.exp(2.0 * s * t)
    return s * e / (e - 1.0 + s / a0)


@mistake(item="A4", replaces="analytic_deep",
         feedback="The denominator of eq. (4) has s/a0, not a0: e^{2st/tau} - 1 + s/a0 (check a(0) = a0).")
def analytic_deep__a0_for_s_over_a0(t, s, a0, tau):
    t = np.asarray(t, dtype=float)
    s = np.asarray(s, dtype=float)
    e = np.exp(2.0 * s * t / tau)
    return s * e / (e - 1.0 + a0)


@mistake(item="A4", replaces="analytic_shallow",
         feedback="tau is missing from eq. (5): the shallow mode relaxes as e^{-t / tau}.")
def analytic_shallow__missing_tau(t, s, b0, tau):
    t = np.asarray(t, dtype=float)
    s = np.asarray(s, dtype=float)
    return s * (1.0 - np.exp(-t)) + b0 * np.exp(-t)


@mistake(item="A4", replaces="analytic_shallow",
         feedback="The initial condition is missing from eq. (5): add b0 e^{-t / tau} (check b(0) = b0).")
def analytic_shallow__no_b0(t, s, b0, tau):
    t = np.asarray(t, dtype=float)
    s = np.asarray(s, dtype=float)
    return s * (1.0 - np.exp(-t / tau))


# --- A7 ----------------------------------------------------------------------


@mistake(item="A7", replaces="DeepNonLinearNetwork.__init__",
         feedback="There is a ReLU after the output layer too: the output cannot be negative then, so the "
                  "-1 targets cannot be learned; put ReLUs after the hidden layers only.")
def DeepNonLinearNetwork_init__relu_on_output(self, input_dim, output_dim, hidden_units):
    super().__init__()
    sizes = [input_dim, *hidden_units, output_dim]
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out, bias=False), nn.ReLU()]
    self.layers = nn.Sequential(*layers)


@mistake(item="A7", replaces="DeepLinearNetwork.__init__",
         feedback="The linear layers have biases; the network of the sheet is bias-free "
                  "(nn.Linear(n_in, n_out, bias=False)).")
def DeepLinearNetwork_init__with_bias(self, input_dim, output_dim, hidden_units):
    super().__init__()
    sizes = [input_dim, *hidden_units, output_dim]
    self.layers = nn.Sequential(*[nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])])


# --- A8 ----------------------------------------------------------------------


@mistake(item="A8", replaces="train_network",
         feedback="optimizer.zero_grad() is never called, so gradients accumulate over the steps; "
                  "call it before each backward().")
def train_network__no_zero_grad(network, loss_func, optimizer, num_epochs, inputs, targets):
    x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(targets), dtype=torch.float32)
    n_samples, input_dim = x.shape
    n_modes = min(input_dim, y.shape[1])
    loss_log = np.zeros(num_epochs)
    singular_values = np.zeros((num_epochs, n_modes))
    for epoch in range(num_epochs):
        total = 0.0
        for i in torch.randperm(n_samples).tolist():
            loss = loss_func(network(x[i]), y[i])
            loss.backward()
            optimizer.step()
            total += loss.item()
        loss_log[epoch] = total / n_samples
        with torch.no_grad():
            io_map = network(torch.eye(input_dim)).double().numpy()
        if np.all(np.isfinite(io_map)):
            singular_values[epoch] = np.linalg.svd(io_map, compute_uv=False)[:n_modes]
        else:
            singular_values[epoch] = np.nan
    return loss_log, singular_values


@mistake(item="A8", replaces="train_network",
         feedback="The samples are visited in the same order every epoch; draw a new permutation "
                  "(torch.randperm) at the start of each epoch.")
def train_network__no_shuffle(network, loss_func, optimizer, num_epochs, inputs, targets):
    x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(targets), dtype=torch.float32)
    n_samples, input_dim = x.shape
    n_modes = min(input_dim, y.shape[1])
    loss_log = np.zeros(num_epochs)
    singular_values = np.zeros((num_epochs, n_modes))
    for epoch in range(num_epochs):
        total = 0.0
        for i in range(n_samples):
            optimizer.zero_grad()
            loss = loss_func(network(x[i]), y[i])
            loss.backward()
            optimizer.step()
            total += loss.item()
        loss_log[epoch] = total / n_samples
        with torch.no_grad():
            io_map = network(torch.eye(input_dim)).double().numpy()
        if np.all(np.isfinite(io_map)):
            singular_values[epoch] = np.linalg.svd(io_map, compute_uv=False)[:n_modes]
        else:
            singular_values[epoch] = np.nan
    return loss_log, singular_values


@mistake(item="A8", replaces="train_network",
         feedback="loss_log holds the sum of the per-sample losses of an epoch; the contract asks for "
                  "their mean (divide by the number of samples).")
def train_network__loss_sum(network, loss_func, optimizer, num_epochs, inputs, targets):
    x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(targets), dtype=torch.float32)
    n_samples, input_dim = x.shape
    n_modes = min(input_dim, y.shape[1])
    loss_log = np.zeros(num_epochs)
    singular_values = np.zeros((num_epochs, n_modes))
    for epoch in range(num_epochs):
        total = 0.0
        for i in torch.randperm(n_samples).tolist():
            optimizer.zero_grad()
            loss = loss_func(network(x[i]), y[i])
            loss.backward()
            optimizer.step()
            total += loss.item()
        loss_log[epoch] = total
        with torch.no_grad():
            io_map = network(torch.eye(input_dim)).double().numpy()
        if np.all(np.isfinite(io_map)):
            singular_values[epoch] = np.linalg.svd(io_map, compute_uv=False)[:n_modes]
        else:
            singular_values[epoch] = np.nan
    return loss_log, singular_values


@mistake(item="A8", replaces="train_network",
         feedback="The singular values are in ascending order; report them descending (mode 1 = the largest), "
                  "as np.linalg.svd returns them.")
def train_network__sv_ascending(network, loss_func, optimizer, num_epochs, inputs, targets):
    x = torch.as_tensor(np.asarray(inputs), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(targets), dtype=torch.float32)
    n_samples, input_dim = x.shape
    n_modes = min(input_dim, y.shape[1])
    loss_log = np.zeros(num_epochs)
    singular_values = np.zeros((num_epochs, n_modes))
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
            io_map = network(torch.eye(input_dim)).double().numpy()
        singular_values[epoch] = np.sort(np.linalg.svd(io_map, compute_uv=False)[:n_modes])
    return loss_log, singular_values


# --- A9 ----------------------------------------------------------------------


@mistake(item="A9", replaces="convergence_epochs",
         feedback="The epochs are counted from 1; the contract asks for the 0-based index of the first "
                  "epoch that reaches frac * s.")
def convergence_epochs__one_based(singular_values, s, frac=0.9):
    curves = np.asarray(singular_values, dtype=float)
    reached = curves >= frac * np.asarray(s, dtype=float)
    first = np.argmax(reached, axis=0) + 1
    return np.where(reached.any(axis=0), first, -1).astype(int)


@mistake(item="A9", replaces="convergence_epochs",
         feedback="A mode counts as converged once it reaches frac * s (>=), not only when it exceeds it (>).")
def convergence_epochs__strict(singular_values, s, frac=0.9):
    curves = np.asarray(singular_values, dtype=float)
    reached = curves > frac * np.asarray(s, dtype=float)
    first = np.argmax(reached, axis=0)
    return np.where(reached.any(axis=0), first, -1).astype(int)


@mistake(item="A9", replaces="convergence_epochs",
         feedback="A mode that never reaches frac * s must give -1, not 0 (np.argmax of an all-False "
                  "column is 0).")
def convergence_epochs__never_is_zero(singular_values, s, frac=0.9):
    curves = np.asarray(singular_values, dtype=float)
    reached = curves >= frac * np.asarray(s, dtype=float)
    return np.argmax(reached, axis=0).astype(int)


# --- A5-figure: the notebook's mode plot (each mutant is the figure a notebook with that mistake draws) ------


@mistake(item="A5-figure", replaces="_notebook_figure_a5",
         feedback="Your notebook draws no curve of the shallow network's modes: plot the singular values of W "
                  "from simulate_modes(...)['shallow'] against time (and eq. (5) over them); they relax "
                  "exponentially, with no plateau.")
def _notebook_figure_a5__no_shallow_modes():
    from matplotlib.figure import Figure

    rng = np.random.default_rng(0)
    std = np.sqrt(INIT_VARIANCE)
    w1 = rng.normal(0.0, std, (HIDDEN_DIM, SIGMA_X.shape[0]))
    w2 = rng.normal(0.0, std, (SIGMA_YX.shape[0], HIDDEN_DIM))
    w = rng.normal(0.0, std, SIGMA_YX.shape)
    t = np.arange(N_STEPS + 1) * DT
    s = np.linalg.svd(SIGMA_YX, compute_uv=False)
    fig = Figure(figsize=(5.0, 3.6))
    ax = fig.subplots()
    ax.plot(t, simulate_modes(w1, w2, w, DT, TAU, SIGMA_X, SIGMA_YX, N_STEPS)["deep"], "-")
    ax.plot(t, analytic_deep(t[:, None], s[None, :], A0, TAU), "--")
    return fig


@mistake(item="A5-figure", replaces="_notebook_figure_a5",
         feedback="Your notebook draws no curve of the deep network's modes: plot the singular values of W2 W1 "
                  "from simulate_modes(...)['deep'] against time (and eq. (4) over them); they are sigmoidal, "
                  "a plateau and then a sudden rise.")
def _notebook_figure_a5__no_deep_modes():
    from matplotlib.figure import Figure

    rng = np.random.default_rng(0)
    std = np.sqrt(INIT_VARIANCE)
    w1 = rng.normal(0.0, std, (HIDDEN_DIM, SIGMA_X.shape[0]))
    w2 = rng.normal(0.0, std, (SIGMA_YX.shape[0], HIDDEN_DIM))
    w = rng.normal(0.0, std, SIGMA_YX.shape)
    t = np.arange(N_STEPS + 1) * DT
    s = np.linalg.svd(SIGMA_YX, compute_uv=False)
    fig = Figure(figsize=(5.0, 3.6))
    ax = fig.subplots()
    ax.plot(t, simulate_modes(w1, w2, w, DT, TAU, SIGMA_X, SIGMA_YX, N_STEPS)["shallow"], "-")
    ax.plot(t, analytic_shallow(t[:, None], s[None, :], B0, TAU), "--")
    return fig

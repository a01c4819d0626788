"""Known mistakes for assignment C, items C6-C10 (``reference/narrow_networks.py``).

Each function is self-contained source: the grader cuts it out, renames it to
``replaces`` and appends it to the reference module (``Class.method`` targets
are patched onto the class), so it may use the reference module's imports and
names (``np``, ``math``, ``nn``, ``loss``, ``learning_time``, ...).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from reference.mistakes import mistake


# --- C6 ---------------------------------------------------------------------
@mistake(item="C6", replaces="loss",
         feedback="The loss is the mean squared error: average the squared errors over samples, do not sum them.")
def loss__sum_instead_of_mean(y_prediction, y_true):
    return ((y_true - y_prediction) ** 2).sum()


@mistake(item="C6", replaces="ShallowNarrowExercise.dloss_dw",
         feedback="The loss is a mean over samples, so its gradient is a mean too: you summed over samples.")
def ShallowNarrowExercise_dloss_dw__sum_instead_of_mean(self, x, y_true):
    err = y_true - self.w1 * self.w2 * x
    return -(2 * self.w2 * x * err).sum(), -(2 * self.w1 * x * err).sum()


@mistake(item="C6", replaces="ShallowNarrowExercise.dloss_dw",
         feedback="d/dw of (y - w1 w2 x)^2 is -2 (y - w1 w2 x) x times the other weight: you dropped the factor 2.")
def ShallowNarrowExercise_dloss_dw__missing_factor_2(self, x, y_true):
    err = y_true - self.w1 * self.w2 * x
    return -(self.w2 * x * err).mean(), -(self.w1 * x * err).mean()


@mistake(item="C6", replaces="ShallowNarrowExercise.train",
         feedback="Update both weights from the gradient at the old weights: you recomputed dL/dw2 after "
                  "already changing w1.")
def ShallowNarrowExercise_train__sequential_update(self, x, y_true, lr, n_ep):
    loss_records = np.empty(n_ep)
    weight_records = np.empty((n_ep, 2))
    for i in range(n_ep):
        loss_records[i] = loss(self.forward(x), y_true)  # noqa: F821 - the reference's loss
        dloss_dw1, _ = self.dloss_dw(x, y_true)
        self.w1 -= lr * dloss_dw1
        _, dloss_dw2 = self.dloss_dw(x, y_true)
        self.w2 -= lr * dloss_dw2
        weight_records[i] = [self.w1, self.w2]
    return loss_records, weight_records


# --- C7 ---------------------------------------------------------------------
@mistake(item="C7", replaces="DeepNarrowLNN.dloss_dw",
         feedback="dL/dw_i is the gradient w.r.t. the product times the product of all *other* weights; "
                  "you used the same gradient for every weight.")
def DeepNarrowLNN_dloss_dw__missing_other_weights(self, x, y_t):
    err = y_t - self.forward(x)
    return -2 * (err * x).mean() * np.ones_like(self.w)


@mistake(item="C7", replaces="DeepNarrowLNN.dloss_dw",
         feedback="dL/dw_i multiplies by the product of the other weights, prod(w) / w_i, not by prod(w).")
def DeepNarrowLNN_dloss_dw__full_product(self, x, y_t):
    err = y_t - self.forward(x)
    return -2 * (err * x).mean() * np.prod(self.w) * np.ones_like(self.w)


@mistake(item="C7", replaces="learning_time",
         feedback="The learning time is the first epoch whose loss is at or below the threshold (0-based), "
                  "not the number of such epochs.")
def learning_time__counts_epochs_below(losses, threshold):
    below = np.asarray(losses, dtype=float) <= threshold
    return int(below.sum()) if below.any() else -1


@mistake(item="C7", replaces="depth_learning_times",
         feedback="Each chain starts at w_i = init_weight + init_std * z_i with z_i ~ N(0, 1) from rng: you "
                  "ignored init_std and started every weight at init_weight.")
def depth_learning_times__ignores_init_std(depths, x, y, lr=0.01, init_weight=0.9, n_ep=1000,
                                           frac=0.01, init_std=0.0, rng=None):
    threshold = _learned_threshold(x, y, frac)  # noqa: F821 - the reference's helper
    times = []
    for depth in depths:
        w0 = np.full(depth + 1, float(init_weight))
        with np.errstate(over="ignore", invalid="ignore"):
            losses, _ = DeepNarrowLNN(w0).train(x, y, lr, n_ep)  # noqa: F821
        times.append(learning_time(losses, threshold))  # noqa: F821
    return np.array(times, dtype=int)


# --- C8 ---------------------------------------------------------------------
@mistake(item="C8", replaces="lr_regime",
         feedback="A single increase of the loss does not make training chaotic: the rule is increases in "
                  "more than 10% of the steps.")
def lr_regime__any_increase_is_chaotic(losses):
    L = np.asarray(losses, dtype=float).ravel()
    T = L.size
    if not np.all(np.isfinite(L)) or L[-1] > L[0]:
        return "diverged"
    if np.any(L[1:] > L[:-1] * (1 + 1e-6)):
        return "chaotic"
    if L[-1] > 0.9 * L[0]:
        return "too_small"
    k = max(1, math.ceil(0.1 * (T - 1)))
    if L[T - 1 - k] - L[T - 1] <= 0.01 * (L[0] - L[T - 1]):
        return "right"
    return "slow"


@mistake(item="C8", replaces="lr_regime",
         feedback="A loss that ends above where it started has diverged even if it is still finite.")
def lr_regime__diverged_only_if_not_finite(losses):
    L = np.asarray(losses, dtype=float).ravel()
    T = L.size
    if not np.all(np.isfinite(L)):
        return "diverged"
    if np.sum(L[1:] > L[:-1] * (1 + 1e-6)) > 0.1 * (T - 1):
        return "chaotic"
    if L[-1] > 0.9 * L[0]:
        return "too_small"
    k = max(1, math.ceil(0.1 * (T - 1)))
    if L[T - 1 - k] - L[T - 1] <= 0.01 * (L[0] - L[T - 1]):
        return "right"
    return "slow"


@mistake(item="C8", replaces="lr_regime",
         feedback="'too_small' means less than 10% of the loss removed (final > 0.9 x initial); you used 50%.")
def lr_regime__too_small_threshold_half(losses):
    L = np.asarray(losses, dtype=float).ravel()
    T = L.size
    if not np.all(np.isfinite(L)) or L[-1] > L[0]:
        return "diverged"
    if np.sum(L[1:] > L[:-1] * (1 + 1e-6)) > 0.1 * (T - 1):
        return "chaotic"
    if L[-1] > 0.5 * L[0]:
        return "too_small"
    k = max(1, math.ceil(0.1 * (T - 1)))
    if L[T - 1 - k] - L[T - 1] <= 0.01 * (L[0] - L[T - 1]):
        return "right"
    return "slow"


@mistake(item="C8", replaces="max_stable_lr",
         feedback="Gradient descent is stable while |1 - eta lambda_max| < 1, i.e. eta < 2 / lambda_max; "
                  "1 / lambda_max is the fastest (optimal) rate, not the largest stable one.")
def max_stable_lr__one_over_lambda(depth, x, y):
    n = depth + 1
    m_xx = np.mean(np.asarray(x, dtype=float) ** 2)
    m_xy = np.mean(np.asarray(x, dtype=float) * np.asarray(y, dtype=float))
    p_star = abs(m_xy / m_xx)
    return float(1 / (2 * m_xx * n * p_star ** (2 * (n - 1) / n)))


@mistake(item="C8", replaces="max_stable_lr",
         feedback="A chain of depth D has D + 1 weights (D hidden layers); you counted D.")
def max_stable_lr__depth_weights(depth, x, y):
    n = depth
    m_xx = np.mean(np.asarray(x, dtype=float) ** 2)
    m_xy = np.mean(np.asarray(x, dtype=float) * np.asarray(y, dtype=float))
    p_star = abs(m_xy / m_xx)
    return float(2 / (2 * m_xx * n * p_star ** (2 * (n - 1) / n)))


# --- C9 ---------------------------------------------------------------------
@mistake(item="C9", replaces="init_learning_times",
         feedback="A depth-15 chain has 16 weights (15 hidden layers); you built it with 15.")
def init_learning_times__depth_weights(init_values, x, y, depth=15, lr=0.02, n_ep=100, frac=0.01):
    threshold = _learned_threshold(x, y, frac)  # noqa: F821 - the reference's helper
    times = []
    for v in init_values:
        with np.errstate(over="ignore", invalid="ignore"):
            losses, _ = DeepNarrowLNN(np.full(depth, float(v))).train(x, y, lr, n_ep)  # noqa: F821
        times.append(learning_time(losses, threshold))  # noqa: F821
    return np.array(times, dtype=int)


# --- C10 --------------------------------------------------------------------
@mistake(item="C10", replaces="ex_initializer_",
         feedback="The standard deviation is gamma / sqrt(n_in + n_out): you divided by n_in + n_out "
                  "without the square root.")
def ex_initializer___no_sqrt(model, gamma=1e-12):
    for weight in model.parameters():
        n_out, n_in = weight.shape
        nn.init.normal_(weight, mean=0.0, std=gamma / (n_in + n_out))


@mistake(item="C10", replaces="ex_initializer_",
         feedback="The standard deviation is gamma / sqrt(n_in + n_out), both fan-in and fan-out: you divided "
                  "by sqrt(n_out) only.")
def ex_initializer___fan_out_only(model, gamma=1e-12):
    for weight in model.parameters():
        n_out, n_in = weight.shape
        nn.init.normal_(weight, mean=0.0, std=gamma / math.sqrt(n_out))


@mistake(item="C10", replaces="ex_net_svd",
         feedback="torch.linalg.svd returns V^T (Vh); the function must return V, as torch.svd does "
                  "(transpose Vh).")
def ex_net_svd__returns_vh(model, in_dim):
    W_tot = torch.eye(in_dim)
    for weight in model.parameters():
        W_tot = weight @ W_tot
    U, S, Vh = torch.linalg.svd(W_tot, full_matrices=False)
    return U, S, Vh


@mistake(item="C10", replaces="ex_net_rsm",
         feedback="The representational similarity matrix compares items: h @ h.T (items x items), not h.T @ h.")
def ex_net_rsm__units_by_units(h):
    return h.T @ h


@mistake(item="C10", replaces="linear_regression",
         feedback="With one sample per column the normal equations use X X^T: W = Y X^T (X X^T)^-1, "
                  "not (X^T X)^-1.")
def linear_regression__xtx(X, Y):
    return Y @ X.T @ np.linalg.inv(X.T @ X)

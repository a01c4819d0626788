"""Known wrong versions of ``reference.backprop`` (B1-B6), one function each.

Each body is self-contained source: it is spliced into the reference module in
place of ``replaces``, so it may use any name of ``reference.backprop``. The
imports below only make the mutants callable directly (in the tests).
"""
from __future__ import annotations

import numpy as np

from reference.backprop import (  # noqa: F401  (used by the mutant bodies)
    N_INPUT,
    WEIGHT_SCALES,
    _plot_learning_curves,
    _sheet_data,
    accuracy,
    forward,
    gradients,
    train_with_scale,
)
from reference.mistakes import mistake


@mistake(item="B1", replaces="relu_prime",
         feedback="relu_prime must be 0 at u = 0 (use u > 0, not u >= 0): "
                  "applied to h = relu(u) >= 0, '>=' marks every unit as active.")
def relu_prime__step_at_zero(u):
    return (np.asarray(u) >= 0).astype(np.float64)


@mistake(item="B2", replaces="init_weights",
         feedback="weight_scale is the standard deviation of the weights: multiply unit "
                  "Gaussians by weight_scale, not by sqrt(weight_scale).")
def init_weights__scale_as_variance(n_h1, n_h2, weight_scale, rng):
    s = np.sqrt(weight_scale)
    W1 = s * rng.standard_normal((n_h1, N_INPUT))
    W2 = s * rng.standard_normal((n_h2, n_h1))
    W3 = s * rng.standard_normal((1, n_h2))
    return W1, W2, W3


@mistake(item="B4", replaces="gradients",
         feedback="Your gradients have the wrong sign: return dL/dW (with e = yhat - y); "
                  "the update W - lr*dW is done in train.")
def gradients__sign_flipped(W1, W2, W3, X, Y):
    h1, h2, yhat = forward(W1, W2, W3, X)
    e = Y - yhat
    d2 = (W3.T @ e) * (h2 > 0)
    d1 = (W2.T @ d2) * (h1 > 0)
    return d1 @ X.T, d2 @ h1.T, e @ h2.T


@mistake(item="B4", replaces="gradients",
         feedback="The loss is a sum over examples (L = 1/2 sum ||y - yhat||^2): "
                  "do not divide the gradients by P.")
def gradients__mean_instead_of_sum(W1, W2, W3, X, Y):
    h1, h2, yhat = forward(W1, W2, W3, X)
    P = X.shape[1]
    e = yhat - Y
    d2 = (W3.T @ e) * (h2 > 0)
    d1 = (W2.T @ d2) * (h1 > 0)
    return d1 @ X.T / P, d2 @ h1.T / P, e @ h2.T / P


@mistake(item="B4", replaces="gradients",
         feedback="Each layer's delta takes the ReLU derivative of its own layer: "
                  "delta2 uses relu'(u2) (layer 2), delta1 uses relu'(u1) (layer 1).")
def gradients__relu_derivative_wrong_layer(W1, W2, W3, X, Y):
    h1, h2, yhat = forward(W1, W2, W3, X)
    e = yhat - Y
    d2 = (W3.T @ e) * (h1 > 0)
    d1 = (W2.T @ d2) * (h2 > 0)
    return d1 @ X.T, d2 @ h1.T, e @ h2.T


@mistake(item="B5", replaces="accuracy",
         feedback="accuracy must be a fraction in [0, 1]: divide the number of correct "
                  "signs by the number of examples (np.mean).")
def accuracy__count_not_fraction(yhat, Y):
    return float(np.sum(np.sign(yhat) == Y))


@mistake(item="B6", replaces="train",
         feedback="Use the lr you are given on the gradient of the summed loss, W <- W - lr dL/dW: "
                  "dividing the step by P again (a mean gradient) turns the sheet's lr = 0.1/P into 0.1/P^2, "
                  "so training slows down as the data set grows.")
def train__step_divided_by_P(X_train, Y_train, X_test, Y_test, weights, lr, n_iter):
    W1, W2, W3 = (np.array(W, dtype=np.float64, copy=True) for W in weights)
    P = X_train.shape[1]
    curves = {k: np.empty(n_iter + 1) for k in ("train_loss", "test_loss", "train_acc", "test_acc")}
    for k in range(n_iter + 1):
        for X, Y, name in ((X_train, Y_train, "train"), (X_test, Y_test, "test")):
            yhat = forward(W1, W2, W3, X)[2]
            curves[f"{name}_loss"][k] = 0.5 * float(np.sum((Y - yhat) ** 2))
            curves[f"{name}_acc"][k] = accuracy(yhat, Y)
        if k < n_iter:
            dW1, dW2, dW3 = gradients(W1, W2, W3, X_train, Y_train)
            W1, W2, W3 = W1 - lr * dW1 / P, W2 - lr * dW2 / P, W3 - lr * dW3 / P
    return curves


@mistake(item="B6", replaces="train",
         feedback="Entry k of each curve is measured after k updates, entry 0 at the initial weights: "
                  "you recorded after each update, so the curves start one step late.")
def train__records_after_update(X_train, Y_train, X_test, Y_test, weights, lr, n_iter):
    W1, W2, W3 = (np.array(W, dtype=np.float64, copy=True) for W in weights)
    curves = {k: np.empty(n_iter + 1) for k in ("train_loss", "test_loss", "train_acc", "test_acc")}
    for k in range(n_iter + 1):
        dW1, dW2, dW3 = gradients(W1, W2, W3, X_train, Y_train)
        W1, W2, W3 = W1 - lr * dW1, W2 - lr * dW2, W3 - lr * dW3
        for X, Y, name in ((X_train, Y_train, "train"), (X_test, Y_test, "test")):
            yhat = forward(W1, W2, W3, X)[2]
            curves[f"{name}_loss"][k] = 0.5 * float(np.sum((Y - yhat) ** 2))
            curves[f"{name}_acc"][k] = accuracy(yhat, Y)
    return curves


# ----------------------------------------------------------------------------
# B12-curves: the notebook's learning curves (each mutant is the figure a notebook with that mistake draws;
# short runs: the check reads what a curve shows, not its numbers)


@mistake(item="B12-curves", replaces="_notebook_figure_b12_curves",
         feedback="Your notebook draws loss curves but no accuracy curve against the iteration: plot "
                  "train_acc and test_acc from train (fractions in [0, 1]) beside the losses.")
def _notebook_figure_b12_curves__no_accuracy():
    data = _sheet_data()
    rng = np.random.default_rng(0)
    runs = {f"scale {s:g}": train_with_scale(*data, s, rng, n_iter=100) for s in WEIGHT_SCALES}
    for curves in runs.values():
        curves["train_acc"] = curves["test_acc"] = np.full(0, np.nan)
    return _plot_learning_curves(runs)


@mistake(item="B12-curves", replaces="_notebook_figure_b12_curves",
         feedback="Your notebook draws no learning curves: plot the loss and the accuracy (train and test) "
                  "against the iteration, all n_iter + 1 entries of what train returns, in a cell that runs.")
def _notebook_figure_b12_curves__no_curves():
    from matplotlib.figure import Figure

    data = _sheet_data()
    rng = np.random.default_rng(0)
    final = [train_with_scale(*data, s, rng, n_iter=20)["test_acc"][-1] for s in WEIGHT_SCALES]
    fig = Figure(figsize=(4.0, 3.0))
    ax = fig.subplots()
    ax.bar([str(s) for s in WEIGHT_SCALES], final)
    ax.set_ylabel("final test accuracy")
    return fig

"""Known wrong versions of ``reference.backprop`` (B1-B6), one function each.

Each body is self-contained source: it is spliced into the reference module in
place of ``replaces``, so it may use any name of ``reference.backprop``. The
imports below only make the mutants callable directly (in the tests).
"""
from __future__ import annotations

import numpy as np

from reference.backprop import LR_SCALE, N_INPUT, forward, init_weights, train
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


@mistake(item="B6", replaces="train_with_scale",
         feedback="The sheet's learning rate is 0.1/P with P the number of training "
                  "examples; lr = 0.1 makes full-batch gradient descent diverge.")
def train_with_scale__lr_not_divided_by_P(X_train, Y_train, X_test, Y_test, weight_scale, rng,
                                          n_iter=5000, n_h1=50, n_h2=50):
    weights = init_weights(n_h1, n_h2, weight_scale, rng)
    return train(X_train, Y_train, X_test, Y_test, weights, LR_SCALE, n_iter)

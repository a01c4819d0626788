"""Known mistakes of assignment E (``reference/learning_time.py``).

Each function is spliced into the reference module in place of ``replaces``
(see :mod:`reference.mistakes`), so ``np`` and the reference's own functions
resolve there (a mutant of ``chain_grad`` is also what
``balanced_learning_time`` then calls).
"""
from __future__ import annotations

import numpy as np

from reference.mistakes import mistake

# --- E1 ----------------------------------------------------------------------


@mistake(item="E1", replaces="theta_rhs",
         feedback="Divide by tau: eq. (3) is tau dtheta/dt = s - c0 sinh(theta), so dtheta/dt = (s - c0 sinh theta)/tau.")
def theta_rhs__missing_tau(theta, s, c0, tau):
    return s - c0 * np.sinh(theta)


@mistake(item="E1", replaces="theta_rhs",
         feedback="You used the exact dynamics of eqs (1)-(2)'s coordinates, 2s - c0 sinh(theta); the assignment "
                  "takes eq. (3), s - c0 sinh(theta), as the definition (see the note on the factor 2).")
def theta_rhs__coordinates_of_eq_1(theta, s, c0, tau):
    return (2.0 * s - c0 * np.sinh(theta)) / tau


@mistake(item="E1", replaces="learning_time",
         feedback="Eq. (4) uses tanh(theta/2) (the substitution u = tanh(theta/2)), not tanh(theta).")
def learning_time__full_angle(theta0, theta_f, s, c0, tau):
    r = np.sqrt(np.square(c0) + np.square(s))

    def antiderivative(theta):
        u = np.tanh(np.asarray(theta, dtype=float))
        return np.log(np.abs((r + c0 + s * u) / (r - c0 - s * u)))

    return tau / r * (antiderivative(theta_f) - antiderivative(theta0))


@mistake(item="E1", replaces="learning_time",
         feedback="The prefactor of eq. (4) is tau / sqrt(c0^2 + s^2); the 1/sqrt(c0^2 + s^2) from the partial "
                  "fractions is missing.")
def learning_time__missing_root(theta0, theta_f, s, c0, tau):
    r = np.sqrt(np.square(c0) + np.square(s))

    def antiderivative(theta):
        u = np.tanh(np.asarray(theta, dtype=float) / 2.0)
        return np.log(np.abs((r + c0 + s * u) / (r - c0 - s * u)))

    return tau * (antiderivative(theta_f) - antiderivative(theta0))


@mistake(item="E1", replaces="learning_time",
         feedback="tau is missing from eq. (4): the time scales with tau.")
def learning_time__missing_tau(theta0, theta_f, s, c0, tau):
    r = np.sqrt(np.square(c0) + np.square(s))

    def antiderivative(theta):
        u = np.tanh(np.asarray(theta, dtype=float) / 2.0)
        return np.log(np.abs((r + c0 + s * u) / (r - c0 - s * u)))

    return (antiderivative(theta_f) - antiderivative(theta0)) / r


# --- E2 ----------------------------------------------------------------------


@mistake(item="E2", replaces="theta_fixed_point",
         feedback="The fixed point of eq. (3) is sinh(theta*) = s / c0; asinh(2 s / c0) belongs to the coordinates "
                  "of eqs (1)-(2), which the assignment does not use.")
def theta_fixed_point__factor_two(s, c0):
    return np.arcsinh(2.0 * np.asarray(s, dtype=float) / c0)


@mistake(item="E2", replaces="theta_fixed_point",
         feedback="s and c0 are swapped: setting eq. (3) to zero gives sinh(theta*) = s / c0.")
def theta_fixed_point__inverted(s, c0):
    return np.arcsinh(c0 / np.asarray(s, dtype=float))


@mistake(item="E2", replaces="theta_final",
         feedback="Learning stops short of the fixed point: sinh(theta_f) = (1 - eps) s / c0, not (1 + eps).")
def theta_final__eps_sign(s, c0, eps):
    return np.arcsinh((1.0 + eps) * np.asarray(s, dtype=float) / c0)


# --- E3 ----------------------------------------------------------------------


@mistake(item="E3", replaces="chain_loss",
         feedback="The error is squared: E = (1/2tau)(s - prod a)^2 (the source's eq. (5) drops the square, but "
                  "its derivatives, eqs (6)-(13), are those of the squared error).")
def chain_loss__no_square(a, s, tau):
    return float((s - np.prod(a)) / (2.0 * tau))


@mistake(item="E3", replaces="chain_loss",
         feedback="The factor 1/(2 tau) is missing from eq. (5).")
def chain_loss__missing_prefactor(a, s, tau):
    return float((s - np.prod(a)) ** 2)


@mistake(item="E3", replaces="chain_grad",
         feedback="The gradient has the wrong sign: dE/da_i = -(1/tau)(s - prod a) prod_{k != i} a_k.")
def chain_grad__sign(a, s, tau):
    a = np.asarray(a, dtype=float)
    return (s - np.prod(a)) * _products_without_one(a) / tau


@mistake(item="E3", replaces="chain_grad",
         feedback="1/tau is missing from eq. (6).")
def chain_grad__missing_tau(a, s, tau):
    a = np.asarray(a, dtype=float)
    return -(s - np.prod(a)) * _products_without_one(a)


@mistake(item="E3", replaces="chain_hessian",
         feedback="The off-diagonal entries miss the term -(s - prod a) prod_{k != i,j} a_k (you kept only the "
                  "Gauss-Newton part P_i P_j); it vanishes at the optimum only.")
def chain_hessian__gauss_newton(a, s, tau):
    a = np.asarray(a, dtype=float)
    p_i = _products_without_one(a)
    return np.outer(p_i, p_i) / tau


@mistake(item="E3", replaces="chain_hessian",
         feedback="The residual term has the wrong sign: d2E/da_i da_j = (1/tau)(P_i P_j - (s - P) P_ij).")
def chain_hessian__residual_sign(a, s, tau):
    a = np.asarray(a, dtype=float)
    n = a.size
    residual = s - np.prod(a)
    p_i = _products_without_one(a)
    p_ij = np.empty((n, n))
    for i in range(n):
        without_i = a.copy()
        without_i[i] = 1.0
        p_ij[i] = _products_without_one(without_i)
    hessian = np.outer(p_i, p_i) + residual * p_ij
    np.fill_diagonal(hessian, p_i**2)
    return hessian / tau


# --- E4 ----------------------------------------------------------------------


@mistake(item="E4", replaces="lambda1",
         feedback="A chain of N_l layers has N_l - 1 weights: the eigenvalue along (1, ..., 1) is "
                  "((2N_l - 3) a^(2N_l-4) - (N_l - 2) s a^(N_l-3)) / tau (you counted N_l weights).")
def lambda1__n_weights(a, s, n_layers, tau):
    a = np.asarray(a, dtype=float)
    n = n_layers + 1
    return ((2 * n - 3) * a ** (2 * n - 4) - (n - 2) * s * a ** (n - 3)) / tau


@mistake(item="E4", replaces="lambda1",
         feedback="That is the other eigenvalue, d - o = a^(N_l-3)(s - a^(N_l-1))/tau (multiplicity N_l - 2); "
                  "eq. (15) is d + (N_l - 2) o, for the eigenvector (1, ..., 1).")
def lambda1__other_eigenvalue(a, s, n_layers, tau):
    a = np.asarray(a, dtype=float)
    return a ** (n_layers - 3) * (s - a ** (n_layers - 1)) / tau


@mistake(item="E4", replaces="newton_step",
         feedback="The Newton step goes against the gradient: a^{t+1} = a^t - (dE/da_i) / lambda1.")
def newton_step__sign(a, s, n_layers, tau):
    a = np.asarray(a, dtype=float)
    n = n_layers
    u = a ** (n - 1)
    return a - a * (s - u) / ((2 * n - 3) * u - (n - 2) * s)


@mistake(item="E4", replaces="newton_step",
         feedback="The step must be divided by the curvature lambda1 (eq. (15)); without it this is a plain "
                  "gradient step with learning rate 1.")
def newton_step__gradient_only(a, s, n_layers, tau):
    a = np.asarray(a, dtype=float)
    return a + (s - a ** (n_layers - 1)) * a ** (n_layers - 2) / tau


@mistake(item="E4", replaces="newton_step",
         feedback="Eq. (18) gives the new weight a^{t+1}; you returned the change a^{t+1} - a^t (add a^t).")
def newton_step__change_only(a, s, n_layers, tau):
    a = np.asarray(a, dtype=float)
    n = n_layers
    u = a ** (n - 1)
    return a * (s - u) / ((2 * n - 3) * u - (n - 2) * s)


@mistake(item="E4", replaces="lambda1_opt",
         feedback="The factor is N_l - 1 (the number of weights), not N_l: lambda1_opt = (N_l - 1) s^(2 - 2/(N_l-1)) / tau.")
def lambda1_opt__n_layers(s, n_layers, tau):
    return n_layers * np.asarray(s, dtype=float) ** (2.0 - 2.0 / (n_layers - 1)) / tau


@mistake(item="E4", replaces="lambda1_opt",
         feedback="At the optimum a = s^(1/(N_l-1)) the power of s is 2 - 2/(N_l - 1), not 2.")
def lambda1_opt__s_squared(s, n_layers, tau):
    return (n_layers - 1) * np.asarray(s, dtype=float) ** 2 / tau


# --- E5 ----------------------------------------------------------------------


@mistake(item="E5", replaces="optimal_lr",
         feedback="2 / lambda1 is the largest stable learning rate; the optimal one (Newton's step) is 1 / lambda1.")
def optimal_lr__max_stable(s, n_layers, tau):
    return 2.0 / lambda1_opt(s, n_layers, tau)


@mistake(item="E5", replaces="optimal_lr",
         feedback="The optimal learning rate is 1 / lambda1_opt including tau: tau / ((N_l - 1) s^(2 - 2/(N_l-1))).")
def optimal_lr__missing_tau(s, n_layers, tau):
    return 1.0 / ((n_layers - 1) * np.asarray(s, dtype=float) ** (2.0 - 2.0 / (n_layers - 1)))


# --- E6 ----------------------------------------------------------------------


@mistake(item="E6", replaces="t3",
         feedback="The logarithm is inverted: t3 = c ln(uf (s - u0) / (u0 (s - uf))), positive for u0 < uf.")
def t3__inverted_log(u0, uf, s, c):
    return c * np.log(u0 * (s - uf) / (uf * (s - u0)))


@mistake(item="E6", replaces="t3",
         feedback="The learning time is proportional to c (the learning rate is optimal_lr / c): multiply by c.")
def t3__divides_by_c(u0, uf, s, c):
    return np.log(uf * (s - u0) / (u0 * (s - uf))) / c


@mistake(item="E6", replaces="t_inf",
         feedback="The extra term of the infinitely deep network is + s/u0 - s/uf (the integral of s/u^2), "
                  "which is positive for u0 < uf.")
def t_inf__correction_sign(u0, uf, s, c):
    return c * (np.log(uf * (s - u0) / (u0 * (s - uf))) + s / uf - s / u0)


@mistake(item="E6", replaces="t_inf",
         feedback="The logarithmic term is missing from eq. (22): s^2/(u^2 (s - u)) = s/u^2 + 1/u + 1/(s - u).")
def t_inf__no_log(u0, uf, s, c):
    return c * (s / u0 - s / uf)


# --- E7 ----------------------------------------------------------------------


@mistake(item="E7", replaces="balanced_learning_time",
         feedback="The balanced start puts every weight at u0^(1/(N_l - 1)) so that their product is u0; "
                  "you started every weight at u0.")
def balanced_learning_time__start_at_u0(s, n_layers, u0, eps, lr_scale=1.0, tau=1.0):
    # from prod = u0^(N_l-1) a deep chain is stuck at the saddle: give up early (a student's loop would time out)
    a = np.full(n_layers - 1, float(u0))
    lr = lr_scale / lambda1_opt(s, n_layers, tau)
    target = (1.0 - eps) * s
    n_iter = 0
    while np.prod(a) < target:
        a = a - lr * chain_grad(a, s, tau)
        n_iter += 1
        if n_iter > 20_000 or not np.all(np.isfinite(a)):
            raise RuntimeError(f"no convergence after {n_iter} updates (lr_scale={lr_scale})")
    return n_iter


@mistake(item="E7", replaces="balanced_learning_time",
         feedback="Count the updates, not the checks: the loop runs while prod a < (1 - eps) s, and the result "
                  "is the number of updates made (0 if the start is already there).")
def balanced_learning_time__off_by_one(s, n_layers, u0, eps, lr_scale=1.0, tau=1.0):
    a = np.full(n_layers - 1, float(u0) ** (1.0 / (n_layers - 1)))
    lr = lr_scale / lambda1_opt(s, n_layers, tau)
    target = (1.0 - eps) * s
    n_iter = 1
    while np.prod(a) < target:
        a = a - lr * chain_grad(a, s, tau)
        n_iter += 1
        if n_iter > 10_000_000 or not np.all(np.isfinite(a)):
            raise RuntimeError(f"no convergence after {n_iter} updates (lr_scale={lr_scale})")
    return n_iter
